export class ContentsFormatError extends Error {
  static readonly code = 'E_CONTENTS_FORMAT';
  readonly code = ContentsFormatError.code;
  constructor(readonly data: { what: string; line: number; reason: string }) {
    super(`${data.what} line ${data.line}: ${data.reason}; the Contents index is damaged, download it again`);
    this.name = 'ContentsFormatError';
  }
  toJSON(): object {
    return { code: this.code, message: this.message, data: this.data };
  }
}
