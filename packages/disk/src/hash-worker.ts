// The SHA-256 of an image, computed on a worker thread beside the writer. Hashing costs about
// 0.5 s per GiB even with the CPU's SHA extensions; inline, that time adds to every large image
// (an ext4 root of 1 GiB with holes takes about as long to hash as to plan and write). Zero runs
// are announced by length and hashed from the worker's own zeros: holes cost no copy.
import { createHash } from 'node:crypto';
import { evalWorker } from '@mkimage/rootfs';
import { isZeroChunk } from './chunks.js';

/** The shared ring the writer copies chunks into: SLOTS slots of SLOT_SIZE bytes. */
const SLOT_SIZE = 1 << 20;
const SLOTS = 4;

// CommonJS, run with \`eval\`: no separate file to locate once the package is installed.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hash = createHash('sha256');
const ring = new Uint8Array(workerData.ring);
const zeros = Buffer.alloc(workerData.slotSize);
parentPort.on('message', (m) => {
  if (m.digest) { parentPort.postMessage({ digest: hash.digest('hex') }); return; }
  if (m.slot !== undefined) hash.update(ring.subarray(m.slot * workerData.slotSize, m.slot * workerData.slotSize + m.length));
  for (let n = m.zeros ?? 0; n > 0; n -= zeros.length) hash.update(n >= zeros.length ? zeros : zeros.subarray(0, n));
  parentPort.postMessage({ free: m.slot });
});`;

export interface ImageHash {
  /** Adds a chunk. The caller may reuse the chunk's memory as soon as the returned promise settles. */
  update(chunk: Uint8Array): Promise<void>;
  digest(): Promise<string>;
  /** Stops the worker without a digest (the write failed). */
  abandon(): void;
}

/**
 * A hash on a worker thread. Data is copied into a small shared ring (SLOTS x SLOT_SIZE), so
 * memory stays flat however large the image; \`update\` waits when every slot is in use.
 */
export function workerHash(): ImageHash {
  const ring = new SharedArrayBuffer(SLOTS * SLOT_SIZE);
  const bytes = new Uint8Array(ring);
  const worker = evalWorker(WORKER_SOURCE, { workerData: { ring, slotSize: SLOT_SIZE } });
  const free = Array.from({ length: SLOTS }, (_, i) => i);
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  let onDigest: ((hex: string) => void) | undefined;
  worker.on('message', (m: { free?: number; digest?: string }) => {
    if (m.digest !== undefined) { onDigest?.(m.digest); return; }
    if (m.free !== undefined) free.push(m.free);
    wake?.();
    wake = undefined;
  });
  worker.on('error', (e) => { failure = e; wake?.(); });
  const check = (): void => { if (failure) throw failure; };
  const slot = async (): Promise<number> => {
    while (free.length === 0) {
      check();
      await new Promise<void>((resolve) => { wake = resolve; });
    }
    check();
    return free.shift()!;
  };
  return {
    async update(chunk) {
      check();
      if (isZeroChunk(chunk)) {
        if (chunk.length) worker.postMessage({ zeros: chunk.length });
        return;
      }
      for (let off = 0; off < chunk.length; off += SLOT_SIZE) {
        const part = chunk.subarray(off, Math.min(chunk.length, off + SLOT_SIZE));
        const s = await slot();
        bytes.set(part, s * SLOT_SIZE);
        worker.postMessage({ slot: s, length: part.length });
      }
    },
    async digest() {
      check();
      const hex = await new Promise<string>((resolve, reject) => {
        onDigest = resolve;
        worker.once('error', reject);
        worker.postMessage({ digest: true });
      });
      await worker.terminate();
      return hex;
    },
    abandon() { void worker.terminate(); },
  };
}

/** A hash on the calling thread: for small images, where a worker's start-up would cost more. */
export function inlineHash(): ImageHash {
  const hash = createHash('sha256');
  return {
    async update(chunk) { hash.update(chunk); },
    async digest() { return hash.digest('hex'); },
    abandon() {},
  };
}
