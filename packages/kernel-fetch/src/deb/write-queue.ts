// Overlaps file-system work with decoding: file creation and writes go to libuv's thread pool while
// the main thread keeps decoding, with the bytes in flight capped. Measured on the cloud kernel .deb:
// creating a file costs ~0.3-0.8 ms here, which done in line left the decoder waiting.
// Small files are held until a batch is full and then started together: the data arrives slowly
// (decoding is the bottleneck), so one file at a time made every call wake a sleeping pool thread
// and the main thread again, which cost more CPU than the calls themselves (profile: ~130 us of
// main-thread time per open). A batch keeps the pool busy and its completions arrive together.
import { readFileSync } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';

/** Bytes of file data queued but not yet written before the producer is made to wait. */
export const MAX_BYTES_IN_FLIGHT = 16 * 1024 * 1024;
/** Files up to this size are held in memory and written in batches (kernel modules are ~10-500 KiB). */
export const BATCH_FILE_MAX = 1024 * 1024;
/** A batch starts once it holds this many bytes or files. */
export const BATCH_BYTES = 4 * 1024 * 1024;
export const BATCH_FILES = 64;

export interface FileMeta {
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  owner: boolean;
}

export interface WriteQueueOptions {
  /** New files take their directory's group (a setgid directory), so chown can never be skipped. */
  groupFromDirectory?: boolean;
}

/** The process umask from /proc (Linux >= 4.7); undefined elsewhere. process.umask() cannot read it without changing it. */
function readUmask(): number | undefined {
  try {
    const m = /^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'latin1'));
    return m ? Number.parseInt(m[1]!, 8) : undefined;
  } catch {
    return undefined;
  }
}

interface HeldFile {
  abs: string;
  chunks: Uint8Array[];
  size: number;
  meta: FileMeta;
  ready: Promise<void>;
}

export class WriteQueue {
  private readonly umask = readUmask();
  private readonly euid = process.geteuid?.();
  private readonly egid = process.getegid?.();
  private bytesInFlight = 0;
  private waiters: Array<() => void> = [];
  private readonly pending = new Set<Promise<void>>();
  private readonly created = new Map<string, Promise<void>>();
  private batch: HeldFile[] = [];
  private batchBytes = 0;
  private readonly held = new Set<string>();
  private error: unknown;

  constructor(private readonly opts: WriteQueueOptions = {}) {}

  /**
   * Starts creating the directory `abs` once `parent` (a promise from an earlier call) is done.
   * The caller does not wait for it: files in it name it as their `ready` promise.
   */
  dir(abs: string, mode: number, parent: Promise<void> = Promise.resolve()): Promise<void> {
    const made = parent.then(async () => {
      await mkdir(abs, { mode });
    });
    this.track(undefined, made);
    return made;
  }

  /**
   * Takes `body` for a new file at `abs`, created once `ready` (its directory, see dir()) is done;
   * resolves when the data is queued, not written.
   */
  async file(abs: string, body: AsyncIterable<Uint8Array>, meta: FileMeta, ready: Promise<void> = Promise.resolve()): Promise<number> {
    this.check();
    const it = body[Symbol.asyncIterator]();
    const chunks: Uint8Array[] = [];
    let n = 0;
    while (n <= BATCH_FILE_MAX) {
      const r = await it.next();
      if (r.done) {
        this.hold({ abs, chunks, size: n, meta, ready });
        return n;
      }
      chunks.push(r.value);
      n += r.value.length;
    }
    // A large file is written as it comes, with the bytes in flight capped.
    this.dispatch();
    const { handle, perm } = this.create(abs, meta, ready);
    let chain: Promise<FileHandle> = handle;
    const write = (chunk: Uint8Array): void => {
      this.bytesInFlight += chunk.length;
      chain = chain.then(async (h) => {
        try {
          for (let off = 0; off < chunk.length; ) off += (await h.write(chunk, off)).bytesWritten;
        } finally {
          this.release(chunk.length);
        }
        return h;
      });
    };
    // Tracked from the start, so a failure while reading still closes it and reports a write error.
    let written!: (h: Promise<FileHandle>) => void;
    this.track(handle, new Promise<FileHandle>((resolve) => (written = resolve)).then(perm));
    try {
      for (const c of chunks) write(c);
      for (;;) {
        if (this.bytesInFlight > MAX_BYTES_IN_FLIGHT) await this.belowLimit();
        this.check();
        const r = await it.next();
        if (r.done) break;
        write(r.value);
        n += r.value.length;
      }
    } finally {
      written(chain);
    }
    return n;
  }

