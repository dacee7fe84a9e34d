// Index files (.xz, .gz) are decoded by the shared streaming decompressors in compress/.
import { Readable } from 'node:stream';
import { decompressStream } from './compress/index.js';

export type IndexCompression = 'xz' | 'gz' | 'none';

/** Wraps `input` (compressed bytes) in a stream of the decompressed bytes; `what` names it in errors. */
export function decompressIndex(kind: IndexCompression, input: Readable, what: string): Readable {
  if (kind === 'none') return input;
  return Readable.from(decompressStream(kind, input, { what }), { objectMode: false });
}

/** The compression of an index file from its name. */
export function compressionOf(path: string): IndexCompression {
  if (path.endsWith('.xz')) return 'xz';
  if (path.endsWith('.gz')) return 'gz';
  return 'none';
}
