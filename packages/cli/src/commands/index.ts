// Every subcommand of `mkimage`, in the order `--help` lists them. Each lives in its own module.
import type { CommandModule } from 'yargs';
import { buildCommand } from './build.js';
import { fetchCommand } from './fetch.js';
import { fsCommand } from './fs.js';
import { runCommand } from './run.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [buildCommand, fetchCommand, fsCommand, runCommand];
