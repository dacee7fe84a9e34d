// Streaming gzip decoding with node's zlib (concatenated members are decoded, as gzip(1) does).
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DecompressError } from './errors.js';

export async function* gzipDecompress(input: AsyncIterable<Uint8Array>, what: string): AsyncGenerator<Uint8Array> {
  const gunzip = createGunzip();
  const source = Readable.from(input, { objectMode: false });
  let sourceError: unknown;
  source.on('error', (err) => {
    sourceError = err;
    gunzip.destroy(err);
  });
  source.pipe(gunzip);
  let total = 0;
  try {
    for await (const chunk of gunzip) {
      total += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
    if (total === 0 && gunzip.bytesWritten === 0) throw new DecompressError({ what, format: 'gz', reason: 'empty input' });
  } catch (err) {
    if (err === sourceError || err instanceof DecompressError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new DecompressError({ what, format: 'gz', reason: `${reason}, after ${gunzip.bytesWritten} input bytes` });
  } finally {
    source.destroy();
    gunzip.destroy();
  }
}
