// A read-only ZIP reader for what JAR inspection needs: find the end of central directory (zip64
// aware, tolerating a prefix such as a launcher script), list the central directory, and read an
// entry's bytes (stored or deflated) with a size cap. Reads by position; never the whole file.
import { open, type FileHandle } from 'node:fs/promises';
import { constants as zc, crc32, inflateRawSync } from 'node:zlib';
import { ZipFormatError } from './errors.js';
import { readAt } from './file-io.js';
import {
  CENTRAL_HEADER_SIGNATURE, CentralHeader, EOCD_SIGNATURE, EndOfCentralDirectory, ExtraFieldHeader,
  FLAG_ENCRYPTED, LOCAL_HEADER_SIGNATURE, LocalHeader, MAX_COMMENT, METHOD_DEFLATED, METHOD_STORED,
  ZIP64_EOCD_LOCATOR_SIGNATURE, ZIP64_EOCD_SIGNATURE, ZIP64_EXTRA_ID, ZIP64_MAGIC_32,
  Zip64EndOfCentralDirectory, Zip64Locator,
} from './zip-structs.js';

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  /** File offset of the local header (prefix already added). */
  localHeaderOffset: number;
}

export interface ZipDirectory {
  entries: ZipEntry[];
  zip64: boolean;
  /** Bytes before the archive proper (e.g. a launcher script); 0 for a plain ZIP. */
  prefixBytes: number;
}

/** The central directory is metadata, but cap it so a corrupt size cannot exhaust memory. */
const MAX_CENTRAL_DIRECTORY = 256 * 1024 * 1024;

/** An open ZIP file. Call close() when done. */
export class ZipReader {
  private constructor(private readonly fh: FileHandle, readonly path: string, readonly directory: ZipDirectory) {}

