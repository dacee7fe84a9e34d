// The xz decoder: XZ Embedded (public domain / 0BSD) compiled to WebAssembly by wasm/build.sh, with a
// small C interface of ours (wasm/xz-embedded/glue.c). The .wasm ships in the package (wasm/); it is
// read relative to this module, which sits at the same depth in src/ (tests, via tsx) and dist/.
//   create_context(bufSize) -> ctx*   destroy_context(ctx)   supply_input(ctx, n)
//   stream mode: get_next_output(ctx) -> xz_ret   runs xz_dec_catrun(s, &b, finish = b.in_size == 0): whole
//     streams, concatenated streams and stream padding, every check verified; supplying 0 bytes ends input.
//   block mode:  block_reset(ctx, lzma2Props, checkId) -> xz_ret   block_run(ctx) -> xz_ret
//     block_check_matches(ctx, storedPtr) -> 0|1   the raw LZMA2 decoder over one block's Compressed Data,
//     the check computed only when checkId is not 0 (xz-parallel.ts).
import { readFileSync } from 'node:fs';
import { CompressInternalError } from './errors.js';

/** Layout of `struct ctx` (wasm/xz-embedded/glue.c), u32 words. */
export const CTX = {
  bufSize: 0, // uint32_t buf_size
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
  7: 'XZ_DATA_ERROR: corrupt or truncated data, or an integrity check (CRC32/CRC64/SHA-256) mismatch',
  8: 'XZ_BUF_ERROR: no progress possible, input truncated',
};

/** The compiled module, relative to this file: src/compress/ or dist/compress/ -> wasm/. */
const WASM_URL = new URL('../../wasm/xz-embedded.wasm', import.meta.url);

// lib ES2023 has no WebAssembly typings (they live in lib.dom): the few members used here.
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export interface XzExports {
  memory: { buffer: ArrayBuffer };
  create_context(bufSize: number): number;
  destroy_context(ctx: number): void;
  supply_input(ctx: number, n: number): void;
  get_next_output(ctx: number): number;
  block_reset(ctx: number, props: number, checkId: number): number;
  block_run(ctx: number): number;
  block_check_matches(ctx: number, stored: number): number;
}
const EXPORTS = ['create_context', 'destroy_context', 'supply_input', 'get_next_output', 'block_reset', 'block_run', 'block_check_matches'] as const;

let instance: XzExports | undefined;
let compiled: object | undefined;

/** The compiled wasm module (~22 KB), compiled synchronously once; worker threads get it too. */
export function xzWasmModule(): object {
  if (compiled) return compiled;
  let bytes: Buffer;
  try {
    bytes = readFileSync(WASM_URL);
  } catch (err) {
    throw new CompressInternalError(`cannot read the xz decoder ${WASM_URL.href} (${(err as Error).message}); the package is incomplete, reinstall it`);
  }
  compiled = new WA.Module(bytes);
  return compiled;
}

/** The shared wasm instance of this thread. */
export function xzWasm(): XzExports {
  if (instance) return instance;
  const exports = new WA.Instance(xzWasmModule(), {}).exports as unknown as XzExports;
  for (const name of EXPORTS) {
    if (typeof exports[name] !== 'function') throw new CompressInternalError(`xz wasm lacks export ${name}; rebuild it with wasm/build.sh`);
  }
  instance = exports;
  return instance;
}
