// Errors for .deb reading and extraction. Messages are one line naming the .deb, the member and,
// where there is one, the entry; `data` carries the same facts for programs.

export interface DebErrorData {
  deb: string;
  member?: string;
  entry?: string;
  reason: string;
}

function where(d: DebErrorData): string {
  return [d.deb, d.member, d.entry].filter((s) => s !== undefined && s !== '').join(': ');
}

/** The file is not a well-formed .deb (ar container, members, tar stream). */
export class DebFormatError extends Error {
  static readonly code = 'E_DEB_FORMAT';
  readonly code = DebFormatError.code;
  constructor(readonly data: DebErrorData) {
    super(`${where(data)}: ${data.reason}; the .deb is damaged or not a Debian package, download it again`);
    this.name = 'DebFormatError';
  }
  toJSON(): object {
    return { code: this.code, message: this.message, data: this.data };
  }
}

/** An entry would be written outside the destination (.., absolute path, through a symlink). */
export class DebUnsafePathError extends Error {
  static readonly code = 'E_DEB_UNSAFE_PATH';
  readonly code = DebUnsafePathError.code;
  constructor(readonly data: DebErrorData) {
    super(`${where(data)}: ${data.reason}; refusing to extract this package`);
    this.name = 'DebUnsafePathError';
  }
  toJSON(): object {
    return { code: this.code, message: this.message, data: this.data };
  }
}

/** Extraction failed on the destination side (conflicting file, missing hard-link target...). */
export class DebExtractError extends Error {
  static readonly code = 'E_DEB_EXTRACT';
  readonly code = DebExtractError.code;
  constructor(readonly data: DebErrorData & { dest: string }) {
    super(`${where(data)}: cannot extract into ${data.dest}: ${data.reason}`);
    this.name = 'DebExtractError';
  }
  toJSON(): object {
    return { code: this.code, message: this.message, data: this.data };
  }
}