  static async open(path: string): Promise<ZipReader> {
    const fh = await open(path, 'r');
    try {
      return new ZipReader(fh, path, await readDirectory(fh, path));
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  get entries(): readonly ZipEntry[] {
    return this.directory.entries;
  }

  async close(): Promise<void> {
    await this.fh.close();
  }

  /** Where the entry's data starts, from its local header. */
  private async dataOffset(entry: ZipEntry): Promise<number> {
    const bad = (reason: string) => new ZipFormatError(this.path, reason, entry.name);
    const lh = await readAt(this.fh, entry.localHeaderOffset, LocalHeader.size);
    if (lh.length < LocalHeader.size) throw bad(`local header at byte ${entry.localHeaderOffset} is past the end of the file`);
    const h = LocalHeader.decode(lh);
    if (h.signature !== LOCAL_HEADER_SIGNATURE) throw bad(`no local header signature at byte ${entry.localHeaderOffset}`);
    return entry.localHeaderOffset + LocalHeader.size + h.nameLength + h.extraLength;
  }

  /**
   * The entry's uncompressed bytes, checked against its size and CRC-32. Refuses entries larger
   * than `maxBytes` (JAR entries we read are small: a manifest, a class header).
   */
  async read(entry: ZipEntry, maxBytes: number): Promise<Buffer> {
    const bad = (reason: string) => new ZipFormatError(this.path, reason, entry.name);
    if (entry.flags & FLAG_ENCRYPTED) throw bad('entry is encrypted');
    if (entry.uncompressedSize > maxBytes) throw bad(`entry is ${entry.uncompressedSize} bytes, more than the ${maxBytes} we read`);
    const raw = await this.readCompressed(entry, entry.compressedSize);
    let data: Buffer;
    if (entry.method === METHOD_STORED) data = raw;
    else if (entry.method === METHOD_DEFLATED) {
      try {
        data = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.uncompressedSize) });
      } catch (err) {
        throw bad(`deflate data is corrupt (${(err as Error).message})`);
      }
    } else throw bad(`compression method ${entry.method} is not supported (only stored and deflate)`);
    if (data.length !== entry.uncompressedSize) throw bad(`${data.length} bytes after inflating, central directory says ${entry.uncompressedSize}`);
    const crc = crc32(data) >>> 0;
    if (crc !== entry.crc32) throw bad(`CRC-32 ${hex(crc)} does not match ${hex(entry.crc32)} in the central directory`);
    return data;
  }

  /**
   * The first `n` uncompressed bytes of an entry (fewer if it is shorter), inflating only a prefix
   * of the compressed data. No CRC check: the rest is never read.
   */
  async readHead(entry: ZipEntry, n: number): Promise<Buffer> {
    const bad = (reason: string) => new ZipFormatError(this.path, reason, entry.name);
    if (entry.flags & FLAG_ENCRYPTED) throw bad('entry is encrypted');
    if (entry.method === METHOD_STORED) return (await this.readCompressed(entry, Math.min(n, entry.compressedSize))).subarray(0, n);
    if (entry.method !== METHOD_DEFLATED) throw bad(`compression method ${entry.method} is not supported (only stored and deflate)`);
    // A dynamic Huffman block header is at most a few hundred bytes; grow the window if needed.
    for (let want = 1024; ; want *= 8) {
      const take = Math.min(want, entry.compressedSize);
      const raw = await this.readCompressed(entry, take);
      let out: Buffer;
      try {
        out = inflateRawSync(raw, { finishFlush: zc.Z_SYNC_FLUSH, maxOutputLength: Math.max(n, 1) * 64 + 65536 });
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') out = Buffer.alloc(0);
        else throw bad(`deflate data is corrupt (${(err as Error).message})`);
      }
      if (out.length >= n || take === entry.compressedSize) return out.subarray(0, n);
    }
  }

  private async readCompressed(entry: ZipEntry, length: number): Promise<Buffer> {
    const start = await this.dataOffset(entry);
    const raw = await readAt(this.fh, start, length);
    if (raw.length < length) throw new ZipFormatError(this.path, `data ends ${length - raw.length} bytes early (truncated?)`, entry.name);
    return raw;
  }
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** Finds and decodes the central directory. */
async function readDirectory(fh: FileHandle, path: string): Promise<ZipDirectory> {
  const bad = (reason: string) => new ZipFormatError(path, reason);
  const fileSize = (await fh.stat()).size;

  // 1. The EOCD: scan backwards from the end over at most the largest possible comment. A match
  //    must have a comment length that reaches exactly to the end of the file.
  const tailLen = Math.min(fileSize, EndOfCentralDirectory.size + MAX_COMMENT);
  const tailStart = fileSize - tailLen;
  const tail = await readAt(fh, tailStart, tailLen);
  let eocdAt = -1;
  for (let i = tail.length - EndOfCentralDirectory.size; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIGNATURE && i + EndOfCentralDirectory.size + tail.readUInt16LE(i + 20) === tail.length) {
      eocdAt = i;
      break;
    }
  }
  if (eocdAt < 0) throw bad('no end of central directory record (not a ZIP file, or truncated)');
  const eocdPos = tailStart + eocdAt;
  const eocd = EndOfCentralDirectory.decode(tail, eocdAt);
  if (eocd.diskNumber !== 0 || eocd.centralDirectoryDisk !== 0) throw bad('multi-disk (spanned) archives are not supported');

  let entriesDeclared = eocd.entries;
  let cdSize = eocd.centralDirectorySize;
  let cdOffset = eocd.centralDirectoryOffset;
  let directoryEnd = eocdPos; // where the central directory (or the zip64 record) ends
  let zip64 = false;

  // 2. Zip64: a locator right before the EOCD points at the zip64 EOCD record.
  if (eocdPos >= Zip64Locator.size) {
    const loc = await readAt(fh, eocdPos - Zip64Locator.size, Zip64Locator.size);
    if (loc.readUInt32LE(0) === ZIP64_EOCD_LOCATOR_SIGNATURE) {
      const l = Zip64Locator.decode(loc);
      const recordEnd = eocdPos - Zip64Locator.size;
      // With a prefix, the stored offset is too small by the prefix length; the record sits right
      // before the locator when it has no extensible data, which is how every writer we know emits it.
      let recPos = l.zip64EocdOffset;
      let rec = recPos + Zip64EndOfCentralDirectory.size <= recordEnd ? await readAt(fh, recPos, Zip64EndOfCentralDirectory.size) : Buffer.alloc(0);
      if (rec.length < Zip64EndOfCentralDirectory.size || rec.readUInt32LE(0) !== ZIP64_EOCD_SIGNATURE) {
        recPos = recordEnd - Zip64EndOfCentralDirectory.size;
        rec = recPos >= 0 ? await readAt(fh, recPos, Zip64EndOfCentralDirectory.size) : Buffer.alloc(0);
      }
      if (rec.length < Zip64EndOfCentralDirectory.size || rec.readUInt32LE(0) !== ZIP64_EOCD_SIGNATURE) {
        throw bad(`zip64 locator points at byte ${l.zip64EocdOffset}, which holds no zip64 end of central directory record`);
      }
      const r = Zip64EndOfCentralDirectory.decode(rec);
      entriesDeclared = r.entries;
      cdSize = r.centralDirectorySize;
      cdOffset = r.centralDirectoryOffset;
      directoryEnd = recPos;
      zip64 = true;
    }
  }
  // 3. The prefix: the central directory ends where the (zip64) EOCD begins; stored offsets are
  //    relative to the start of the archive, which may not be the start of the file.
  const prefixBytes = directoryEnd - (cdOffset + cdSize);
  if (prefixBytes < 0) throw bad(`central directory (${cdSize} bytes at ${cdOffset}) overlaps the end record at byte ${directoryEnd}`);
  if (cdSize > MAX_CENTRAL_DIRECTORY) throw bad(`central directory of ${cdSize} bytes`);
  const cdPos = cdOffset + prefixBytes;
  const cd = await readAt(fh, cdPos, cdSize);
  if (cd.length < cdSize) throw bad('central directory is past the end of the file');

  // 4. Central directory entries.
  const entries: ZipEntry[] = [];
  let at = 0;
  while (at < cd.length) {
    if (at + CentralHeader.size > cd.length) throw bad(`central directory entry ${entries.length} is cut short`);
    const h = CentralHeader.decode(cd, at);
    if (h.signature !== CENTRAL_HEADER_SIGNATURE) throw bad(`central directory entry ${entries.length} has no signature (at byte ${cdPos + at})`);
    const nameStart = at + CentralHeader.size;
    const extraStart = nameStart + h.nameLength;
    const end = extraStart + h.extraLength + h.commentLength;
    if (end > cd.length) throw bad(`central directory entry ${entries.length} runs past the directory`);
    const name = cd.subarray(nameStart, extraStart).toString('utf8');
    let { compressedSize, uncompressedSize, localHeaderOffset } = h;
    // APPNOTE 4.5.3: zip64 extra field values appear only for fields set to 0xFFFFFFFF, in this order.
    if (uncompressedSize === ZIP64_MAGIC_32 || compressedSize === ZIP64_MAGIC_32 || localHeaderOffset === ZIP64_MAGIC_32) {
      const z = findExtra(cd.subarray(extraStart, extraStart + h.extraLength), ZIP64_EXTRA_ID);
      if (!z) throw bad(`${name}: sizes are 0xFFFFFFFF but there is no zip64 extra field`);
      let p = 0;
      const next = () => {
        if (p + 8 > z.length) throw bad(`${name}: zip64 extra field is too short`);
        const v = z.readBigUInt64LE(p);
        p += 8;
        if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`${name}: zip64 value ${v} is too large`);
        return Number(v);
      };
      if (uncompressedSize === ZIP64_MAGIC_32) uncompressedSize = next();
      if (compressedSize === ZIP64_MAGIC_32) compressedSize = next();
      if (localHeaderOffset === ZIP64_MAGIC_32) localHeaderOffset = next();
      zip64 = true;
    }
    const localPos = localHeaderOffset + prefixBytes;
    if (localPos + compressedSize > cdPos) throw bad(`${name}: data (${compressedSize} bytes at ${localPos}) runs into the central directory`);
    entries.push({ name, method: h.method, flags: h.flags, crc32: h.crc32, compressedSize, uncompressedSize, localHeaderOffset: localPos });
    at = end;
  }
  // The 16-bit count wraps in archives written without zip64 by some tools; accept that, not other mismatches.
  if (entries.length !== entriesDeclared && (entries.length & 0xffff) !== entriesDeclared) {
    throw bad(`central directory holds ${entries.length} entries, end record says ${entriesDeclared}`);
  }
  return { entries, zip64, prefixBytes };
}

/** The data of the first extra field block with `id`, or undefined. */
function findExtra(extra: Buffer, id: number): Buffer | undefined {
  for (let p = 0; p + ExtraFieldHeader.size <= extra.length;) {
    const h = ExtraFieldHeader.decode(extra, p);
    const start = p + ExtraFieldHeader.size;
    if (h.headerId === id) return extra.subarray(start, Math.min(start + h.dataSize, extra.length));
    p = start + h.dataSize;
  }
  return undefined;
}
