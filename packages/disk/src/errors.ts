// Error classes of the disk package. Each has a stable `code` (the CLI prints expected errors, those
// whose code starts with E_, as one line) and a `data` payload for programs.

export class DiskError<D extends object = Record<string, unknown>> extends Error {
  constructor(readonly code: string, message: string, readonly data: D) {
    super(message);
    this.name = new.target.name;
  }
  toJSON(): { code: string; message: string; data: D } {
    return { code: this.code, message: this.message, data: this.data };
  }
}

/** Content does not fit the size asked for (a partition, the disk, a FAT volume). */
export class TooSmallError extends DiskError<{ what: string; needed: number; available: number }> {
  static readonly code = 'E_TOO_SMALL';
  constructor(message: string, data: { what: string; needed: number; available: number }) {
    super(TooSmallError.code, message, data);
  }
}

/** An option value that cannot be used (bad GUID, size not a multiple of the sector, ...). */
export class InvalidOptionError extends DiskError<{ option: string; value: unknown }> {
  static readonly code = 'E_DISK_OPTION';
  constructor(message: string, data: { option: string; value: unknown }) {
    super(InvalidOptionError.code, message, data);
  }
}

/** A tree entry the FAT writer cannot represent (type, name, clash). */
export class FatEntryError extends DiskError<{ path: string; reason: string }> {
  static readonly code = 'E_FAT_ENTRY';
  constructor(message: string, data: { path: string; reason: string }) {
    super(FatEntryError.code, message, data);
  }
}

/** The EFI stub (or another PE input) is not a PE/COFF image we can extend. */
export class PeFormatError extends DiskError<{ file: string; reason: string }> {
  static readonly code = 'E_PE_FORMAT';
  constructor(message: string, data: { file: string; reason: string }) {
    super(PeFormatError.code, message, data);
  }
}

/** The kernel cannot be booted by the BIOS loader (not a bzImage, boot protocol too old, ...). */
export class KernelFormatError extends DiskError<{ file: string; reason: string }> {
  static readonly code = 'E_KERNEL_FORMAT';
  constructor(message: string, data: { file: string; reason: string }) {
    super(KernelFormatError.code, message, data);
  }
}

/** A content stream yielded a different number of bytes than planned. */
export class ContentSizeError extends DiskError<{ what: string; planned: number; actual: number }> {
  static readonly code = 'E_CONTENT_SIZE';
  constructor(message: string, data: { what: string; planned: number; actual: number }) {
    super(ContentSizeError.code, message, data);
  }
}

/** The output path cannot be written. */
export class OutputError extends DiskError<{ path: string; reason: string }> {
  static readonly code = 'E_OUTPUT';
  constructor(message: string, data: { path: string; reason: string }) {
    super(OutputError.code, message, data);
  }
}

/** A broken invariant inside this package: a bug, never bad input. */
export class InternalError extends DiskError<{ detail: string }> {
  static readonly code = 'E_INTERNAL';
  constructor(detail: string) {
    super(InternalError.code, `BUG: ${detail} (please report this)`, { detail });
  }
}

export function bug(condition: boolean, detail: string | (() => string)): asserts condition {
  if (!condition) throw new InternalError(typeof detail === 'string' ? detail : detail());
}
