// libdeflate's DEFLATE compressor compiled to WebAssembly (../../wasm/: sources, patch, build.sh).
// Why not node's zlib: node bundles Chromium's zlib, whose hash covers 4 bytes, so it never finds
// the 3-byte matches that machine code is full of: ~2% bigger than GNU gzip -6 on libjvm.so,
// whatever the settings. libdeflate level 6 is ~0.7% smaller than GNU gzip -6 there, and faster.
import { readFileSync } from 'node:fs';
import { CompressError } from './errors.js';

/** The subset of the WebAssembly API used here (this package's TypeScript lib has no DOM types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

/** libdeflate levels: 0 = stored only, 1 fastest ... 9 (lazy matching), 10-12 near-optimal parsing. */
export const DEFLATE_MIN_LEVEL = 0;
export const DEFLATE_MAX_LEVEL = 12;

const WASM_URL = new URL('../../wasm/libdeflate.wasm', import.meta.url);
let compiled: object | undefined;

/** The compiled module (compiled once per thread that asks; workers get it through workerData). */
export function deflateWasmModule(): object {
  if (compiled) return compiled;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(WASM_URL);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new CompressError('E_COMPRESS_INTERNAL', `gzip: libdeflate.wasm is missing from @mkimage/rootfs (${reason}); reinstall the package`, { method: 'gzip', reason });
  }
  compiled = new (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly.Module(bytes);
  return compiled;
}

export interface DeflateChunker {
  /**
   * Raw DEFLATE of `data` alone (no back-reference leaves it). `final`: its last block has BFINAL=1;
   * else no block has, and it ends with an empty stored block (zlib's Z_SYNC_FLUSH ending), so the
   * next chunk's bytes can follow. Returns a fresh array, or a string saying what failed.
   */
  compress(data: Uint8Array, final: boolean): Uint8Array | string;
}

/**
 * An instance of the module with one compressor for chunks of at most `capacity` bytes.
 * Self-contained (no reference outside its body): the worker threads run its source text too.
 */
export function makeDeflateChunker(module: object, level: number, capacity: number): DeflateChunker | string {
  const WA = (globalThis as unknown as { WebAssembly: { Instance: new (m: object, i: object) => { exports: unknown } } }).WebAssembly;
  const e = new WA.Instance(module, {}).exports as {
    memory: { buffer: ArrayBuffer };
    mk_init(level: number, capacity: number): number;
    mk_in(): number;
    mk_out(): number;
    mk_chunk(n: number, final: number): number;
  };
  const status = e.mk_init(level, capacity);
  if (status !== 0) return status === 1 ? `libdeflate rejects level ${level}` : `libdeflate is out of memory for ${capacity}-byte chunks`;
  const inPtr = e.mk_in();
  const outPtr = e.mk_out();
  return {
    compress(data, final) {
      if (data.length > capacity) return `a ${data.length}-byte chunk exceeds the ${capacity}-byte capacity`;
      new Uint8Array(e.memory.buffer, inPtr, data.length).set(data);
      const n = e.mk_chunk(data.length, final ? 1 : 0);
      if (n === 0) return `libdeflate could not compress a ${data.length}-byte chunk`;
      return new Uint8Array(e.memory.buffer, outPtr, n).slice();
    },
  };
}
