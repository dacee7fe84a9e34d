// Worker threads that each hold a libdeflate instance and compress blocks sent to them. Blocks
// and results are transferred, not copied; each input buffer comes back with its result so the
// caller can reuse it. Results resolve per block; ordering is the caller's job.
import type { Worker } from 'node:worker_threads';
import { evalWorker } from '../eval-worker.js';
import { makeDeflateChunker } from './deflate-wasm.js';
import { deflateWorker, type DeflateJob, type DeflateWorkerData, type DeflateWorkerMessage } from './deflate-worker.js';
import { CompressError } from './errors.js';

// evalWorker's prelude supplies the helpers a compiler may have put in these functions' text.
const WORKER_SOURCE = `(${deflateWorker.toString()})(${makeDeflateChunker.toString()});\n`;

interface Pending {
  worker: number;
  resolve: (out: Uint8Array) => void;
  reject: (err: unknown) => void;
}

export class DeflatePool {
  private readonly workers: Worker[] = [];
  private readonly load: number[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly spare: ArrayBuffer[] = [];
  private seq = 0;
  private failure: unknown;

  constructor(module: object, private readonly level: number, private readonly capacity: number, threads: number) {
    const data: DeflateWorkerData = { module, level, capacity };
    for (let i = 0; i < threads; i++) {
      const w = evalWorker(WORKER_SOURCE, { workerData: data });
      w.on('message', (m: DeflateWorkerMessage) => this.onMessage(m));
      w.on('error', (err) => this.fail(err));
      w.on('exit', (code) => this.fail(this.internal(`a deflate worker thread exited (code ${code})`)));
      w.unref(); // an idle worker does not keep the process alive (a consumer may drop the stream)
      this.workers.push(w);
      this.load.push(0);
    }
  }

  /** An input buffer of `capacity` bytes: one handed back by a worker, or a new one. */
  takeBlock(): Uint8Array {
    const b = this.spare.pop();
    return b ? new Uint8Array(b) : new Uint8Array(this.capacity);
  }

  /** Compresses block[0, length) on the least busy worker; `block` is transferred (unusable after). */
  compress(block: Uint8Array, length: number, final: boolean): Promise<Uint8Array> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    let w = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.load[i]! < this.load[w]!) w = i;
    const seq = this.seq++;
    const job: DeflateJob = { seq, buffer: block.buffer as ArrayBuffer, length, final };
    const p = new Promise<Uint8Array>((resolve, reject) => this.pending.set(seq, { worker: w, resolve, reject }));
    if (this.load[w]!++ === 0) this.workers[w]!.ref();
    this.workers[w]!.postMessage(job, [job.buffer]);
    return p;
  }

  /** Ends the threads; a compress() still in progress rejects. */
  async close(): Promise<void> {
    this.failure ??= this.internal('the deflate pool was closed');
    for (const w of this.workers) w.removeAllListeners('exit');
    await Promise.all(this.workers.map((w) => w.terminate()));
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }

  private onMessage(m: DeflateWorkerMessage): void {
    const p = this.pending.get(m.seq);
    if (!p) return;
    this.pending.delete(m.seq);
    if (--this.load[p.worker]! === 0) this.workers[p.worker]!.unref();
    if ('error' in m) {
      p.reject(this.internal(m.error));
      return;
    }
    if (m.buffer.byteLength === this.capacity) this.spare.push(m.buffer);
    p.resolve(m.out);
  }

  private fail(err: unknown): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private internal(reason: string): CompressError {
    return new CompressError('E_COMPRESS_INTERNAL', `gzip level ${this.level}: ${reason}`, { method: 'gzip', level: this.level, reason });
  }
}
