// The body of an xz block-decoding worker thread. It runs from its source text (`eval: true`), so it
// works the same from dist/ and from the TypeScript sources under tsx: nothing outside this function
// is referenced, everything it needs comes in `workerData` (the compiled wasm module included).
//
// Protocol. In: a job per block {block, path, position, size, header, suffix, flow, cap, slack}: read
// `size` bytes of the file `path` at `position`, decode header + bytes + suffix as one xz stream (see
// blockStreamSuffix in xz-index.ts). A worker holds nothing between jobs, so it can serve the next
// decoding (of another file) once it has answered its last job.
// Out: {type:'data', block, bytes} chunks in order, then {type:'end', block} or
// {type:'error', block, code, inputBytes}. Flow control, shared by all workers: `flow[FLOW_PENDING]`
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
  /** Word indexes of the DecompressionContext fields (CTX in xz-wasm.ts). */
  ctx: { bufSize: number; inPtr: number; inPos: number; inSize: number; outPtr: number; outPos: number };
  /** Slots of the flow array (FLOW_*: the function body cannot see module constants). */
  slots: { pending: number; stop: number; reading: number };
  /** Output is posted in chunks of this many bytes (fewer messages than the wasm's 64 KiB). */
  outChunk: number;
  readChunk: number;
}

export interface XzJob {
  block: number;
  path: string;
  position: number;
  size: number;
  header: Uint8Array;
  suffix: Uint8Array;
  /** Int32Array slots shared by all workers of one decoding. */
  flow: SharedArrayBuffer;
  /** Undelivered bytes, all workers together, above which workers not decoding the block being read wait. */
  cap: number;
  slack: number;
}

export type XzWorkerMessage =
  | { type: 'data'; block: number; bytes: Uint8Array }
  | { type: 'end'; block: number }
  | { type: 'error'; block: number; code: number; inputBytes: number };

export function xzBlockWorker(): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const fs = require('node:fs') as typeof import('node:fs');
  const d = workerData as XzWorkerData;
  const C = d.ctx;
  const WA = (globalThis as unknown as { WebAssembly: { Instance: new (m: object, i: object) => { exports: unknown } } }).WebAssembly;
  const wasm = new WA.Instance(d.module, {}).exports as {
    memory: { buffer: ArrayBuffer };
    create_context(): number;
    destroy_context(ctx: number): void;
    supply_input(ctx: number, n: number): void;
    get_next_output(ctx: number): number;
  };
  const port = parentPort!;
  const XZ_OK = 0;
  const XZ_STREAM_END = 1;
  const XZ_DATA_ERROR = 7;
  const XZ_BUF_ERROR = 8;
  const STOPPED = -1;

  port.on('message', (job: XzJob) => {
    const flow = new Int32Array(job.flow);
    const fd = fs.openSync(job.path, 'r');
    const ctx = wasm.create_context();
    const words = (): Uint32Array => new Uint32Array(wasm.memory.buffer, ctx, 8);
    const bufSize = words()[C.bufSize]!;
    let inputBytes = 0;
    let ended = false;
    let out = new Uint8Array(d.outChunk);
    let outLen = 0;

    const post = (): void => {
      if (outLen === 0) return;
      const bytes = out.subarray(0, outLen);
      Atomics.add(flow, d.slots.pending, outLen);
      port.postMessage({ type: 'data', block: job.block, bytes }, [out.buffer]);
      out = new Uint8Array(d.outChunk);
      outLen = 0;
      for (;;) {
        if (Atomics.load(flow, d.slots.stop) !== 0) throw STOPPED;
        const v = Atomics.load(flow, d.slots.pending);
        if (v <= job.cap + (Atomics.load(flow, d.slots.reading) === job.block ? job.slack : 0)) break;
        Atomics.wait(flow, d.slots.pending, v, 100);
      }
    };
    const run = (finishing: boolean): void => {
      for (;;) {
        const ret = wasm.get_next_output(ctx);
        const w = words(); // memory may have grown
        const outPos = w[C.outPos]!;
        if (outPos > 0) {
          const src = new Uint8Array(wasm.memory.buffer, w[C.outPtr]!, outPos);
          for (let off = 0; off < outPos; ) {
            const n = Math.min(outPos - off, out.length - outLen);
            out.set(src.subarray(off, off + n), outLen);
            outLen += n;
            off += n;
            if (outLen === out.length) post();
          }
          words()[C.outPos] = 0;
        }
        if (ret === XZ_STREAM_END) {
          ended = true;
          return;
        }
        if (ret !== XZ_OK) throw ret;
        const w2 = words();
        if (w2[C.inPos] === w2[C.inSize] && outPos !== bufSize) {
          if (finishing) throw XZ_BUF_ERROR;
          return;
        }
      }
    };
    const feed = (bytes: Uint8Array): void => {
      for (let off = 0; off < bytes.length; ) {
        if (ended) throw XZ_DATA_ERROR; // bytes after the stream end: the block is longer than its Index record
        const n = Math.min(bufSize, bytes.length - off);
        new Uint8Array(wasm.memory.buffer).set(bytes.subarray(off, off + n), words()[C.inPtr]!);
        wasm.supply_input(ctx, n);
        off += n;
        inputBytes += n;
        run(false);
      }
    };
    try {
      feed(job.header);
      const buf = new Uint8Array(d.readChunk);
      for (let done = 0; done < job.size; ) {
        const got = fs.readSync(fd, buf, 0, Math.min(buf.length, job.size - done), job.position + done);
        if (got === 0) throw XZ_BUF_ERROR;
        feed(buf.subarray(0, got));
        done += got;
      }
      feed(job.suffix);
      wasm.supply_input(ctx, 0); // end of input: xz_dec_catrun's `finish`
      run(true);
      if (!ended) throw XZ_BUF_ERROR;
      post();
      port.postMessage({ type: 'end', block: job.block });
    } catch (err) {
      if (err === STOPPED) return;
      if (typeof err !== 'number') throw err;
      port.postMessage({ type: 'error', block: job.block, code: err, inputBytes });
    } finally {
      wasm.destroy_context(ctx);
      fs.closeSync(fd);
    }
  });
}
