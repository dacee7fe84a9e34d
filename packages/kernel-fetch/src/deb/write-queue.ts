// Overlaps file-system work with decoding: file creation and writes go to libuv's thread pool while
// the main thread keeps decoding, with the bytes in flight capped. Measured on the cloud kernel .deb:
// creating a file costs ~0.3-0.8 ms here, which done in line left the decoder waiting.
import { readFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/** Bytes of file data queued but not yet written before the producer is made to wait. */
export const MAX_BYTES_IN_FLIGHT = 16 * 1024 * 1024;

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

export class WriteQueue {
  private readonly umask = readUmask();
  private readonly euid = process.geteuid?.();
  private readonly egid = process.getegid?.();
  private bytesInFlight = 0;
  private waiters: Array<() => void> = [];
  private readonly pending = new Set<Promise<void>>();
  private readonly created = new Map<string, Promise<void>>();
  private error: unknown;

  constructor(private readonly opts: WriteQueueOptions = {}) {}

  /** Starts writing `body` to a new file at `abs`; resolves when the data is queued, not written. */
  async file(abs: string, body: AsyncIterable<Uint8Array>, meta: FileMeta): Promise<number> {
    this.check();
    // Fewer calls per file (each is a thread-pool round trip): a file created by us already has our
    // owner, and open() gives the mode itself when the umask takes nothing away and no set-id bit is
    // involved (chown would clear those, so they are set by chmod after it).
    const chown = meta.owner && (this.opts.groupFromDirectory === true || meta.uid !== this.euid || meta.gid !== this.egid);
    const modeAtOpen = this.umask !== undefined && (meta.mode & 0o7000) === 0 && (meta.mode & this.umask) === 0;
    const fh = open(abs, 'wx', modeAtOpen ? meta.mode : 0o600);
    this.created.set(abs, fh.then(() => undefined));
    let chain: Promise<FileHandle> = fh;
    let n = 0;
    for await (const chunk of body) {
      n += chunk.length;
      this.bytesInFlight += chunk.length;
      chain = chain.then(async (h) => {
        try {
          for (let off = 0; off < chunk.length; ) off += (await h.write(chunk, off)).bytesWritten;
        } finally {
          this.release(chunk.length);
        }
        return h;
      });
      if (this.bytesInFlight > MAX_BYTES_IN_FLIGHT) await this.belowLimit();
      this.check();
    }
    const done = chain.then(async (h) => {
      try {
        if (chown) await h.chown(meta.uid, meta.gid);
        if (!modeAtOpen) await h.chmod(meta.mode); // after chown: chown clears setuid/setgid
        await h.utimes(meta.mtime, meta.mtime);
      } finally {
        await h.close();
      }
    });
    // Close even when a write failed: the chain is rejected, so close from the handle itself.
    const tracked = done.catch(async (err) => {
      this.error ??= err;
      await fh.then((h) => h.close()).catch(() => undefined);
    });
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
    return n;
  }

  /** Resolves once the file at `abs` (queued earlier) exists on disk. */
  async exists(abs: string): Promise<void> {
    await this.created.get(abs);
    this.check();
  }

  /** Waits for everything queued; throws the first failure. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    this.check();
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
