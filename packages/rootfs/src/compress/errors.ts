// Errors of the compression layer, with stable codes.

export type CompressErrorCode = 'E_COMPRESS_UNSUPPORTED' | 'E_COMPRESS_OPTION' | 'E_COMPRESS_INTERNAL';

export class CompressError extends Error {
  constructor(readonly code: CompressErrorCode, message: string, readonly data: { method: string; level?: number; reason?: string }) {
    super(message);
    this.name = 'CompressError';
  }
}
