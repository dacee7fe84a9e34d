// Errors a build reports to its caller. Each has a stable `code` and a one-line message naming the
// thing that is wrong and what to do about it.
export class BuildError extends Error {
  constructor(readonly code: string, message: string, readonly data: Record<string, unknown> = {}) {
    super(message);
    this.name = 'BuildError';
  }
}
