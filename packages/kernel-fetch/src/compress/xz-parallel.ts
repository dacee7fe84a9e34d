// Block-parallel xz decoding of a region of a file (e.g. a .deb's data.tar.xz member). xz streams
// made by multi-threaded xz (Debian's packages are) hold several independent blocks, listed with
// their sizes in the Index at the end of the stream. Each block goes to a worker thread, which runs
// the raw LZMA2 decoder over its Compressed Data (the Block Header was parsed when planning) and checks
// that it ends exactly at the block's end with the uncompressed size the Index records; this generator
// hands the output out strictly in order.
// The block Check (CRC64 for Debian's packages) is skipped unless `check: true`: the callers decode
// .deb files whose SHA256 was verified against the signed Packages index, and the CRC64 cost about 12%
// of the decoding time. Data without such a guarantee goes through `check: true` or the streaming XzDecoder.
// Memory: `cap` undelivered bytes plus a few chunks, and per worker its wasm buffers and dictionary.
// Workers that answered all their jobs wait a moment for the next decoding (starting two costs ~45 ms
// and as much CPU, per package extracted); idle ones do not keep the process alive.
import { open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { CompressInternalError, DecompressError } from './errors.js';
import { planXzStream, type XzPlan } from './xz-index.js';
import { CTX, XZ_RET_REASON, xzWasmModule } from './xz-wasm.js';
import { XzDecoder } from './xz.js';
import { FLOW_PENDING, FLOW_READING, FLOW_SLOTS, FLOW_STOP, xzBlockWorker, type XzJob, type XzWorkerData, type XzWorkerMessage } from './xz-worker.js';

export interface XzParallelOptions {
  /** Worker threads; default: the machine's parallelism, at most 4, at most one per block. */
  threads?: number;
  /** Decoded bytes held for the reader, all workers together, before workers ahead of it wait (default 64 MiB). */
  cap?: number;
  /**
   * Verify each block's Check (CRC32/CRC64/SHA-256) too. Default false: for data whose integrity is
   * established otherwise (a .deb whose SHA256 matched the signed index). The structure is always
   * checked: LZMA2 must end exactly at the block's end, with the uncompressed size of its Index record.
   */
  check?: boolean;
}

const DEFAULT_MAX_THREADS = 4;
/**
 * Read-ahead: xz -T makes 24 MiB blocks at -6, and the first block of a kernel package (vmlinuz,
 * incompressible) decodes about as long as the next two or three together, so the other worker(s)
 * need room for more than two blocks to stay busy meanwhile.
 */
const DEFAULT_CAP = 64 * 1024 * 1024;
/** The shared byte counter is an Int32: keep cap + slack well inside it. */
const MAX_CAP = 2 ** 30;
/** The workers' wasm in and out buffers: input is read and output posted in pieces of this size. */
const OUT_CHUNK = 1024 * 1024;
/** Room the block being read gets beyond the cap, in chunks: more than the others overshoot it by (one chunk each). */
const SLACK_CHUNKS = 8;

/** How long finished workers wait for the next decoding before they are ended (a package set is unpacked one after another). */
const IDLE_MS = 5000;

// tsx (used by the tests) compiles with keepNames, which wraps nested functions in __name(...);
// esbuild's bundle of the mkimage command turns require(...) into __require(...).
const WORKER_SOURCE = `const __name = (f) => f;\nconst __require = require;\n(${xzBlockWorker.toString()})();\n`;

const idle: Worker[] = [];
let idleTimer: ReturnType<typeof setTimeout> | undefined;

/** Workers waiting for the next decoding (for tests). */
export function idleXzWorkers(): number {
  return idle.length;
}

/**
 * The process's node options for a worker, less --input-type: a worker inherits them, and with
 * `--input-type=module` (node -e with imports) it would read its CommonJS source as ESM and fail.
 * (@mkimage/rootfs's evalWorker does the same; kernel-fetch depends on no other workspace package.)
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  for (let i = 0; i < process.execArgv.length; i++) {
    const a = process.execArgv[i]!;
    if (a === '--input-type') i++; // the value follows
    else if (!a.startsWith('--input-type=')) out.push(a);
  }
  return out;
}

/** An idle worker, or a new one. */
function takeWorker(): Worker {
  const reused = idle.pop();
  if (reused) {
    reused.ref();
    return reused;
  }
  const data: XzWorkerData = { module: xzWasmModule(), ctx: CTX, slots: { pending: FLOW_PENDING, stop: FLOW_STOP, reading: FLOW_READING }, bufSize: OUT_CHUNK, reasons: XZ_RET_REASON };
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: data, execArgv: workerExecArgv() });
  // Whatever happens to it while idle, it leaves the pool (a decoding in progress has its own listeners).
  const leave = (): void => {
    const i = idle.indexOf(worker);
    if (i >= 0) idle.splice(i, 1);
  };
  worker.on('error', leave);
  worker.on('exit', leave);
  return worker;
}

/** Keeps workers that have no job in progress for the next decoding, for IDLE_MS. */
function releaseWorkers(workers: Worker[]): void {
  for (const w of workers) {
    w.unref();
    idle.push(w);
  }
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    idleTimer = undefined;
    for (const w of idle.splice(0)) void w.terminate();
  }, IDLE_MS);
  idleTimer.unref();
}

interface BlockState {
  chunks: Uint8Array[];
  done: boolean;
  error?: { reason: string; inputBytes: number };
  worker: number;
}

