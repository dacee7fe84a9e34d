// The xz container structures needed to find block boundaries from the end of a file and to decode
// one block on its own: "The .xz File Format" 1.2.1 (tukaani.org/xz/xz-file-format.txt).
//   Stream  = Stream Header (12) | Block... | Index | Stream Footer (12), then optional Stream Padding
//   Index   = Index Indicator 0x00 | Number of Records | {Unpadded Size, Uncompressed Size}... | Padding | CRC32
//   Block   = Block Header | Compressed Data | Block Padding (to 4) | Check
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
/** §3.1.1: the largest Block Header, (0xFF + 1) * 4 bytes. */
export const XZ_BLOCK_HEADER_MAX = 1024;
/** §3.1.2 Block Flags: bits 0-1 number of filters - 1; 0x40 Compressed Size present; 0x80 Uncompressed Size present; 0x3C reserved. */
const BLOCK_FLAG_FILTERS = 0x03;
const BLOCK_FLAG_RESERVED = 0x3c;
const BLOCK_FLAG_COMPRESSED_SIZE = 0x40;
const BLOCK_FLAG_UNCOMPRESSED_SIZE = 0x80;
/** §5.3.1 (Filter IDs, Appendix): LZMA2, whose Filter Properties are one byte (dictionary size, at most 40). */
export const XZ_FILTER_LZMA2 = 0x21;
const LZMA2_MAX_DICT_PROPS = 40;

export interface XzBlock {
  /** Offset of the Block Header from the start of the stream. */
  offset: number;
  /** Block Header size; the Compressed Data follows it. */
  headerSize: number;
  /** The LZMA2 dictionary-size byte (the block's only filter). */
  lzma2Props: number;
  /** Block Header + Compressed Data + Check, without Block Padding (§4.3.1). */
  unpaddedSize: number;
  uncompressedSize: number;
  /** Bytes the block occupies on disk: the unpadded size rounded up to a multiple of four. */
  size: number;
}

export interface XzPlan {
  /** The 12 bytes of the Stream Header. */
  header: Uint8Array;
  /** §2.1.1.2 Check ID of the stream, and the size of the check field after each block's Compressed Data. */
  checkId: number;
  checkSize: number;
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

export interface XzBlockHeader {
  headerSize: number;
  compressedSize?: number;
  uncompressedSize?: number;
  lzma2Props: number;
}

/**
 * §3.1 Block Header of a block whose filter chain is LZMA2 alone (what xz makes unless told to add
 * BCJ or delta filters), or undefined for any other chain or a damaged header. `bytes` starts at the
 * header and holds all of it (at most XZ_BLOCK_HEADER_MAX bytes).
 */
export function decodeBlockHeader(bytes: Uint8Array): XzBlockHeader | undefined {
  if (bytes.length < 1 || bytes[0] === XZ_INDEX_INDICATOR) return undefined;
  const headerSize = (bytes[0]! + 1) * 4; // §3.1.1 Block Header Size
  if (bytes.length < headerSize) return undefined;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, headerSize);
  if (crc32(bytes.subarray(0, headerSize - 4)) !== dv.getUint32(headerSize - 4, true)) return undefined;
  const flags = bytes[1]!;
  if (flags & BLOCK_FLAG_RESERVED || (flags & BLOCK_FLAG_FILTERS) !== 0) return undefined; // one filter only
  const body = bytes.subarray(0, headerSize - 4);
  let at = 2;
  const out: XzBlockHeader = { headerSize, lzma2Props: 0 };
  if (flags & BLOCK_FLAG_COMPRESSED_SIZE) {
    const v = decodeVarint(body, at);
    if (!v || v[0] === 0) return undefined;
    [out.compressedSize, at] = v;
  }
  if (flags & BLOCK_FLAG_UNCOMPRESSED_SIZE) {
    const v = decodeVarint(body, at);
    if (!v) return undefined;
    [out.uncompressedSize, at] = v;
  }
  // §3.1.5 Filter Flags: Filter ID, Size of Properties, Filter Properties.
  const id = decodeVarint(body, at);
  const propsSize = id && decodeVarint(body, id[1]);
  if (!id || !propsSize || id[0] !== XZ_FILTER_LZMA2 || propsSize[0] !== 1 || propsSize[1] >= body.length) return undefined;
  out.lzma2Props = body[propsSize[1]]!;
  if (out.lzma2Props > LZMA2_MAX_DICT_PROPS) return undefined;
  // §3.1.6 Header Padding: zeros.
  if (body.subarray(propsSize[1] + 1).some((b) => b !== 0)) return undefined;
  return out;
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
  // §2.1.1.2 Stream Flags: a null byte, then the Check ID in the low nibble.
  if (header[6] !== 0 || header[7]! & 0xf0) return undefined;
  const checkId = header[7]!;
  const checkSize = XZ_CHECK_SIZE[checkId]!;
  const blocks: XzBlock[] = [];
  let at = XZ_STREAM_HEADER_SIZE;
  let uncompressedSize = 0;
  for (const r of records) {
    blocks.push({ offset: at, headerSize: 0, lzma2Props: 0, unpaddedSize: r.unpaddedSize, uncompressedSize: r.uncompressedSize, size: round4(r.unpaddedSize) });
    at += round4(r.unpaddedSize);
    uncompressedSize += r.uncompressedSize;
  }
  // The blocks must tile the stream exactly, or the stream does not start at 0 (concatenated streams).
  if (at !== indexAt) return undefined;
  for (const b of blocks) {
    const h = decodeBlockHeader(await readAt(b.offset, Math.min(XZ_BLOCK_HEADER_MAX, b.unpaddedSize)));
    // Other filter chains, and headers disagreeing with the Index, take the sequential path.
    if (!h || h.headerSize + checkSize >= b.unpaddedSize) return undefined;
    if (h.compressedSize !== undefined && h.compressedSize !== b.unpaddedSize - h.headerSize - checkSize) return undefined;
    if (h.uncompressedSize !== undefined && h.uncompressedSize !== b.uncompressedSize) return undefined;
    b.headerSize = h.headerSize;
    b.lzma2Props = h.lzma2Props;
  }
  return { header: header.slice(), checkId, checkSize, blocks, uncompressedSize };
}
