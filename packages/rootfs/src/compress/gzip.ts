// Parallel gzip of a byte stream into ONE standard gzip member, the way pigz does it:
// the input is cut into fixed-size blocks; each block is deflated on the libuv threadpool as raw
// deflate primed with the previous block's last 32 KiB as dictionary and ended with a sync flush
// (which byte-aligns it), so the compressed blocks concatenate into one valid deflate stream.
// A final empty block, the CRC-32 and the length close the member (RFC 1952).
//
// Why not one gzip member per chunk of entries: a single large file (libjvm.so is 24 of a JRE's
// 35 MB) would then be compressed by one core, and GNU cpio stops at the first TRAILER!!!.
// Output depends only on the input bytes, level and block size: never on timing.
import { availableParallelism } from 'node:os';
import * as zlib from 'node:zlib';
import { crc32 } from './crc32.js';

/** gzip member header fields (RFC 1952 §2.3.1). */
const GZIP_ID1 = 0x1f;
const GZIP_ID2 = 0x8b;
const GZIP_CM_DEFLATE = 8;
/** XFL: 2 = maximum compression (level 9), 4 = fastest (level 1), else 0 (RFC 1952 §2.3.1; as zlib sets it). */
const xfl = (level: number): number => (level === 9 ? 2 : level === 1 ? 4 : 0);
/** OS = 3 (Unix), as zlib and GNU gzip write it. */
const GZIP_OS_UNIX = 3;
/** The deflate window: back-references reach at most 32 KiB (RFC 1951 §2). */
const DEFLATE_WINDOW = 32 * 1024;
/** A final (BFINAL=1), fixed-Huffman block holding only end-of-block: bits 1,01,0000000 (RFC 1951 §3.2.3, §3.2.6). */
const EMPTY_FINAL_BLOCK = new Uint8Array([0x03, 0x00]);

export interface GzipOptions {
  /** zlib level 0-9 (default 6, the size GNU `gzip -6` targets). */
  level?: number;
  /** Bytes of input per block (default 1 MiB, at least 64 KiB). The output depends on it. */
  blockSize?: number;
  /** Blocks being compressed at once (default: cores + 1, at most 4 = libuv's default pool). */
  concurrency?: number;
}

function deflateBlock(block: Uint8Array, dictionary: Uint8Array | undefined, level: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zlib.deflateRaw(block, {
      level,
      finishFlush: zlib.constants.Z_SYNC_FLUSH, // byte-aligned, not final: the next block continues the stream
      // One output buffer big enough for the whole block: a single threadpool job instead of
      // dozens of 16 KiB round trips that would wait on a busy main thread.
      // (deflate's worst case adds ~5 bytes per 16 KiB stored block: n/2048 + 1 KiB covers it.)
      chunkSize: block.length + (block.length >> 11) + 1024,
      ...(dictionary ? { dictionary } : {}),
    }, (err, out) => (err ? reject(err) : resolve(out)));
  });
}

export async function* gzipParallel(input: AsyncIterable<Uint8Array>, opts: GzipOptions = {}): AsyncGenerator<Uint8Array> {
  const level = opts.level ?? 6;
  const blockSize = Math.max(opts.blockSize ?? 1 << 20, 2 * DEFLATE_WINDOW);
  const concurrency = Math.max(1, opts.concurrency ?? Math.min(availableParallelism() + 1, 4));

  yield new Uint8Array([GZIP_ID1, GZIP_ID2, GZIP_CM_DEFLATE, 0, 0, 0, 0, 0, xfl(level), GZIP_OS_UNIX]); // FLG 0, MTIME 0

  // Input blocks are recycled once their deflate is done (zlib copies the dictionary when the next
  // block's stream is created), so a run allocates concurrency + 1 blocks, not one per MiB.
  const inFlight: Array<{ out: Promise<Buffer>; block: Uint8Array }> = [];
  const spare: Uint8Array[] = [];
  let crc = 0;
  let total = 0;
  let prev: Uint8Array | undefined;
  let block: Uint8Array = new Uint8Array(blockSize);
  let used = 0;
  let finishedPrev: Uint8Array | undefined; // prev's deflate is done; recycle it once the next block took its dictionary

  const dispatch = (data: Uint8Array): void => {
    crc = crc32(data, crc);
    total += data.length;
    const dictionary = prev ? prev.subarray(prev.length - Math.min(prev.length, DEFLATE_WINDOW)) : undefined;
    const out = deflateBlock(data, dictionary, level);
    out.catch(() => undefined); // awaited in order below; avoid an unhandled rejection meanwhile
    inFlight.push({ out, block: data });
    if (finishedPrev) spare.push(finishedPrev); // its tail was just copied in as the dictionary
    finishedPrev = undefined;
    prev = data;
  };
  const collect = async (): Promise<Buffer> => {
    const { out, block: done } = inFlight.shift()!;
    const bytes = await out;
    if (done.length === blockSize) {
      if (done === prev) finishedPrev = done; // still the next block's dictionary
      else spare.push(done);
    }
    return bytes;
  };

  for await (const chunk of input) {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(chunk.length - off, blockSize - used);
      block.set(chunk.subarray(off, off + n), used);
      used += n;
      off += n;
      if (used === blockSize) {
        dispatch(block);
        used = 0;
        while (inFlight.length >= concurrency) yield await collect();
        block = spare.pop() ?? new Uint8Array(blockSize);
      }
    }
  }
  if (used > 0) dispatch(block.subarray(0, used));
  while (inFlight.length) yield await collect();

  const trailer = new Uint8Array(EMPTY_FINAL_BLOCK.length + 8);
  trailer.set(EMPTY_FINAL_BLOCK, 0);
  const v = new DataView(trailer.buffer);
  v.setUint32(EMPTY_FINAL_BLOCK.length, crc >>> 0, true); // CRC32 (RFC 1952 §2.3.1)
  v.setUint32(EMPTY_FINAL_BLOCK.length + 4, total % 2 ** 32, true); // ISIZE: input length mod 2^32
  yield trailer;
}
