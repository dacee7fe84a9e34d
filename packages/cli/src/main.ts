#!/usr/bin/env node
// The `mkimage` command: a thin yargs layer over the library API.
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { commandsFor } from './commands/index.js';
import { reportError } from './errors.js';

/** This package's version: yargs finds no package.json for an ES module and would say "unknown". */
function ownVersion(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

async function main(argv: string[]): Promise<void> {
  let cli = yargs(argv)
    .scriptName('mkimage')
    .usage('$0 <app> -o <out> [options]\n\nTurns an application (a runnable JAR or an x86-64 ELF) into a minimal bootable machine image.')
    .parserConfiguration({ 'populate--': true })
    .strict()
    .help()
    .alias('h', 'help')
    .version(ownVersion())
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err) throw err;
      throw Object.assign(new Error(msg), { code: 'E_USAGE' });
    });
  for (const command of await commandsFor(argv)) cli = cli.command(command);
  await cli.parseAsync();
}

main(hideBin(process.argv)).catch((err) => {
  process.exitCode = reportError(err);
});
