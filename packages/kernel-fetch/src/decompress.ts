// Decompression of archive index files (.xz, .gz). A minimal private wrapper until the shared
// decompressors in compress/ land; xz goes through the `xz-decompress` WASM decoder, which handles the
// multi-block streams Debian's Packages.xz uses.
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { createGunzip } from 'node:zlib';

export type IndexCompression = 'xz' | 'gz' | 'none';

const require = createRequire(import.meta.url);

/** Wraps `input` (compressed bytes) in a stream of the decompressed bytes. */
export function decompressIndex(kind: IndexCompression, input: Readable): Readable {
  if (kind === 'none') return input;
  if (kind === 'gz') return input.pipe(createGunzip());
  // xz-decompress is CommonJS; load it lazily so a warm run that needs no xz never pays for the WASM.
  const { XzReadableStream } = require('xz-decompress') as {
    XzReadableStream: new (s: WebReadableStream<Uint8Array>) => WebReadableStream<Uint8Array>;
  };
  return Readable.fromWeb(new XzReadableStream(Readable.toWeb(input) as WebReadableStream<Uint8Array>));
}

/** The compression of an index file from its name. */
export function compressionOf(path: string): IndexCompression {
  if (path.endsWith('.xz')) return 'xz';
  if (path.endsWith('.gz')) return 'gz';
  return 'none';
}
