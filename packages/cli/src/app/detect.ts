// Which kind of app the user handed us: a runnable JAR or an x86-64 ELF executable.
import { open, stat } from 'node:fs/promises';
import { AppNotFoundError, UnsupportedAppError, ZipFormatError } from './errors.js';
import { inspectElf, isElfMagic, isExecutable, type ElfInfo } from './elf.js';
import { inspectJar, requireMainClass, type InspectJarOptions, type JarInfo } from './jar.js';
import { readAt } from './file-io.js';

export type DetectedApp =
  | ({ kind: 'jar' } & JarInfo & { mainClass: string })
  | ({ kind: 'elf' } & ElfInfo);

/** "PK\3\4": a ZIP that starts with its first local header (most JARs). */
const ZIP_LOCAL_MAGIC = Uint8Array.of(0x50, 0x4b, 0x03, 0x04);

/**
 * Inspects `path` and says what it is. Errors, each one line: AppNotFoundError (missing, or not a
 * regular file), UnsupportedAppError (neither kind; an ELF shared library), ElfArchError (ELF for
 * another machine), ElfFormatError / ZipFormatError (corrupt), NoMainClassError, ManifestError.
 */
export async function detectApp(path: string, opts: InspectJarOptions = {}): Promise<DetectedApp> {
  const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw new AppNotFoundError(path);
    if (err.code === 'EACCES') throw new AppNotFoundError(path, 'permission denied');
    throw err;
  });
  if (st.isDirectory()) throw new AppNotFoundError(path, 'is a directory');
  if (!st.isFile()) throw new AppNotFoundError(path, 'is not a regular file');

  const fh = await open(path, 'r');
  let head: Buffer;
  try {
    head = await readAt(fh, 0, 4);
  } finally {
    await fh.close();
  }

  if (isElfMagic(head)) {
    const info = await inspectElf(path);
    if (!isExecutable(info)) throw new UnsupportedAppError(path, 'it is an ELF shared library, not an executable');
    return { kind: 'elf', ...info };
  }
  // A JAR may carry a prefix (a launcher script), so "PK" at 0 is not required: try the ZIP reader,
  // and only call it corrupt when it does start like a ZIP.
  let jar: JarInfo;
  try {
    jar = await inspectJar(path, opts);
  } catch (err) {
    const looksZip = ZIP_LOCAL_MAGIC.every((b, i) => head[i] === b);
    if (err instanceof ZipFormatError && !looksZip && err.data.entry === undefined) throw new UnsupportedAppError(path);
    throw err;
  }
  requireMainClass(jar);
  return { kind: 'jar', ...jar, mainClass: jar.mainClass };
}
