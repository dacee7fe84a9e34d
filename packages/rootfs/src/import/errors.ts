export class ImportError extends Error {
  readonly code = 'E_IMPORT';
  constructor(message: string, readonly data: { path: string; offset?: number }) {
    super(message);
    this.name = 'ImportError';
  }
}
