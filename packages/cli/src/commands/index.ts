// Every subcommand of `mkimage`. Each lives in its own module and is loaded only when it runs (or
// for --help), so a command's start-up pays for nothing else (`mkimage run` should start QEMU fast).
import type { CommandModule } from 'yargs';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCommand = CommandModule<any, any>;

/** In the order `--help` lists them; `build` is the default command (`mkimage <app>`). */
const LOADERS: Record<string, () => Promise<AnyCommand>> = {
  build: () => import('./build.js').then((m) => m.buildCommand),
  fetch: () => import('./fetch.js').then((m) => m.fetchCommand),
  fs: () => import('./fs.js').then((m) => m.fsCommand),
  run: () => import('./run.js').then((m) => m.runCommand),
};

/** The command modules these arguments need: the named subcommand, or all of them for bare help. */
export async function commandsFor(argv: readonly string[]): Promise<AnyCommand[]> {
  const first = argv.find((a) => !a.startsWith('-'));
  const wantsHelp = argv.length === 0 || argv.some((a) => a === '--help' || a === '-h' || a === '--version');
  const names = first !== undefined && first !== 'build' && first in LOADERS
    ? [first]
    : wantsHelp && first === undefined ? Object.keys(LOADERS) : ['build'];
  return Promise.all(names.map((n) => LOADERS[n]!()));
}
