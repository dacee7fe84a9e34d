// The xz container structures needed to find block boundaries from the end of a file, and to wrap one
// block as a standalone stream: "The .xz File Format" 1.2.1 (tukaani.org/xz/xz-file-format.txt).
//   Stream  = Stream Header (12) | Block... | Index | Stream Footer (12), then optional Stream Padding
//   Index   = Index Indicator 0x00 | Number of Records | {Unpadded Size, Uncompressed Size}... | Padding | CRC32
// No I/O here: callers hand in the bytes (planning reads the tail of the file, decoding reads blocks).
import { crc32 } from 'node:zlib';
import { XZ_HEADER_MAGIC } from './detect.js';

/** §2.1.1: Stream Header size (Magic 6 + Stream Flags 2 + CRC32 4). */
export const XZ_STREAM_HEADER_SIZE = 12;
/** §2.1.2: Stream Footer size (CRC32 4 + Backward Size 4 + Stream Flags 2 + Footer Magic 2). */
export const XZ_STREAM_FOOTER_SIZE = 12;
/** §2.1.2.4: Footer Magic Bytes "YZ". */
export const XZ_FOOTER_MAGIC = Uint8Array.of(0x59, 0x5a);
/** §4.1: Index Indicator (a Block Header Size byte is never 0x00). */
export const XZ_INDEX_INDICATOR = 0x00;
/** §3.4: Check sizes by Check ID (Stream Flags byte 1, low nibble). */
export const XZ_CHECK_SIZE = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64] as const;
/** §2.1.3: Backward Size is stored as (real size / 4 - 1) in 32 bits. */
const MAX_BACKWARD_SIZE = 2 ** 34;

export interface XzBlock {
  /** Offset of the Block Header from the start of the stream. */
  offset: number;
  /** Block Header + Compressed Data + Check, without Block Padding (§4.3.1). */
  unpaddedSize: number;
  uncompressedSize: number;
  /** Bytes the block occupies on disk: the unpadded size rounded up to a multiple of four. */
  size: number;
}

export interface XzPlan {
  /** The 12 bytes of the Stream Header, reused for each standalone block stream. */
  header: Uint8Array;
  blocks: XzBlock[];
  uncompressedSize: number;
}

const round4 = (n: number): number => Math.ceil(n / 4) * 4;

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** §1.2 Multibyte Integers: little-endian base-128, at most 9 bytes, no trailing zero byte. */
export function decodeVarint(buf: Uint8Array, at: number): [value: number, next: number] | undefined {
  let value = 0;
  for (let i = 0; i < 9 && at + i < buf.length; i++) {
    const b = buf[at + i]!;
    value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return b === 0 && i > 0 ? undefined : [value, at + i + 1];
  }
  return undefined;
}

export function encodeVarint(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const low = n % 128;
    n = Math.floor(n / 128);
    if (n === 0) return [...out, low];
    out.push(low | 0x80);
  }
}

function le32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

/**
 * §2.1.2 Stream Footer: the Index size (from Backward Size) and the Stream Flags, or undefined when
 * the 12 bytes are not a valid footer.
 */
export function decodeStreamFooter(footer: Uint8Array): { indexSize: number; flags: Uint8Array } | undefined {
  if (footer.length !== XZ_STREAM_FOOTER_SIZE || !equalBytes(footer.subarray(10, 12), XZ_FOOTER_MAGIC)) return undefined;
  const dv = new DataView(footer.buffer, footer.byteOffset, footer.byteLength);
  if (crc32(footer.subarray(4, 10)) !== dv.getUint32(0, true)) return undefined;
  return { indexSize: (dv.getUint32(4, true) + 1) * 4, flags: footer.slice(8, 10) };
}

