// Streaming zstd decoding with fzstd (pure JS). fzstd checks the frame structure but not the optional
// XXH64 content checksum; the .deb's SHA256 from the Packages index covers integrity end to end.
import { Decompress } from 'fzstd';
import { DecompressError } from './errors.js';

/** Input is fed in slices this big so one push cannot produce unbounded output (blocks are <= 128 KiB). */
const ZSTD_FEED_BYTES = 16 * 1024;

export async function* zstdDecompress(input: AsyncIterable<Uint8Array>, what: string): AsyncGenerator<Uint8Array> {
  let out: Uint8Array[] = [];
  let total = 0;
  const dec = new Decompress((chunk) => {
    if (chunk.length > 0) out.push(chunk);
  });
  const push = (bytes: Uint8Array, final: boolean): Uint8Array[] => {
    try {
      dec.push(bytes, final);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new DecompressError({ what, format: 'zst', reason: `${reason}, after ${total} input bytes` });
    }
    const done = out;
    out = [];
    return done;
  };
  for await (const chunk of input) {
    for (let off = 0; off < chunk.length; off += ZSTD_FEED_BYTES) {
      const slice = chunk.subarray(off, off + ZSTD_FEED_BYTES);
      total += slice.length;
      yield* push(slice, false);
    }
  }
  if (total === 0) throw new DecompressError({ what, format: 'zst', reason: 'empty input' });
  yield* push(new Uint8Array(0), true);
}
