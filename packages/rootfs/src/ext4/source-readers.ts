// Reading file data for the ext4 emitter, with readData's checks (the source must still have the
// size the plan was made with): small host files whole in one call, large host files by positional
// reads into two reused buffers, anything else (in-memory bytes, streams) through readData.
import { closeSync, openSync, read, readSync } from 'node:fs';
import { readData, type FileEntry } from '../tree.js';
import { BLOCK_SIZE } from './constants.js';
import { Ext4Error } from './errors.js';

/** Host files up to this size are read in one call into a reused buffer (the batcher copies them). */
export const SMALL_FILE = 128 << 10;
/** Read size for large host files. */
const READ_SIZE = 1 << 20;
const EMPTY = new Uint8Array(0);

function sourceError(entry: FileEntry, path: string, err: unknown): Ext4Error {
  const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  return new Ext4Error('E_EXT4_SOURCE', `${entry.path}: cannot read source ${path} (${reason})`, { path: entry.path });
}

function changedError(entry: FileEntry, detail: string): Ext4Error {
  return new Ext4Error('E_EXT4_SOURCE', `${entry.path}: ${detail}; did it change during the build?`, { path: entry.path });
}

/** Reads a small host file whole into `scratch`: it must exist and still have its size. */
export function readSmall(entry: FileEntry, path: string, scratch: Uint8Array): Uint8Array {
  let n: number;
  try {
    const fd = openSync(path, 'r');
    try {
      // One byte more than declared: a file that grew is caught, as readData would.
      n = readSync(fd, scratch, 0, entry.size + 1, 0);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw sourceError(entry, path, err);
  }
  if (n !== entry.size) throw changedError(entry, `source has ${n > entry.size ? 'more than ' : ''}${n} bytes, ${entry.size} declared`);
  return scratch.subarray(0, n);
}

/** Sequential access to one file's bytes, taken in pieces as its data runs come up. */
export interface SourceReader {
  /** Bytes handed out so far. */
  readonly pos: number;
  /** Up to `max` next bytes of the file (fewer at a read boundary); empty at EOF. */
  take(max: number): Promise<Uint8Array>;
  /** Checks that the source ends where it was declared to, and releases it. */
  finish(): Promise<void>;
  /** Releases the source without checks (the emit stopped early). */
  close(): Promise<void>;
}

/** Through readData: a new buffer per read (any source kind). */
export class StreamReader implements SourceReader {
  private readonly it: AsyncIterator<Uint8Array>;
  private pending: Uint8Array = EMPTY;
  pos = 0;
  constructor(readonly entry: FileEntry) {
    // Stream buffers sized to the file: a 1 MiB read buffer per small file costs more than the read.
    const chunk = Math.min(READ_SIZE, Math.max(BLOCK_SIZE, Math.ceil(entry.size / BLOCK_SIZE) * BLOCK_SIZE + 1));
    this.it = readData(entry, chunk)[Symbol.asyncIterator]();
  }
  async take(max: number): Promise<Uint8Array> {
    if (this.pending.length === 0) {
      const r = await this.it.next();
      if (r.done) return EMPTY;
      this.pending = r.value;
    }
    const out = this.pending.length <= max ? this.pending : this.pending.subarray(0, max);
    this.pending = this.pending.subarray(out.length);
    this.pos += out.length;
    return out;
  }
  async finish(): Promise<void> {
    for (;;) {
      const r = await this.it.next();
      if (r.done) return;
      if (r.value.length) throw new Ext4Error('E_EXT4_SOURCE', `${this.entry.path}: source is longer than its declared ${this.entry.size} bytes`, { path: this.entry.path });
    }
  }
  async close(): Promise<void> { await this.it.return?.(); }
}

/** Read buffers handed from one HostFileReader to the next (an emit keeps two). */
export class ReadBuffers {
  private readonly free: Uint8Array[] = [];
  get(): Uint8Array { return this.free.pop() ?? new Uint8Array(READ_SIZE); }
  put(b: Uint8Array): void { this.free.push(b); }
}

/**
 * A host file read at known offsets into two buffers in turn, one read ahead of the consumer.
 * A piece handed out stays valid only until the next `take`: for emits whose consumer is done with
 * each chunk before pulling the next (reuseBuffers). Memory stays at two buffers however much
 * data passes, where a read stream leaves a spent 1 MiB buffer per read for the GC.
 */
export class HostFileReader implements SourceReader {
  pos = 0;
  private fd = -1;
  private readAt = 0;
  private pending: Uint8Array = EMPTY;
  private ahead: Promise<Uint8Array> | undefined;
  private readonly buffers: [Uint8Array, Uint8Array];
  private turn = 0;
  private closed = false;

  constructor(readonly entry: FileEntry, private readonly path: string, private readonly pool: ReadBuffers) {
    this.buffers = [pool.get(), pool.get()];
  }

  /** Starts the next read into the buffer not handed out last. */
  private readNext(): Promise<Uint8Array> {
    const buf = this.buffers[this.turn]!;
    this.turn ^= 1;
    const want = Math.min(buf.length, this.entry.size - this.readAt);
    if (want <= 0) return Promise.resolve(EMPTY);
    const at = this.readAt;
    this.readAt += want;
    return new Promise((resolve, reject) => {
      read(this.fd, buf, 0, want, at, (err, n) => {
        if (err) reject(sourceError(this.entry, this.path, err));
        // A regular file reads short only at its end: it shrank since it was planned.
        else if (n < want) reject(changedError(this.entry, `source ended after ${at + n} of ${this.entry.size} bytes`));
        else resolve(buf.subarray(0, n));
      });
    });
  }

  async take(max: number): Promise<Uint8Array> {
    if (this.pending.length === 0) {
      if (this.fd < 0) {
        try {
          this.fd = openSync(this.path, 'r');
        } catch (err) {
          throw sourceError(this.entry, this.path, err);
        }
        this.ahead = this.readNext();
      }
      this.pending = await this.ahead!;
      // The other buffer was handed out before this one, and the consumer has pulled since.
      this.ahead = this.readNext();
    }
    const out = this.pending.length <= max ? this.pending : this.pending.subarray(0, max);
    this.pending = this.pending.subarray(out.length);
    this.pos += out.length;
    return out;
  }

  async finish(): Promise<void> {
    await this.ahead;
    // One byte past the declared end: a file that grew is caught, as readData would.
    const extra = this.fd < 0 ? 0 : readSync(this.fd, this.buffers[0], 0, 1, this.entry.size);
    await this.close();
    if (extra > 0) throw changedError(this.entry, `source is longer than its declared ${this.entry.size} bytes`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.ahead?.catch(() => undefined); // never close an fd a read is still using
    if (this.fd >= 0) closeSync(this.fd);
    for (const b of this.buffers) this.pool.put(b);
  }
}
