// How the CLI reports a failure: one line for errors we expect (they carry a `code`), a `BUG:` line
// plus the stack for everything else.

/**
 * An expected failure whose stable `code` ('E_...') is chosen where it is thrown, with a `data`
 * payload for programs. Subclasses only name the area (BuildError, JavaError, ...).
 */
export class CodeError extends Error {
  constructor(readonly code: string, message: string, readonly data: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
  }
}

/** Prints the error and returns the exit status to use. */
export function reportError(err: unknown): number {
  const e = err as { code?: unknown; message?: unknown; stack?: unknown };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (code === 'E_USAGE') {
    process.stderr.write(`mkimage: ${String(e.message)} (see mkimage --help)\n`);
    return 2;
  }
  if (code && code.startsWith('E_') && code !== 'E_INTERNAL') {
    process.stderr.write(`mkimage: ${String(e.message).split('\n')[0]}\n`);
    return 1;
  }
  process.stderr.write(`mkimage: BUG: ${String(e?.message ?? err)}\n${String(e?.stack ?? '')}\nPlease report this with the command you ran.\n`);
  return 70;
}
