// Writing an image: to a file (sparse: zero runs become holes, temp file then rename so nothing
// half-written is left at the path) or to a stream such as stdout (every byte written, no seeking).
import { createHash, randomBytes } from 'node:crypto';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { isZeroChunk } from './chunks.js';
import { OutputError } from './errors.js';
import { inlineHash, workerHash } from './hash-worker.js';

/** Granularity at which untagged chunks are checked for zero blocks (the usual filesystem block). */
const HOLE_BLOCK = 4096;
const ZERO_4K = Buffer.alloc(HOLE_BLOCK);
/** Image size from which hashing moves to a worker thread (about 0.1 s of hashing inline). */
export const HASH_ON_WORKER_FROM = 256 << 20;

export interface WriteResult {
  bytes: number;
  /** Bytes skipped as holes (not written). */
  holeBytes: number;
  /** Hex SHA-256 of everything written, holes included: the image's identity. */
  sha256: string;
}

export interface WriteImageOptions {
  /** Skip zero runs as holes (default true). */
  sparse?: boolean;
  /** Final permission bits, set explicitly so the umask does not leak in (default 0o644). */
  mode?: number;
  /** fsync the file before the rename (default true). */
  fsync?: boolean;
  /** Stream used for '-' (default process.stdout). */
  stdout?: Writable;
  /**
   * The image's size, when the caller knows it: from HASH_ON_WORKER_FROM bytes on, the SHA-256 is
   * computed on a worker thread beside the writing. (A worker's start-up costs more than hashing
   * a small image inline.)
   */
  expectedBytes?: number;
}

/** Writes chunks to `path` ('-' = stdout): a temp file beside it, renamed into place when complete. */
export async function writeImage(path: string, chunks: AsyncIterable<Uint8Array>, o: WriteImageOptions = {}): Promise<WriteResult> {
  if (path === '-') return writeStream(o.stdout ?? process.stdout, chunks);
  return writeFileSparse(path, chunks, o);
}

function hint(reason: string): string {
  if (reason === 'EACCES' || reason === 'EPERM' || reason === 'EROFS') return 'choose a writable location';
  if (reason === 'ENOENT') return 'create its directory first';
  if (reason === 'ENOSPC') return 'free some space';
  return 'check the path';
}

export async function writeStream(out: Writable, chunks: AsyncIterable<Uint8Array>): Promise<WriteResult> {
  let bytes = 0;
  const hash = createHash('sha256');
  for await (const c of chunks) {
    bytes += c.length;
    hash.update(c);
    if (!out.write(c)) await new Promise<void>((resolve, reject) => {
      const onDrain = (): void => { out.off('error', onError); resolve(); };
      const onError = (e: Error): void => { out.off('drain', onDrain); reject(e); };
      out.once('drain', onDrain);
      out.once('error', onError);
    });
  }
  return { bytes, holeBytes: 0, sha256: hash.digest('hex') };
}

async function writeFileSparse(path: string, chunks: AsyncIterable<Uint8Array>, o: WriteImageOptions): Promise<WriteResult> {
  const sparse = o.sparse ?? true;
  if ((await stat(path).catch(() => undefined))?.isDirectory()) {
    throw new OutputError(`${path}: is a directory; name the image file`, { path, reason: 'EISDIR' });
  }
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fh;
  try {
    fh = await open(tmp, 'wx', 0o600);
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new OutputError(`${path}: cannot create the output file (${reason}); ${hint(reason)}`, { path, reason });
  }
  let pos = 0;
  let holeBytes = 0;
  const hash = (o.expectedBytes ?? 0) >= HASH_ON_WORKER_FROM ? workerHash() : inlineHash();
  try {
    for await (const c of chunks) {
      await hash.update(c);
      if (sparse && isZeroChunk(c)) {
        pos += c.length;
        holeBytes += c.length;
        continue;
      }
      if (!sparse || c.length < HOLE_BLOCK) {
        await writeAll(fh, c, pos);
        pos += c.length;
        continue;
      }
      // Untagged chunk: write its data runs, skip whole zero blocks aligned to the file.
      let runStart = 0;
      let i = 0;
      while (i < c.length) {
        const blockEnd = Math.min(c.length, (Math.floor((pos + i) / HOLE_BLOCK) + 1) * HOLE_BLOCK - pos);
        const isHole = blockEnd - i === HOLE_BLOCK && ZERO_4K.equals(c.subarray(i, blockEnd));
        if (isHole) {
          if (i > runStart) await writeAll(fh, c.subarray(runStart, i), pos + runStart);
          holeBytes += HOLE_BLOCK;
          runStart = blockEnd;
        }
        i = blockEnd;
      }
      if (c.length > runStart) await writeAll(fh, c.subarray(runStart), pos + runStart);
      pos += c.length;
    }
    await fh.truncate(pos); // the trailing hole, if any, still counts
    if (o.fsync ?? true) await fh.sync();
    await fh.chmod(o.mode ?? 0o644);
    await fh.close();
    fh = undefined;
    await rename(tmp, path);
    return { bytes: pos, holeBytes, sha256: await hash.digest() };
  } catch (e) {
    hash.abandon();
    await fh?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    if ((e as { code?: unknown }).code && String((e as { code: unknown }).code).startsWith('E_')) throw e;
    const reason = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new OutputError(`${path}: writing the image failed (${reason}); ${hint(reason)}`, { path, reason });
  }
}

async function writeAll(fh: import('node:fs/promises').FileHandle, c: Uint8Array, position: number): Promise<void> {
  let off = 0;
  while (off < c.length) {
    const { bytesWritten } = await fh.write(c, off, c.length - off, position + off);
    off += bytesWritten;
  }
}
