// Atomic outputs: a file (or stdout) written through a temp file beside it, or a directory built
// beside its destination; either appears complete at the destination or not at all.
import { createHash, randomBytes } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { chmod, lstat, mkdtemp, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';

export class OutputError extends Error {
  readonly code = 'E_OUTPUT';
  constructor(message: string, readonly data: { path: string; reason?: string }) {
    super(message);
    this.name = 'OutputError';
  }
}

export interface WriteOptions {
  /** Final permission bits of the file (default 0o644), set explicitly so the umask does not leak in. */
  mode?: number;
}

export interface WriteResult {
  bytes: number;
  /** Hex SHA-256 of everything written. */
  sha256: string;
}

const reasonOf = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? (err as Error).message;

function outputError(path: string, what: string, err: unknown): OutputError {
  const reason = reasonOf(err);
  const hint = reason === 'EACCES' || reason === 'EPERM' || reason === 'EROFS'
    ? 'choose a writable location'
    : reason === 'ENOENT' ? 'create its directory first' : reason === 'EISDIR' ? 'it is a directory; name a file'
    : reason === 'EPIPE' ? 'the program reading it exited early' : 'check the path';
  return new OutputError(`cannot ${what} ${path} (${reason}); ${hint}`, { path, reason });
}

async function writeStdout(chunks: AsyncIterable<Uint8Array>): Promise<WriteResult> {
  const hash = createHash('sha256');
  let bytes = 0;
  const out = process.stdout;
  // A closed pipe (`mkimage ... -o - | head`) reports EPIPE as an 'error' event: turn it into E_OUTPUT.
  let failed: unknown;
  let wake: (() => void) | undefined;
  const onError = (err: unknown): void => { failed = err; wake?.(); };
  out.on('error', onError);
  try {
    for await (const chunk of chunks) {
      if (failed) break;
      hash.update(chunk);
      bytes += chunk.length;
      if (!out.write(chunk)) {
        await new Promise<void>((r) => { wake = r; out.once('drain', () => r()); });
        wake = undefined;
      }
    }
    if (failed) throw outputError('standard output', 'write to', failed);
    return { bytes, sha256: hash.digest('hex') };
  } finally {
    out.off('error', onError);
  }
}

/**
 * Streams `chunks` to `dest` ('-' = stdout): a temp file in dest's directory (0600 while written),
 * fsync, chmod to the final mode, rename over dest, fsync the directory. On any error the temp
 * file is removed and an existing dest is left untouched. Errors from `chunks` pass through as
 * they are; problems with the destination become E_OUTPUT.
 */
export async function writeAtomically(dest: string, chunks: AsyncIterable<Uint8Array> | Readable, opts: WriteOptions = {}): Promise<WriteResult> {
  const source = chunks as AsyncIterable<Uint8Array>;
  if (dest === '-') return writeStdout(source);
  const path = resolve(dest);
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory()) throw new OutputError(`cannot write ${dest}: it is a directory; name a file`, { path: dest, reason: 'EISDIR' });

  let fh: FileHandle;
  try {
    fh = await open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
  } catch (err) {
    throw outputError(dest, 'write', err);
  }
  const hash = createHash('sha256');
  let bytes = 0;
  let done = false;
  try {
    for await (const chunk of source) {
      hash.update(chunk);
      let off = 0;
      while (off < chunk.length) {
        const { bytesWritten } = await fh.write(chunk, off, chunk.length - off).catch((err: unknown) => { throw outputError(dest, 'write', err); });
        off += bytesWritten;
      }
      bytes += chunk.length;
    }
    await fh.sync().catch((err: unknown) => { throw outputError(dest, 'sync', err); });
    await fh.chmod(opts.mode ?? 0o644);
    await fh.close();
    done = true;
    await rename(tmp, path).catch((err: unknown) => { throw outputError(dest, 'create', err); });
    await syncDir(dir);
    return { bytes, sha256: hash.digest('hex') };
  } catch (err) {
    if (!done) await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** Makes a rename durable (best effort: some filesystems refuse fsync on a directory). */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, fsc.O_RDONLY).catch(() => undefined);
  if (!fh) return;
  await fh.sync().catch(() => undefined);
  await fh.close().catch(() => undefined);
}

/**
 * Builds a directory output (e.g. vmlinuz, initrd.img, cmdline) in a temp directory beside `dest`,
 * then renames it into place. An existing dest is replaced only if it holds nothing but regular
 * files the new output also has (a previous build); anything else is refused, never deleted.
 * On error the temp directory is removed and dest is left as it was.
 */
export async function atomicDirectory<T>(dest: string, fill: (tmpDir: string) => Promise<T>, opts: { mode?: number } = {}): Promise<T> {
  if (dest === '-') throw new OutputError('cannot write a directory output to stdout; name a directory with -o', { path: dest });
  const path = resolve(dest);
  const parent = dirname(path);
  const before = await lstat(path).catch(() => undefined);
  if (before && !before.isDirectory()) throw new OutputError(`cannot create directory ${dest}: a ${before.isSymbolicLink() ? 'symlink' : 'file'} is in the way; remove it or choose another path`, { path: dest, reason: 'EEXIST' });

  let tmp: string;
  try {
    tmp = await mkdtemp(join(parent, `.${basename(path)}.tmp-`));
  } catch (err) {
    throw outputError(dest, 'create directory', err);
  }
  let old: string | undefined;
  try {
    const result = await fill(tmp);
    const made = new Set(await readdir(tmp));
    for (const name of made) await syncFile(join(tmp, name));
    await chmod(tmp, opts.mode ?? 0o755);
    if (before) {
      for (const ent of await readdir(path, { withFileTypes: true })) {
        if (!ent.isFile() || !made.has(ent.name)) {
          throw new OutputError(`cannot replace directory ${dest}: it holds ${ent.name}, which this build does not write; choose an empty or new directory`, { path: dest, reason: 'ENOTEMPTY' });
        }
      }
      old = `${tmp}.old`;
      await rename(path, old).catch((err: unknown) => { throw outputError(dest, 'replace', err); });
    }
    try {
      await rename(tmp, path);
    } catch (err) {
      if (old) await rename(old, path).catch(() => undefined); // put the previous output back
      old = undefined;
      throw outputError(dest, 'create directory', err);
    }
    await syncDir(parent);
    if (old) await rm(old, { recursive: true, force: true });
    return result;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
}

async function syncFile(p: string): Promise<void> {
  const st = await lstat(p);
  if (!st.isFile() && !st.isDirectory()) return;
  const fh = await open(p, fsc.O_RDONLY).catch(() => undefined);
  if (!fh) return;
  await fh.sync().catch(() => undefined);
  await fh.close();
}
