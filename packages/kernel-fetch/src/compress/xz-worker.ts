// The body of an xz block-decoding worker thread. It runs from its source text (`eval: true`), so it
// works the same from dist/ and from the TypeScript sources under tsx: nothing outside this function
// is referenced, everything it needs comes in `workerData` (the compiled wasm module included).
//
// Protocol. In: a job per block (XzJob): read the block's Compressed Data (`dataSize` bytes of the file
// `path` at `dataPosition`) straight into the wasm heap and run the raw LZMA2 decoder over it (the
// Block Header was parsed when planning: `props`). The decoder must end exactly at the last byte and
// have produced `uncompressedSize` bytes; the Block Padding must be zeros; the Check is computed and
// compared only when `checkId` is not 0. A worker holds nothing between jobs but its wasm context, so it
// can serve the next decoding (of another file) once it has answered its last job.
// Out: {type:'data', block, bytes} chunks in order, then {type:'end', block} or
// {type:'error', block, reason, inputBytes}. Flow control, shared by all workers: `flow[FLOW_PENDING]`
// counts bytes posted and not yet consumed by the reader; above `cap` a worker sleeps on it. The worker
// of the block the reader is on (`flow[FLOW_READING]`) may go `slack` further: more than what other
// workers can overshoot the cap by (a chunk each), so the block being read always progresses.
// `flow[FLOW_STOP] = 1` asks every worker to stop.

/** Int32 slots of the shared flow-control array. */
export const FLOW_PENDING = 0;
export const FLOW_STOP = 1;
export const FLOW_READING = 2;
export const FLOW_SLOTS = 3;

/** What the main thread passes to each worker when starting it. */
export interface XzWorkerData {
  module: object;
  /** Word indexes of the context fields (CTX in xz-wasm.ts). */
  ctx: { inPtr: number; inPos: number; inSize: number; outPtr: number; outPos: number };
  /** Slots of the flow array (FLOW_*: the function body cannot see module constants). */
  slots: { pending: number; stop: number; reading: number };
  /** The wasm in and out buffer size; output is posted in chunks of at most this many bytes. */
  bufSize: number;
  /** xz_ret codes to messages (XZ_RET_REASON). */
  reasons: Record<number, string>;
}

export interface XzJob {
  block: number;
  path: string;
  /** File position and size of the block's Compressed Data. */
  dataPosition: number;
  dataSize: number;
  /** Block Padding, then the Check, right after the Compressed Data. */
  paddingSize: number;
  checkSize: number;
  /** The LZMA2 dictionary-size byte from the Block Header. */
  props: number;
  /** Check ID to verify (xz spec §3.4), or 0 to skip the check. */
  checkId: number;
  uncompressedSize: number;
  /** Int32Array slots shared by all workers of one decoding. */
  flow: SharedArrayBuffer;
  /** Undelivered bytes, all workers together, above which workers not decoding the block being read wait. */
  cap: number;
  slack: number;
}

export type XzWorkerMessage =
  | { type: 'data'; block: number; bytes: Uint8Array }
  | { type: 'end'; block: number }
  | { type: 'error'; block: number; reason: string; inputBytes: number };

