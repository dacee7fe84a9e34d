// Streaming decompressors for the formats Debian uses: xz (wasm xz-embedded), zstd (fzstd), gzip (zlib).
import type { Readable } from 'node:stream';
import { DecompressError, type CompressionKind } from './errors.js';
import { gzipDecompress } from './gzip.js';
import { xzDecompress } from './xz.js';
import { zstdDecompress } from './zstd.js';

export { DecompressError, CompressInternalError, type CompressionKind, type DecompressErrorData } from './errors.js';
export { detectCompression, compressionFromName, DETECT_BYTES, XZ_HEADER_MAGIC, ZSTD_MAGIC, GZIP_MAGIC } from './detect.js';
export { XzDecoder, xzDecompressSync } from './xz.js';
export { planXzFileRegion, xzDecompressFile, type XzParallelOptions } from './xz-parallel.js';
export { planXzStream, type XzPlan, type XzBlock } from './xz-index.js';

export interface DecompressOptions {
  /** Names the data in error messages, e.g. "foo.deb: data.tar.xz". Default "input". */
  what?: string;
}

/**
 * Decodes `input` as it arrives. Memory stays bounded by one input chunk plus one output chunk;
 * corrupt or truncated input throws a `DecompressError` naming `opts.what`.
 */
export function decompressStream(
  kind: CompressionKind,
  input: AsyncIterable<Uint8Array> | Readable,
  opts: DecompressOptions = {},
): AsyncIterable<Uint8Array> {
  const what = opts.what ?? 'input';
  const source = input as AsyncIterable<Uint8Array>;
  switch (kind) {
    case 'xz':
      return xzDecompress(source, what);
    case 'zst':
      return zstdDecompress(source, what);
    case 'gz':
      return gzipDecompress(source, what);
    case 'none':
      return source;
    default:
      throw new DecompressError({ what, format: kind, reason: `unknown compression kind ${String(kind)}` });
  }
}