  /** Resolves once the file at `abs` (queued earlier) exists on disk. */
  async exists(abs: string): Promise<void> {
    if (this.held.has(abs)) this.dispatch();
    await this.created.get(abs);
    this.check();
  }

  /** Waits for everything queued; throws the first failure. */
  async flush(): Promise<void> {
    this.dispatch();
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    this.check();
  }

  /** After a failure: drops the files not started yet and waits for the others; never throws. */
  async abandon(): Promise<void> {
    for (const f of this.batch) this.release(f.size);
    this.batch = [];
    this.batchBytes = 0;
    this.held.clear();
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private hold(f: HeldFile): void {
    this.batch.push(f);
    this.held.add(f.abs);
    this.batchBytes += f.size;
    this.bytesInFlight += f.size;
    if (this.batchBytes >= BATCH_BYTES || this.batch.length >= BATCH_FILES) this.dispatch();
  }

  /** Starts every held file at once. */
  private dispatch(): void {
    const files = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    this.held.clear();
    for (const f of files) {
      const { handle, perm } = this.create(f.abs, f.meta, f.ready);
      const written = handle.then(async (h) => {
        try {
          await writeAll(h, f.chunks, f.size);
        } finally {
          this.release(f.size);
        }
        return h;
      });
      this.track(handle, written.then(perm));
    }
  }

  /**
   * Opens a new file, and says what completes it once its data is written (owner, mode, mtime, close).
   * Fewer calls per file (each is a thread-pool round trip): a file created by us already has our
   * owner, and open() gives the mode itself when the umask takes nothing away and no set-id bit is
   * involved (chown would clear those, so they are set by chmod after it).
   */
  private create(abs: string, meta: FileMeta, ready: Promise<void>): { handle: Promise<FileHandle>; perm: (h: FileHandle) => Promise<void> } {
    const chown = meta.owner && (this.opts.groupFromDirectory === true || meta.uid !== this.euid || meta.gid !== this.egid);
    const modeAtOpen = this.umask !== undefined && (meta.mode & 0o7000) === 0 && (meta.mode & this.umask) === 0;
    const handle = ready.then(() => open(abs, 'wx', modeAtOpen ? meta.mode : 0o600));
    this.created.set(
      abs,
      handle.then(
        () => undefined,
        (err: unknown) => {
          this.error ??= err; // exists() reports it
        },
      ),
    );
    const perm = async (h: FileHandle): Promise<void> => {
      try {
        if (chown) await h.chown(meta.uid, meta.gid);
        if (!modeAtOpen) await h.chmod(meta.mode); // after chown: chown clears setuid/setgid
        await h.utimes(meta.mtime, meta.mtime);
      } finally {
        await h.close();
      }
    };
    return { handle, perm };
  }

  private track(handle: Promise<FileHandle> | undefined, done: Promise<void>): void {
    // Close even when a write failed: the chain is rejected, so close from the handle itself.
    const tracked = done.catch(async (err) => {
      this.error ??= err;
      await handle?.then((h) => h.close()).catch(() => undefined);
    });
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }

  private check(): void {
    if (this.error !== undefined) throw this.error;
  }

  private release(n: number): void {
    this.bytesInFlight -= n;
    if (this.bytesInFlight <= MAX_BYTES_IN_FLIGHT) for (const w of this.waiters.splice(0)) w();
  }

  private belowLimit(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

/** Writes `chunks` (`size` bytes in all) at the start of `h`: one writev call when it takes them all. */
export async function writeAll(h: FileHandle, chunks: Uint8Array[], size: number): Promise<void> {
  if (chunks.length === 0) return;
  let done = chunks.length === 1 ? 0 : (await h.writev(chunks)).bytesWritten;
  // A short writev (not expected for a regular file): the rest chunk by chunk, from where it stopped.
  for (let i = 0, at = 0; i < chunks.length && done < size; at += chunks[i]!.length, i++) {
    const c = chunks[i]!;
    if (at + c.length <= done) continue;
    for (let off = done - at; off < c.length; ) {
      const w = (await h.write(c, off)).bytesWritten;
      off += w;
      done += w;
    }
  }
}