export function xzBlockWorker(): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const fs = require('node:fs') as typeof import('node:fs');
  const d = workerData as XzWorkerData;
  const C = d.ctx;
  const WA = (globalThis as unknown as { WebAssembly: { Instance: new (m: object, i: object) => { exports: unknown } } }).WebAssembly;
  const wasm = new WA.Instance(d.module, {}).exports as {
    memory: { buffer: ArrayBuffer };
    create_context(bufSize: number): number;
    supply_input(ctx: number, n: number): void;
    block_reset(ctx: number, props: number, checkId: number): number;
    block_run(ctx: number): number;
    block_check_matches(ctx: number, stored: number): number;
  };
  const port = parentPort!;
  const XZ_OK = 0;
  const XZ_STREAM_END = 1;
  const STOPPED = -1;
  // One context for the worker's life: its dictionary is reused by every block.
  const ctx = wasm.create_context(d.bufSize);
  if (ctx === 0) throw new Error('xz wasm: out of memory creating a context');
  const words = (): Uint32Array => new Uint32Array(wasm.memory.buffer, ctx, 8); // memory may grow: fresh views

  class Failure {
    constructor(readonly reason: string) {}
  }

  port.on('message', (job: XzJob) => {
    const flow = new Int32Array(job.flow);
    let fd = -1;
    let inputBytes = 0;
    let outputBytes = 0;

    const post = (): void => {
      const w = words();
      const n = w[C.outPos]!;
      if (n === 0) return;
      outputBytes += n;
      if (outputBytes > job.uncompressedSize) throw new Failure(`block decodes to more than the ${job.uncompressedSize} bytes its Index record says`);
      const bytes = new Uint8Array(wasm.memory.buffer).slice(w[C.outPtr]!, w[C.outPtr]! + n);
      w[C.outPos] = 0;
      Atomics.add(flow, d.slots.pending, n);
      port.postMessage({ type: 'data', block: job.block, bytes }, [bytes.buffer]);
      for (;;) {
        if (Atomics.load(flow, d.slots.stop) !== 0) throw STOPPED;
        const v = Atomics.load(flow, d.slots.pending);
        if (v <= job.cap + (Atomics.load(flow, d.slots.reading) === job.block ? job.slack : 0)) break;
        Atomics.wait(flow, d.slots.pending, v, 100);
      }
    };

    try {
      const reset = wasm.block_reset(ctx, job.props, job.checkId);
      if (reset !== XZ_OK) throw reset;
      fd = fs.openSync(job.path, 'r');
      let ended = false;
      for (let done = 0; done < job.dataSize; ) {
        const n = Math.min(d.bufSize, job.dataSize - done);
        const got = fs.readSync(fd, new Uint8Array(wasm.memory.buffer, words()[C.inPtr]!, n), 0, n, job.dataPosition + done);
        if (got === 0) throw new Failure('file ends inside the block');
        wasm.supply_input(ctx, got);
        done += got;
        for (;;) {
          const ret = wasm.block_run(ctx);
          const w = words();
          const consumed = w[C.inPos]!;
          const full = w[C.outPos] === d.bufSize;
          if (full) post();
          if (ret === XZ_STREAM_END) {
            inputBytes += consumed;
            if (consumed !== got || done !== job.dataSize) throw new Failure(`LZMA2 data ends after ${inputBytes} of the block's ${job.dataSize} compressed bytes`);
            ended = true;
            break;
          }
          if (ret !== XZ_OK) {
            inputBytes += consumed;
            throw ret;
          }
          if (consumed === got && !full) {
            inputBytes += consumed;
            break; // needs more input
          }
        }
      }
      if (!ended) throw new Failure(`LZMA2 data does not end within the block's ${job.dataSize} compressed bytes (truncated)`);
      post();
      if (outputBytes !== job.uncompressedSize) throw new Failure(`block decodes to ${outputBytes} bytes, its Index record says ${job.uncompressedSize}`);
      // Block Padding (zeros), then the Check.
      const tailSize = job.paddingSize + job.checkSize;
      const inPtr = words()[C.inPtr]!;
      const tail = new Uint8Array(wasm.memory.buffer, inPtr, tailSize);
      if (fs.readSync(fd, tail, 0, tailSize, job.dataPosition + job.dataSize) !== tailSize) throw new Failure('file ends inside the block');
      if (tail.subarray(0, job.paddingSize).some((b) => b !== 0)) throw new Failure('Block Padding is not zeros');
      if (job.checkId !== 0 && wasm.block_check_matches(ctx, inPtr + job.paddingSize) !== 1) throw new Failure('integrity check mismatch');
      port.postMessage({ type: 'end', block: job.block });
    } catch (err) {
      if (err === STOPPED) return;
      const reason = err instanceof Failure ? err.reason : typeof err === 'number' ? (d.reasons[err] ?? `xz_ret ${err}`) : undefined;
      if (reason === undefined) throw err;
      words()[C.outPos] = 0;
      port.postMessage({ type: 'error', block: job.block, reason, inputBytes });
    } finally {
      if (fd >= 0) fs.closeSync(fd);
    }
  });
}
