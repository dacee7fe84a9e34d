// Splits a byte stream into fixed-size clusters (zero-copy when chunks line up), reporting for each
// whether it is all zeros. The last cluster may be short when the stream is not a whole number of clusters.
import type { Hash } from 'node:crypto';
import { allZero, isZeroChunk } from '../chunks.js';

export interface Cluster {
  index: number;
  bytes: Uint8Array;
  zero: boolean;
}

export async function* clustersOf(src: AsyncIterable<Uint8Array>, clusterSize: number): AsyncGenerator<Cluster> {
  let index = 0;
  let pending: Uint8Array | undefined; // partially filled cluster
  let fill = 0;
  let pendingZeroTagged = true;
  for await (const chunk of src) {
    let off = 0;
    const tagged = isZeroChunk(chunk);
    while (off < chunk.length) {
      if (fill === 0 && chunk.length - off >= clusterSize) {
        // Whole cluster inside this chunk: no copy.
        const bytes = chunk.subarray(off, off + clusterSize);
        yield { index: index++, bytes, zero: tagged || allZero(bytes) };
        off += clusterSize;
        continue;
      }
      pending ??= new Uint8Array(clusterSize);
      const n = Math.min(clusterSize - fill, chunk.length - off);
      if (!tagged) { pending.set(chunk.subarray(off, off + n), fill); pendingZeroTagged = false; }
      else pending.fill(0, fill, fill + n);
      fill += n;
      off += n;
      if (fill === clusterSize) {
        yield { index: index++, bytes: pending, zero: pendingZeroTagged || allZero(pending) };
        pending = undefined; // handed out: the consumer may keep it
        fill = 0;
        pendingZeroTagged = true;
      }
    }
  }
  if (fill > 0 && pending) yield { index: index++, bytes: pending.subarray(0, fill), zero: pendingZeroTagged || allZero(pending.subarray(0, fill)) };
}

/** A raw image to convert: its size and a way to stream it (called once per pass). */
export interface RawSource {
  size: number;
  open: () => AsyncIterable<Uint8Array>;
}

/**
 * Pass 1 of a container write: which clusters hold data (1) and which are zeros (0). With `hash`,
 * data clusters are fed to it (zero clusters by index only), for ids derived from content.
 */
export async function scanAllocation(src: RawSource, clusterSize: number, hash?: Hash): Promise<Uint8Array> {
  const map = new Uint8Array(Math.ceil(src.size / clusterSize));
  let seen = 0;
  for await (const c of clustersOf(src.open(), clusterSize)) {
    if (c.index < map.length && !c.zero) map[c.index] = 1;
    if (hash) hash.update(c.zero ? `\0zero:${c.index}\0` : c.bytes);
    seen += c.bytes.length;
  }
  if (seen !== src.size) {
    const { ContentSizeError } = await import('../errors.js');
    throw new ContentSizeError(`raw image: ${seen} bytes read, ${src.size} expected`, { what: 'raw image', planned: src.size, actual: seen });
  }
  return map;
}