/**
 * The block layout of the xz stream in bytes [offset, offset + length) of the file `path`, when it
 * is one stream whose footer and Index are intact; undefined otherwise (decode it sequentially).
 */
export async function planXzFileRegion(path: string, offset: number, length: number): Promise<XzPlan | undefined> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    if (offset + length > size) return undefined;
    return await planXzStream(length, async (position, n) => {
      const buf = Buffer.alloc(n);
      const { bytesRead } = await fh.read(buf, 0, n, offset + position);
      return buf.subarray(0, bytesRead);
    });
  } finally {
    await fh.close();
  }
}

/**
 * Decodes the xz stream stored at `offset` in the file `path`, laid out as `plan` says
 * (planXzStream). Throws DecompressError naming `what` for damaged blocks. Block Checks are verified
 * only with `opts.check` (see XzParallelOptions.check).
 */
export async function* xzDecompressFile(path: string, offset: number, plan: XzPlan, what: string, opts: XzParallelOptions = {}): AsyncGenerator<Uint8Array> {
  new XzDecoder(what).dispose(); // checks the wasm ABI the workers rely on, in this thread, with its error
  const n = Math.max(1, Math.min(opts.threads ?? Math.min(availableParallelism(), DEFAULT_MAX_THREADS), plan.blocks.length));
  const cap = Math.min(opts.cap ?? DEFAULT_CAP, MAX_CAP);
  const slack = Math.max(SLACK_CHUNKS, 2 * n) * OUT_CHUNK;
  const states: BlockState[] = plan.blocks.map(() => ({ chunks: [], done: false, worker: -1 }));
  const flow = new Int32Array(new SharedArrayBuffer(FLOW_SLOTS * 4));
  const workers: Worker[] = [];
  /** Per worker: the block it is decoding, or -1. */
  const busy: number[] = [];
  const listeners: Array<{ message: (m: XzWorkerMessage) => void; error: (err: unknown) => void; exit: (code: number) => void }> = [];
  let fatal: unknown;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  let next = 0;
  const assign = (w: number): void => {
    if (next >= plan.blocks.length || fatal !== undefined) return;
    const block = next++;
    const b = plan.blocks[block]!;
    states[block]!.worker = w;
    const dataSize = b.unpaddedSize - b.headerSize - plan.checkSize;
    const job: XzJob = {
      block,
      path,
      dataPosition: offset + b.offset + b.headerSize,
      dataSize,
      paddingSize: b.size - b.unpaddedSize,
      checkSize: plan.checkSize,
      props: b.lzma2Props,
      checkId: opts.check ? plan.checkId : 0,
      uncompressedSize: b.uncompressedSize,
      flow: flow.buffer as SharedArrayBuffer,
      cap,
      slack,
    };
    busy[w] = block;
    workers[w]!.postMessage(job);
  };

  try {
    for (let w = 0; w < n; w++) {
      const worker = takeWorker();
      workers.push(worker);
      busy.push(-1);
      const l = {
        message: (m: XzWorkerMessage): void => {
          const s = states[m.block]!;
          if (m.type === 'data') s.chunks.push(m.bytes);
          else if (m.type === 'end') s.done = true;
          else s.error = { reason: m.reason, inputBytes: m.inputBytes };
          if (m.type !== 'data') {
            busy[w] = -1;
            assign(w);
          }
          notify();
        },
        error: (err: unknown): void => {
          fatal ??= err;
          notify();
        },
        exit: (code: number): void => {
          fatal ??= new CompressInternalError(`xz worker thread exited (code ${code}) while decoding ${what}`);
          notify();
        },
      };
      listeners.push(l);
      worker.on('message', l.message);
      worker.on('error', l.error);
      worker.on('exit', l.exit);
    }
    for (let w = 0; w < n; w++) assign(w);

    for (let block = 0; block < states.length; block++) {
      const s = states[block]!;
      Atomics.store(flow, FLOW_READING, block);
      Atomics.notify(flow, FLOW_PENDING);
      for (;;) {
        const chunk = s.chunks.shift();
        if (chunk) {
          yield chunk;
          Atomics.sub(flow, FLOW_PENDING, chunk.length);
          Atomics.notify(flow, FLOW_PENDING);
          continue;
        }
        if (s.error) {
          // inputBytes counts the block's Compressed Data consumed; `at` is from the start of the stream.
          const b = plan.blocks[block]!;
          const at = b.offset + b.headerSize + s.error.inputBytes;
          throw new DecompressError({ what, format: 'xz', reason: `${s.error.reason}, in block ${block + 1} of ${states.length}, after ${at} input bytes` });
        }
        if (s.done) break;
        if (fatal !== undefined) throw fatal;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    }
  } finally {
    Atomics.store(flow, FLOW_STOP, 1);
    Atomics.notify(flow, FLOW_PENDING);
    const keep: Worker[] = [];
    const end: Worker[] = [];
    workers.forEach((w, i) => {
      const l = listeners[i];
      if (l) {
        w.off('message', l.message);
        w.off('error', l.error);
        w.off('exit', l.exit);
      }
      // A worker still on a job (we stopped early, or failed) could post to the next decoding: end it.
      (l && busy[i] === -1 && fatal === undefined ? keep : end).push(w);
    });
    releaseWorkers(keep);
    await Promise.all(end.map((w) => w.terminate()));
  }
}
