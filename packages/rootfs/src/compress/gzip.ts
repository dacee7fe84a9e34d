// Parallel gzip of a byte stream into ONE standard gzip member (RFC 1952), the way pigz does it:
// the input is cut into fixed-size blocks, each block is compressed by libdeflate (WASM, see
// deflate-wasm.ts) on a worker thread as raw DEFLATE of its own (no back-reference leaves a
// block: this costs ~0.2% of size at 1 MiB blocks), ended with an empty stored block so the blocks
// concatenate into one DEFLATE stream; the last block has BFINAL=1. CRC-32 and length close the member.
//
// Why not one gzip member per chunk of entries: a single large file (libjvm.so is 24 of a JRE's
// 35 MB) would then be compressed by one core, and GNU cpio stops at the first TRAILER!!!.
// Output depends only on the input bytes, level and block size: never on timing or thread count.
// Memory: at most 2 blocks per thread in flight, plus the block being filled.
import { availableParallelism } from 'node:os';
import { crc32 } from './crc32.js';
import { DeflatePool } from './deflate-pool.js';
import { DEFLATE_MAX_LEVEL, DEFLATE_MIN_LEVEL, deflateWasmModule, makeDeflateChunker, type DeflateChunker } from './deflate-wasm.js';
import { CompressError } from './errors.js';

/** gzip member header fields (RFC 1952 §2.3.1). */
const GZIP_ID1 = 0x1f;
const GZIP_ID2 = 0x8b;
const GZIP_CM_DEFLATE = 8;
/** XFL: 2 = slowest/maximum compression, 4 = fastest (RFC 1952 §2.3.1), set from the level as libdeflate's gzip writer does. */
const xfl = (level: number): number => (level < 2 ? 4 : level >= 8 ? 2 : 0);
/** OS = 3 (Unix), as zlib and GNU gzip write it. */
const GZIP_OS_UNIX = 3;
const MIN_BLOCK_SIZE = 64 * 1024;
const DEFAULT_BLOCK_SIZE = 1 << 20;
/** Threads beyond this gain little (the cpio producer on the main thread becomes the limit). */
const DEFAULT_MAX_THREADS = 4;
/** Blocks queued per thread: one being compressed, one waiting, so a thread never idles on the main thread. */
const BLOCKS_PER_THREAD = 2;

export interface GzipOptions {
  /**
   * libdeflate level 0-12 (default 6). 1-9 trade speed for size like gzip's levels (libdeflate's
   * 6 is smaller than GNU gzip -6 on machine code); 10-12 are much slower near-optimal parsing; 0 stores.
   */
  level?: number;
  /** Bytes of input per block (default 1 MiB, at least 64 KiB). The output depends on it. */
  blockSize?: number;
  /**
   * Worker threads (default: the machine's parallelism, at most 4); 0 compresses every block on the
   * calling thread (for a small input, starting workers costs more than it saves). An input that
   * fits in one block is always compressed on the calling thread. The output does not depend on it.
   */
  concurrency?: number;
}

function gzipHeader(level: number): Uint8Array {
  // FLG 0 (no name, no extra), MTIME 0 (no timestamp: reproducible), XFL, OS.
  return new Uint8Array([GZIP_ID1, GZIP_ID2, GZIP_CM_DEFLATE, 0, 0, 0, 0, 0, xfl(level), GZIP_OS_UNIX]);
}

function gzipTrailer(crc: number, total: number): Uint8Array {
  const t = new Uint8Array(8);
  const v = new DataView(t.buffer);
  v.setUint32(0, crc >>> 0, true); // CRC32 (RFC 1952 §2.3.1)
  v.setUint32(4, total % 2 ** 32, true); // ISIZE: input length mod 2^32
  return t;
}

export async function* gzipParallel(input: AsyncIterable<Uint8Array>, opts: GzipOptions = {}): AsyncGenerator<Uint8Array> {
  const level = opts.level ?? 6;
  if (!(Number.isInteger(level) && level >= DEFLATE_MIN_LEVEL && level <= DEFLATE_MAX_LEVEL)) {
    throw new CompressError('E_COMPRESS_OPTION', `gzip level ${level} is not valid; use ${DEFLATE_MIN_LEVEL}-${DEFLATE_MAX_LEVEL} (default 6)`, { method: 'gzip', level });
  }
  const blockSize = Math.max(opts.blockSize ?? DEFAULT_BLOCK_SIZE, MIN_BLOCK_SIZE);
  const threads = Math.max(0, opts.concurrency ?? Math.min(availableParallelism(), DEFAULT_MAX_THREADS));
  const module = deflateWasmModule();
  // On the calling thread: one libdeflate instance, made on first use.
  let inline: DeflateChunker | string | undefined; // a string says why it could not be made
  const compressHere = (data: Uint8Array, final: boolean): Uint8Array => {
    inline ??= makeDeflateChunker(module, level, blockSize);
    const out = typeof inline === 'string' ? inline : inline.compress(data, final);
    if (typeof out === 'string') throw new CompressError('E_COMPRESS_INTERNAL', `gzip level ${level}: ${out}`, { method: 'gzip', level, reason: out });
    return out;
  };

  yield gzipHeader(level);
  let crc = 0;
  let total = 0;
  let pool: DeflatePool | undefined;
  const inFlight: Array<Promise<Uint8Array>> = [];
  let block: Uint8Array = new Uint8Array(blockSize);
  let used = 0;
  const dispatch = (final: boolean): void => {
    crc = crc32(block.subarray(0, used), crc);
    total += used;
    if (threads === 0) {
      inFlight.push(Promise.resolve(compressHere(block.subarray(0, used), final)));
      used = 0;
      return;
    }
    pool ??= new DeflatePool(module, level, blockSize, threads);
    const out = pool.compress(block, used, final);
    out.catch(() => undefined); // awaited in order below; no unhandled rejection meanwhile
    inFlight.push(out);
    block = final ? block : pool.takeBlock();
    used = 0;
  };
  try {
    for await (const chunk of input) {
      for (let off = 0; off < chunk.length; ) {
        // A full block is sent only once more input exists: the last block must be the final one.
        if (used === blockSize) {
          dispatch(false);
          while (inFlight.length >= Math.max(1, threads * BLOCKS_PER_THREAD)) yield await inFlight.shift()!;
        }
        const n = Math.min(chunk.length - off, blockSize - used);
        block.set(chunk.subarray(off, off + n), used);
        used += n;
        off += n;
      }
    }
    if (pool || threads === 0) {
      dispatch(true);
      while (inFlight.length) yield await inFlight.shift()!;
    } else {
      // One block in all (a small initrd): no threads to start.
      const data = block.subarray(0, used);
      crc = crc32(data, crc);
      total += used;
      yield compressHere(data, true);
    }
  } finally {
    await pool?.close();
  }
  yield gzipTrailer(crc, total);
}
