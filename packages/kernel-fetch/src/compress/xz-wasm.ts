// The xz decoder: xz-embedded (Lasse Collin, public domain) compiled to WebAssembly, as shipped inside
// the `xz-decompress` npm package. We instantiate that module ourselves instead of using the package's
// `XzReadableStream` because the wrapper (0.2.x) serialises all streams behind one global mutex (two
// live streams deadlock), crashes on empty input and hides the input position. Its C side is tiny:
//   create_context() -> ctx*   supply_input(ctx, n)   get_next_output(ctx) -> xz_ret   destroy_context(ctx)
// where get_next_output runs xz_dec_catrun(s, &b, /* finish = */ b.in_size == 0): concatenated streams
// and stream padding are handled, and supplying 0 bytes means "end of input".
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CompressInternalError } from './errors.js';

/** Layout of the C `DecompressionContext` (xz-decompress src/native/xz-decompress.h), u32 words. */
export const CTX = {
  bufSize: 0, // size_t bufsize (BUFSIZE = 65536)
  inPtr: 1, // struct xz_buf { const uint8_t *in;
  inPos: 2, //   size_t in_pos;
  inSize: 3, //   size_t in_size;
  outPtr: 4, //   uint8_t *out;
  outPos: 5, //   size_t out_pos;
  outSize: 6, //   size_t out_size; }
} as const;

/** enum xz_ret, xz-embedded linux/include/linux/xz.h. */
export const XZ_OK = 0;
export const XZ_STREAM_END = 1;
export const XZ_RET_REASON: Record<number, string> = {
  2: 'XZ_UNSUPPORTED_CHECK: unsupported integrity check type',
  3: 'XZ_MEM_ERROR: out of memory',
  4: 'XZ_MEMLIMIT_ERROR: LZMA2 dictionary larger than 64 MiB',
  5: 'XZ_FORMAT_ERROR: not xz data (bad magic bytes)',
  6: 'XZ_OPTIONS_ERROR: unsupported header options or filter chain',
  7: 'XZ_DATA_ERROR: corrupt or truncated data, or an integrity check (CRC32/CRC64) mismatch',
  8: 'XZ_BUF_ERROR: no progress possible, input truncated',
};

// lib ES2023 has no WebAssembly typings (they live in lib.dom): the few members used here.
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export interface XzExports {
  memory: { buffer: ArrayBuffer };
  create_context(): number;
  destroy_context(ctx: number): void;
  supply_input(ctx: number, n: number): void;
  get_next_output(ctx: number): number;
}

let instance: XzExports | undefined;
let compiled: object | undefined;

/** The compiled wasm module (~20 KB of code), compiled synchronously once; worker threads get it too. */
export function xzWasmModule(): object {
  if (compiled) return compiled;
  const require = createRequire(import.meta.url);
  const file = require.resolve('xz-decompress');
  const m = /data:application\/wasm;base64,([A-Za-z0-9+/=]+)/.exec(readFileSync(file, 'latin1'));
  if (!m) throw new CompressInternalError(`no embedded wasm module found in ${file}; xz-decompress changed its layout`);
  compiled = new WA.Module(Buffer.from(m[1]!, 'base64'));
  return compiled;
}

/** The shared wasm instance of this thread. */
export function xzWasm(): XzExports {
  if (instance) return instance;
  const module = xzWasmModule();
  const exports = new WA.Instance(module, {}).exports as unknown as XzExports;
  for (const name of ['create_context', 'destroy_context', 'supply_input', 'get_next_output'] as const) {
    if (typeof exports[name] !== 'function') throw new CompressInternalError(`xz-decompress wasm lacks export ${name}`);
  }
  instance = exports;
  return instance;
}
