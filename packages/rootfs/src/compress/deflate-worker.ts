// The body of a deflate worker thread. It runs from its source text (`eval: true`), so it works the
// same from dist/ and from the TypeScript sources under tsx: nothing outside this function is
// referenced; the compiled wasm module and settings come in `workerData`, and the chunker factory
// (makeDeflateChunker, also self-contained) as an argument.
//
// Protocol. In: {seq, buffer, length, final}: compress the first `length` bytes of `buffer` (a
// transferred ArrayBuffer). Out: {seq, out, buffer} with the compressed bytes and the input buffer
// handed back for reuse (both transferred, not copied), or {seq, error}.
import type { DeflateChunker } from './deflate-wasm.js';

export interface DeflateWorkerData {
  module: object;
  level: number;
  /** The largest chunk the worker will be sent (the block size). */
  capacity: number;
}

export interface DeflateJob {
  seq: number;
  buffer: ArrayBuffer;
  length: number;
  final: boolean;
}

export type DeflateWorkerMessage = { seq: number; out: Uint8Array; buffer: ArrayBuffer } | { seq: number; error: string };

export function deflateWorker(makeChunker: (module: object, level: number, capacity: number) => DeflateChunker | string): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const d = workerData as DeflateWorkerData;
  const port = parentPort!;
  const chunker = makeChunker(d.module, d.level, d.capacity);
  port.on('message', (job: DeflateJob) => {
    if (typeof chunker === 'string') {
      port.postMessage({ seq: job.seq, error: chunker });
      return;
    }
    const out = chunker.compress(new Uint8Array(job.buffer, 0, job.length), job.final);
    if (typeof out === 'string') port.postMessage({ seq: job.seq, error: out });
    else port.postMessage({ seq: job.seq, out, buffer: job.buffer }, [out.buffer as ArrayBuffer, job.buffer]);
  });
}
