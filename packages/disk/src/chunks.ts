// Byte chunks as every writer here emits them, and zero runs the planner already knows about.
//
// A ZeroChunk is a Uint8Array that is known to hold only zeros: outputs skip (seek over) it without
// scanning, containers leave its clusters unallocated. All ZeroChunks are views of one shared,
// read-only-by-convention 1 MiB buffer: never write into a chunk you received.
import { ContentSizeError, InternalError } from './errors.js';

export class ZeroChunk extends Uint8Array {}

const ZERO_BLOCK_SIZE = 1 << 20;
const ZERO_BLOCK = new ZeroChunk(ZERO_BLOCK_SIZE);

export function isZeroChunk(c: Uint8Array): boolean {
  return c instanceof ZeroChunk;
}

/** `n` zero bytes as tagged chunks of at most 1 MiB. */
export function* zeros(n: number): Generator<Uint8Array> {
  while (n > 0) {
    const k = Math.min(n, ZERO_BLOCK_SIZE);
    yield ZERO_BLOCK.subarray(0, k);
    n -= k;
  }
}

/** Whether every byte of `c` is zero (fast path for tagged chunks). */
export function allZero(c: Uint8Array): boolean {
  if (isZeroChunk(c)) return true;
  for (let off = 0; off < c.length; off += ZERO_BLOCK_SIZE) {
    const part = c.subarray(off, Math.min(c.length, off + ZERO_BLOCK_SIZE));
    if (Buffer.compare(part, ZERO_BLOCK.subarray(0, part.length)) !== 0) return false;
  }
  return true;
}

/**
 * Passes chunks through, failing when the total differs from `size`. `what` names the content in the
 * message; `internal` makes the mismatch a bug (our own planned structures) rather than bad input.
 */
export async function* exactly(what: string, size: number, src: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, internal = false): AsyncGenerator<Uint8Array> {
  let seen = 0;
  const fail = (actual: string | number): never => {
    if (internal) throw new InternalError(`${what}: emitted ${actual} bytes, planned ${size}`);
    throw new ContentSizeError(`${what}: content has ${actual} bytes but ${size} were planned; did an input change during the build?`, {
      what, planned: size, actual: typeof actual === 'number' ? actual : size + 1,
    });
  };
  for await (const c of src) {
    seen += c.length;
    if (seen > size) fail(`more than ${size}`);
    if (c.length) yield c;
  }
  if (seen !== size) fail(seen);
}

/** Content of up to `room` bytes followed by zero padding to exactly `room` bytes. */
export async function* padTo(what: string, room: number, src: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let seen = 0;
  for await (const c of src) {
    seen += c.length;
    if (seen > room) {
      throw new ContentSizeError(`${what}: content is larger than its ${room}-byte space; give it more room`, { what, planned: room, actual: seen });
    }
    if (c.length) yield c;
  }
  yield* zeros(room - seen);
}

export function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** Collects a (small) stream into one buffer: tests and metadata only. */
export async function collect(src: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of src) parts.push(c);
  return Buffer.concat(parts);
}

/**
 * Adapts offset-tagged chunks ({offset, bytes} or {offset, zero: n}, as the ext4 writer's sparse
 * stream yields) to plain chunks with zero runs as ZeroChunks, checking the offsets are contiguous.
 */
export async function* fromOffsetChunks(src: AsyncIterable<{ offset: number; bytes?: Uint8Array; zero?: number }>): AsyncGenerator<Uint8Array> {
  let pos = 0;
  for await (const c of src) {
    if (c.offset !== pos) throw new InternalError(`offset-tagged stream jumps from ${pos} to ${c.offset}`);
    if (c.bytes) { yield c.bytes; pos += c.bytes.length; } else { yield* zeros(c.zero ?? 0); pos += c.zero ?? 0; }
  }
}
