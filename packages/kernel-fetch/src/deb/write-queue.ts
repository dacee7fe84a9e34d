// Overlaps file-system work with decoding: file creation and writes go to libuv's thread pool while
// the main thread keeps decoding, with the bytes in flight capped. Measured on the cloud kernel .deb:
// creating a file costs ~0.3-0.8 ms here, which done in line left the decoder waiting.
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

export class WriteQueue {
  private bytesInFlight = 0;
  private waiters: Array<() => void> = [];
  private readonly pending = new Set<Promise<void>>();
  private readonly created = new Map<string, Promise<void>>();
  private error: unknown;

  /** Starts writing `body` to a new file at `abs`; resolves when the data is queued, not written. */
  async file(abs: string, body: AsyncIterable<Uint8Array>, meta: FileMeta): Promise<number> {
    this.check();
    const fh = open(abs, 'wx', 0o600);
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
        if (meta.owner) await h.chown(meta.uid, meta.gid);
        await h.chmod(meta.mode); // after chown: chown clears setuid/setgid
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
