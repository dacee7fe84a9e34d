// Streams a planned newc archive in one forward pass. File data is read only when its entry
// comes up; small pieces are coalesced into buffers of `bufferSize` so 100k tiny entries do not
// become 300k tiny chunks. Never reuses a buffer it has yielded.
import { closeSync, openSync, readSync } from 'node:fs';
import { readData, TreeError, type FileEntry } from '../tree.js';
import { encodeNewc, headerBlockSize, pad4, CPIO_HEADER_SIZE } from './newc.js';
import type { CpioLayout } from './plan.js';

export interface EmitOptions {
  /** Size of the coalescing buffers yielded (default 256 KiB). */
  bufferSize?: number;
}

export class CpioInternalError extends Error {
  readonly code = 'E_INTERNAL';
  constructor(message: string, readonly data: { expected: number; actual: number }) {
    super(`BUG: ${message}`);
    this.name = 'CpioInternalError';
  }
}

const READ_CHUNK = 1 << 20;
const utf8 = new TextEncoder();

function sourceError(entry: FileEntry, source: string, err: unknown): TreeError {
  if (err instanceof TreeError) return err;
  const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  return new TreeError(`${entry.path}: cannot read source ${source} (${reason})`, { path: entry.path });
}

function checkEof(entry: FileEntry, fd: number, got: number): void {
  if (got !== entry.size) {
    throw new TreeError(`${entry.path}: source has ${got} bytes, ${entry.size} declared; did it change during the build?`, { path: entry.path });
  }
  if (readSync(fd, new Uint8Array(1), 0, 1, null) !== 0) {
    throw new TreeError(`${entry.path}: source has more than the ${entry.size} bytes declared; did it change during the build?`, { path: entry.path });
  }
}

/**
 * A small host file read straight into the coalescing buffer. Asks for size + 1 bytes: a regular
 * file returns fewer only at its end, so one read() both fills the data and proves the file is not
 * longer than declared. `buf` must have room for size + 1 bytes at `at`.
 */
function readSmallHostFile(entry: FileEntry, source: string, buf: Uint8Array, at: number): void {
  let fd: number;
  try {
    fd = openSync(source, 'r');
  } catch (err) {
    throw sourceError(entry, source, err);
  }
  try {
    let got = 0;
    for (;;) {
      const want = entry.size + 1 - got;
      const n = readSync(fd, buf, at + got, want, null);
      got += n;
      // A short read of a regular file is its end: no second read() to see the 0 (100k files: 100k syscalls).
      if (n < want || got > entry.size) break;
    }
    if (got > entry.size) {
      throw new TreeError(`${entry.path}: source has more than the ${entry.size} bytes declared; did it change during the build?`, { path: entry.path });
    }
    if (got < entry.size) checkEof(entry, fd, got);
  } catch (err) {
    throw sourceError(entry, source, err);
  } finally {
    closeSync(fd);
  }
}

/** Host-file data in fresh 1 MiB chunks, checked against the declared size. */
function* hostFileData(entry: FileEntry, source: string): Generator<Uint8Array, void> {
  let fd: number;
  try {
    fd = openSync(source, 'r');
  } catch (err) {
    throw sourceError(entry, source, err);
  }
  try {
    let got = 0;
    while (got < entry.size) {
      const want = Math.min(entry.size - got, READ_CHUNK);
      const chunk = new Uint8Array(want);
      let filled = 0;
      while (filled < want) {
        const n = readSync(fd, chunk, filled, want - filled, null);
        if (n === 0) break;
        filled += n;
      }
      got += filled;
      if (filled < want) break;
      yield chunk;
    }
    checkEof(entry, fd, got);
  } catch (err) {
    throw sourceError(entry, source, err);
  } finally {
    closeSync(fd);
  }
}

export async function* emitCpio(layout: CpioLayout, opts: EmitOptions = {}): AsyncGenerator<Uint8Array> {
  const bufferSize = Math.max(opts.bufferSize ?? 256 * 1024, CPIO_HEADER_SIZE + 4096 + 4);
  let buf = new Uint8Array(bufferSize);
  let used = 0;
  let emitted = 0;
  const room = (): number => buf.length - used;
  // Hands out the filled part of the buffer and starts a fresh one.
  const take = (): Uint8Array | undefined => {
    if (used === 0) return undefined;
    const out = buf.subarray(0, used);
    emitted += used;
    buf = new Uint8Array(bufferSize);
    used = 0;
    return out;
  };

  const scratch = layout.header(Math.max(layout.count - 1, 0)); // any record: reused for every header
  for (let i = 0; i < layout.count; i++) {
    const offset = layout.offsetOf(i);
    const name = layout.name(i);
    const header = layout.header(i, scratch);
    if (emitted + used !== offset) {
      throw new CpioInternalError(`cpio entry ${name} at offset ${emitted + used}, planned ${offset}`, { expected: offset, actual: emitted + used });
    }
    const hsize = headerBlockSize(header.namesize - 1);
    if (hsize > room()) {
      const out = take();
      if (out) yield out;
      if (hsize > buf.length) buf = new Uint8Array(hsize);
    }
    used += encodeNewc(header, name, buf, used);

    const size = header.filesize;
    const inode = layout.carries[i] ? layout.inodes[i] : undefined;
    const padded = pad4(size);
    if (inode?.type === 'symlink') {
      if (padded > room()) {
        const out = take();
        if (out) yield out;
        if (padded > buf.length) buf = new Uint8Array(padded);
      }
      const { written } = utf8.encodeInto(inode.target, buf.subarray(used, used + size));
      if (written !== size) throw new CpioInternalError(`${name}: symlink target is ${written} bytes, planned ${size}`, { expected: size, actual: written });
      buf.fill(0, used + size, used + padded);
      used += padded;
    } else if (inode?.type === 'file') {
      const entry = inode;
      const data = entry.data;
      const small = (data.kind === 'file' || data.kind === 'bytes') && padded + 1 <= bufferSize;
      if (small && padded + 1 > room()) {
        const out = take(); // start a fresh buffer rather than split a small file off on its own
        if (out) yield out;
      }
      if (small) {
        // Fits (with one spare byte for the end-of-file probe): read or copy straight into the buffer.
        if (data.kind === 'file') {
          readSmallHostFile(entry, data.path, buf, used);
        } else {
          if (data.bytes.length !== size) {
            throw new TreeError(`${entry.path}: source has ${data.bytes.length} bytes, ${size} declared; did it change during the build?`, { path: entry.path });
          }
          buf.set(data.bytes, used);
        }
        buf.fill(0, used + size, used + padded);
        used += padded;
      } else {
        const out = take();
        if (out) yield out;
        let n = 0;
        const chunks = data.kind === 'file' ? hostFileData(entry, data.path) : readData(entry);
        for await (const chunk of chunks) {
          n += chunk.length;
          emitted += chunk.length;
          yield chunk;
        }
        if (n !== size) throw new CpioInternalError(`${entry.path}: emitted ${n} data bytes, planned ${size}`, { expected: size, actual: n });
        buf.fill(0, 0, padded - size);
        used = padded - size;
      }
    }
  }
  const out = take();
  if (out) yield out;
  if (emitted !== layout.size) {
    throw new CpioInternalError(`cpio archive is ${emitted} bytes, planned ${layout.size}`, { expected: layout.size, actual: emitted });
  }
}
