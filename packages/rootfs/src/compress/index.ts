// Initramfs compression: none, gzip (libdeflate in WASM, block-parallel, one member; default) or zstd (when node has it).
import * as zlib from 'node:zlib';
import { CompressError } from './errors.js';
import { gzipParallel, type GzipOptions } from './gzip.js';
import { DEFLATE_MAX_LEVEL, DEFLATE_MIN_LEVEL, deflateWasmModule } from './deflate-wasm.js';

export { gzipParallel, type GzipOptions } from './gzip.js';
export { crc32 } from './crc32.js';
export { CompressError, type CompressErrorCode } from './errors.js';

export type Compression = 'none' | 'gzip' | 'zstd';
export const COMPRESSIONS: readonly Compression[] = ['none', 'gzip', 'zstd'];

export interface CompressOptions extends GzipOptions {
  /** gzip: libdeflate 0-12 (default 6); zstd: 1-19 (default 3). */
  level?: number;
}

type ZstdFactory = (opts: { params: Record<number, number> }) => NodeJS.ReadWriteStream;
const zstdCompress = (zlib as unknown as { createZstdCompress?: ZstdFactory }).createZstdCompress;
/** True when this runtime's zlib has zstd (Node >= 22.15 / 23.8). */
export const hasZstd = typeof zstdCompress === 'function';

async function* passThrough(input: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* input;
}

async function* zstdStream(input: AsyncIterable<Uint8Array>, level: number): AsyncGenerator<Uint8Array> {
  const constants = zlib.constants as unknown as Record<string, number>;
  const z = zstdCompress!({ params: { [constants.ZSTD_c_compressionLevel!]: level } });
  const feed = (async () => {
    try {
      for await (const chunk of input) {
        if (!z.write(chunk)) await new Promise<void>((r) => z.once('drain', () => r()));
      }
      z.end();
    } catch (err) {
      (z as unknown as { destroy(e: unknown): void }).destroy(err);
    }
  })();
  for await (const out of z as unknown as AsyncIterable<Uint8Array>) yield out;
  await feed;
}

/**
 * Compresses a cpio byte stream for the kernel's initramfs unpacker. Checks the method and level
 * up front (so nothing is written when they are wrong) and returns the compressed stream.
 */
export function compressInitramfs(cpio: AsyncIterable<Uint8Array>, method: Compression, opts: CompressOptions = {}): AsyncGenerator<Uint8Array> {
  const level = opts.level;
  switch (method) {
    case 'none':
      return passThrough(cpio);
    case 'gzip':
      if (level !== undefined && !(Number.isInteger(level) && level >= DEFLATE_MIN_LEVEL && level <= DEFLATE_MAX_LEVEL)) {
        throw new CompressError('E_COMPRESS_OPTION', `gzip level ${level} is not valid; use ${DEFLATE_MIN_LEVEL}-${DEFLATE_MAX_LEVEL} (default 6)`, { method, level });
      }
      deflateWasmModule(); // a missing .wasm fails here, before anything is written
      return gzipParallel(cpio, opts);
    case 'zstd':
      if (!hasZstd) {
        throw new CompressError('E_COMPRESS_UNSUPPORTED', `zstd compression needs Node >= 22.15 (this is ${process.version}); use --compress gzip`, { method });
      }
      if (level !== undefined && !(Number.isInteger(level) && level >= 1 && level <= 19)) {
        throw new CompressError('E_COMPRESS_OPTION', `zstd level ${level} is not valid; use 1-19 (default 3)`, { method, level });
      }
      return zstdStream(cpio, level ?? 3);
    default:
      throw new CompressError('E_COMPRESS_OPTION', `unknown compression ${JSON.stringify(method)}; use one of ${COMPRESSIONS.join(', ')}`, { method: String(method) });
  }
}
