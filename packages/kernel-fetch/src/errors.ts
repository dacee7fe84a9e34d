// Error classes of the archive client. Each has a stable `code` (what callers and the CLI switch on),
// a `data` payload naming the file/package involved, and a one-line message saying what to do.

export type ErrorData = Record<string, unknown>;

/** Base class: `code` is stable across releases; `message` is one line for humans. */
export class KernelFetchError extends Error {
  readonly code: string;
  readonly data: ErrorData;
  constructor(code: string, message: string, data: ErrorData = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.data = data;
  }
  toJSON(): { name: string; code: string; message: string; data: ErrorData } {
    return { name: this.name, code: this.code, message: this.message, data: this.data };
  }
}

/** No Debian mirror could be found (flag, environment or apt sources). */
export class NoMirrorError extends KernelFetchError {
  static readonly code = 'E_NO_MIRROR';
  constructor(message: string, data: ErrorData = {}) {
    super(NoMirrorError.code, message, data);
  }
}

/** An InRelease file whose signature is missing, bad, or made only by keys we do not trust. */
export class SignatureError extends KernelFetchError {
  static readonly code = 'E_SIGNATURE';
  constructor(file: string, reason: string, data: ErrorData = {}) {
    super(SignatureError.code, `${file}: ${reason}`, { file, reason, ...data });
  }
}

/** An InRelease past its Valid-Until (or dated in the future). */
export class ExpiredError extends KernelFetchError {
  static readonly code = 'E_EXPIRED';
  constructor(file: string, reason: string, data: ErrorData = {}) {
    super(ExpiredError.code, `${file}: ${reason}`, { file, reason, ...data });
  }
}

/** A file whose SHA256 or size differs from what a signed index (or the lockfile) says. */
export class HashMismatchError extends KernelFetchError {
  static readonly code = 'E_HASH_MISMATCH';
  constructor(data: { file: string; expected: string; actual: string; listedIn: string; what?: string }) {
    const what = data.what ?? 'SHA256';
    super(
      HashMismatchError.code,
      `${data.file}: ${what} ${data.actual} does not match ${data.expected} listed in ${data.listedIn}; the mirror copy is corrupt or tampered with (try again or use another mirror)`,
      data,
    );
  }
}

/** A package (or an index file) the archive does not have. */
export class NotFoundError extends KernelFetchError {
  static readonly code = 'E_NOT_FOUND';
  constructor(message: string, data: ErrorData = {}) {
    super(NotFoundError.code, message, data);
  }
}

/** A dependency no available package version satisfies. */
export class UnsatisfiableError extends KernelFetchError {
  static readonly code = 'E_UNSATISFIABLE';
  constructor(message: string, data: ErrorData = {}) {
    super(UnsatisfiableError.code, message, data);
  }
}

/** A download that kept failing (network error, HTTP status, truncated body). */
export class DownloadError extends KernelFetchError {
  static readonly code = 'E_DOWNLOAD';
  constructor(url: string, reason: string, data: ErrorData = {}, options?: { cause?: unknown }) {
    super(DownloadError.code, `${url}: ${reason}`, { url, reason, ...data }, options);
  }
}

/** --offline, and the cache lacks something the build needs. */
export class OfflineMissError extends KernelFetchError {
  static readonly code = 'E_OFFLINE_MISS';
  constructor(what: string, data: ErrorData = {}) {
    super(
      OfflineMissError.code,
      `${what} is not in the cache and --offline forbids downloading it; run once without --offline to fill the cache`,
      { what, ...data },
    );
  }
}

/** A malformed or inconsistent mkimage.lock. */
export class LockError extends KernelFetchError {
  static readonly code = 'E_LOCK';
  constructor(message: string, data: ErrorData = {}) {
    super(LockError.code, message, data);
  }
}

/** Malformed archive metadata (InRelease, Packages, apt sources). */
export class FormatError extends KernelFetchError {
  static readonly code = 'E_FORMAT';
  constructor(file: string, reason: string, data: ErrorData = {}) {
    super(FormatError.code, `${file}: ${reason}`, { file, reason, ...data });
  }
}

/** A broken invariant inside this package: a bug, not bad input. */
export class InternalError extends KernelFetchError {
  static readonly code = 'E_INTERNAL';
  constructor(message: string, data: ErrorData = {}) {
    super(InternalError.code, `BUG: ${message} (please report this)`, data);
  }
}
