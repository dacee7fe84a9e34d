// Errors the app readers raise. Each class has a stable `code` (the CLI prints codes starting with
// `E_` as one line), a `data` payload for programs, and a message that names the file and the fix.

/** Base of every expected (non-bug) error in app/ and qemu/. */
export abstract class CodedError<D extends object = Record<string, unknown>> extends Error {
  abstract readonly code: string;
  constructor(message: string, readonly data: D) {
    super(message);
    this.name = new.target.name;
  }
  toJSON(): { name: string; code: string; message: string; data: D } {
    return { name: this.name, code: this.code, message: this.message, data: this.data };
  }
}

/** The app path does not exist (or is not a regular file). */
export class AppNotFoundError extends CodedError<{ path: string }> {
  static readonly code = 'E_APP_NOT_FOUND';
  readonly code = AppNotFoundError.code;
  constructor(path: string, why = 'no such file') {
    super(`${path}: ${why}; give the path of a runnable JAR or an x86-64 ELF executable`, { path });
  }
}

/** Neither a JAR nor an ELF executable. */
export class UnsupportedAppError extends CodedError<{ path: string; reason?: string }> {
  static readonly code = 'E_UNSUPPORTED_APP';
  readonly code = UnsupportedAppError.code;
  constructor(path: string, reason?: string) {
    super(`${path} is neither a runnable JAR nor an x86-64 ELF executable${reason ? ` (${reason})` : ''}`,
      reason === undefined ? { path } : { path, reason });
  }
}

/** A malformed or truncated ELF file. */
export class ElfFormatError extends CodedError<{ path: string; reason: string }> {
  static readonly code = 'E_ELF_FORMAT';
  readonly code = ElfFormatError.code;
  constructor(path: string, reason: string) {
    super(`${path}: not a valid ELF file: ${reason}; is it truncated or corrupted?`, { path, reason });
  }
}

/** An ELF for another machine, word size or byte order. */
export class ElfArchError extends CodedError<{ path: string; machine: string; elfClass: number; elfData: number }> {
  static readonly code = 'E_ELF_ARCH';
  readonly code = ElfArchError.code;
  constructor(path: string, what: string, data: { machine: string; elfClass: number; elfData: number }) {
    super(`${path} is an ELF for ${what}, mkimage builds x86-64 images`, { path, ...data });
  }
}

/** A DT_NEEDED soname that no search location provides. */
export class MissingLibraryError extends CodedError<{ soname: string; neededBy: string; searched?: string[] }> {
  static readonly code = 'E_MISSING_LIBRARY';
  readonly code = MissingLibraryError.code;
  constructor(soname: string, neededBy: string, searched?: string[]) {
    super(`library ${soname} (needed by ${neededBy}) is not provided by any package; add the package that ships it`,
      searched === undefined ? { soname, neededBy } : { soname, neededBy, searched });
  }
}

/** A malformed or truncated ZIP/JAR archive. */
export class ZipFormatError extends CodedError<{ path: string; reason: string; entry?: string }> {
  static readonly code = 'E_ZIP_FORMAT';
  readonly code = ZipFormatError.code;
  constructor(path: string, reason: string, entry?: string) {
    super(`${path}${entry ? `: ${entry}` : ''}: not a valid JAR/ZIP: ${reason}; rebuild the JAR`,
      entry === undefined ? { path, reason } : { path, reason, entry });
  }
}

/** META-INF/MANIFEST.MF cannot be parsed. */
export class ManifestError extends CodedError<{ path: string; line: number; reason: string }> {
  static readonly code = 'E_MANIFEST';
  readonly code = ManifestError.code;
  constructor(path: string, line: number, reason: string) {
    super(`${path}: META-INF/MANIFEST.MF line ${line}: ${reason}; rebuild the JAR with the jar tool`, { path, line, reason });
  }
}

/** A JAR without a Main-Class attribute cannot be started with `java -jar`. */
export class NoMainClassError extends CodedError<{ path: string; hasManifest: boolean; ignoredLastLine?: string }> {
  static readonly code = 'E_NO_MAIN_CLASS';
  readonly code = NoMainClassError.code;
  constructor(path: string, hasManifest: boolean, ignoredLastLine?: string) {
    const name = path.slice(path.lastIndexOf('/') + 1) || path;
    // A Main-Class on a last line without a newline is ignored by java too: say so, it is easy to miss.
    const hint = ignoredLastLine && /^main-class:/i.test(ignoredLastLine)
      ? '; its last line "Main-Class: ..." has no line ending, so java ignores it: end the file with a newline'
      : '; build it as a runnable JAR (e.g. jar --main-class ...)';
    super(`${name} has no Main-Class in META-INF/MANIFEST.MF${hint}`,
      ignoredLastLine === undefined ? { path, hasManifest } : { path, hasManifest, ignoredLastLine });
  }
}
