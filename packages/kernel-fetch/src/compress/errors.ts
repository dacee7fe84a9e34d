// Errors raised while decoding compressed data. One class, one stable code; `data.what` names the
// thing being decoded (e.g. "linux-image.deb: data.tar.xz") so the one-line message is actionable.

export type CompressionKind = 'xz' | 'zst' | 'gz' | 'none';

export interface DecompressErrorData {
  /** What was being decoded, as the caller named it ("<file>: <member>"). */
  what: string;
  format: CompressionKind;
  reason: string;
}

export class DecompressError extends Error {
  static readonly code = 'E_DECOMPRESS';
  readonly code = DecompressError.code;
  constructor(readonly data: DecompressErrorData) {
    super(`${data.what}: corrupt ${data.format} data (${data.reason}); the file is damaged or truncated, download it again`);
    this.name = 'DecompressError';
  }
  toJSON(): object {
    return { code: this.code, message: this.message, data: this.data };
  }
}

/** An invariant of this module was broken: a bug, not bad input. */
export class CompressInternalError extends Error {
  static readonly code = 'E_INTERNAL';
  readonly code = CompressInternalError.code;
  constructor(message: string) {
    super(`BUG: ${message}; please report it`);
    this.name = 'CompressInternalError';
  }
}