/** §4 Index: the records, or undefined when the bytes are not a valid Index. */
export function decodeIndex(index: Uint8Array): Array<{ unpaddedSize: number; uncompressedSize: number }> | undefined {
  if (index.length < 8 || index.length % 4 !== 0 || index[0] !== XZ_INDEX_INDICATOR) return undefined;
  const body = index.subarray(0, index.length - 4);
  const dv = new DataView(index.buffer, index.byteOffset, index.byteLength);
  if (crc32(body) !== dv.getUint32(index.length - 4, true)) return undefined;
  const count = decodeVarint(body, 1);
  if (!count) return undefined;
  let at = count[1];
  const records: Array<{ unpaddedSize: number; uncompressedSize: number }> = [];
  for (let i = 0; i < count[0]; i++) {
    const u = decodeVarint(body, at);
    if (!u) return undefined;
    const c = decodeVarint(body, u[1]);
    if (!c || u[0] === 0) return undefined;
    records.push({ unpaddedSize: u[0], uncompressedSize: c[0] });
    at = c[1];
  }
  // §4.4 Index Padding: zeros up to a multiple of four, then the CRC32.
  if (round4(at) !== body.length || body.subarray(at).some((b) => b !== 0)) return undefined;
  return records;
}

/**
 * Plans block-parallel decoding of a file holding one xz stream (plus optional Stream Padding).
 * `readAt(position, length)` reads the file. Returns undefined for anything else (several streams,
 * damaged footer or Index...): the caller then decodes sequentially, which reports damage precisely.
 */
export async function planXzStream(size: number, readAt: (position: number, length: number) => Promise<Uint8Array>): Promise<XzPlan | undefined> {
  if (size < XZ_STREAM_HEADER_SIZE + XZ_STREAM_FOOTER_SIZE) return undefined;
  const header = await readAt(0, XZ_STREAM_HEADER_SIZE);
  if (!equalBytes(header.subarray(0, XZ_HEADER_MAGIC.length), XZ_HEADER_MAGIC)) return undefined;
  // §2.2 Stream Padding: multiples of four null bytes after the footer.
  let end = size;
  while (end >= XZ_STREAM_HEADER_SIZE + XZ_STREAM_FOOTER_SIZE + 4) {
    const tail = await readAt(end - 4, 4);
    if (tail.some((b) => b !== 0)) break;
    end -= 4;
  }
  const footer = decodeStreamFooter(await readAt(end - XZ_STREAM_FOOTER_SIZE, XZ_STREAM_FOOTER_SIZE));
  if (!footer || !equalBytes(footer.flags, header.subarray(6, 8))) return undefined;
  if (footer.indexSize > MAX_BACKWARD_SIZE || footer.indexSize > end - XZ_STREAM_HEADER_SIZE - XZ_STREAM_FOOTER_SIZE) return undefined;
  const indexAt = end - XZ_STREAM_FOOTER_SIZE - footer.indexSize;
  const records = decodeIndex(await readAt(indexAt, footer.indexSize));
  if (!records) return undefined;
  const blocks: XzBlock[] = [];
  let at = XZ_STREAM_HEADER_SIZE;
  let uncompressedSize = 0;
  for (const r of records) {
    blocks.push({ offset: at, unpaddedSize: r.unpaddedSize, uncompressedSize: r.uncompressedSize, size: round4(r.unpaddedSize) });
    at += round4(r.unpaddedSize);
    uncompressedSize += r.uncompressedSize;
  }
  // The blocks must tile the stream exactly, or the stream does not start at 0 (concatenated streams).
  if (at !== indexAt) return undefined;
  return { header: header.slice(), blocks, uncompressedSize };
}

/**
 * What turns one block's bytes into a complete one-block stream, so an unmodified stream decoder
 * checks it (block check, Index record, footer): the original Stream Header before it, and a
 * one-record Index plus a Stream Footer after it.
 */
export function blockStreamSuffix(plan: XzPlan, block: XzBlock): Uint8Array {
  const fields = [XZ_INDEX_INDICATOR, ...encodeVarint(1), ...encodeVarint(block.unpaddedSize), ...encodeVarint(block.uncompressedSize)];
  const indexSize = round4(fields.length) + 4;
  const out = new Uint8Array(indexSize + XZ_STREAM_FOOTER_SIZE);
  out.set(fields, 0);
  out.set(le32(crc32(out.subarray(0, indexSize - 4))), indexSize - 4);
  const footer = out.subarray(indexSize);
  footer.set(le32(indexSize / 4 - 1), 4); // Backward Size
  footer.set(plan.header.subarray(6, 8), 8); // Stream Flags, equal to the header's
  footer.set(XZ_FOOTER_MAGIC, 10);
  footer.set(le32(crc32(footer.subarray(4, 10))), 0);
  return out;
}
