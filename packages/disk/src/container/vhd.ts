// Fixed VHD writer: the raw disk followed by a 512-byte footer (Microsoft "Virtual Hard Disk Image
// Format Specification" v1.0, "Hard Disk Footer Format"; big-endian fields).
import { createHash } from 'node:crypto';
import { exactly, isZeroChunk } from '../chunks.js';
import { InvalidOptionError } from '../errors.js';
import { asciiField, defineStruct } from '@mkimage/rootfs';
import type { RawSource } from './clusters.js';

export const VHD_FOOTER_SIZE = 512;
export const VHD_COOKIE = 'conectix';
/** Features: bit 1 "reserved" must always be set (spec, "Features"). */
export const VHD_FEATURES_RESERVED = 0x00000002;
export const VHD_FILE_FORMAT_VERSION = 0x00010000;
/** Data offset of a fixed disk: all ones (spec, "Data Offset"). */
export const VHD_FIXED_DATA_OFFSET = 0xffffffffffffffffn;
export const VHD_DISK_TYPE_FIXED = 2;
/** Creator host OS "Wi2k" (the spec lists Wi2k and Mac). */
export const VHD_CREATOR_HOST_OS_WINDOWS = 0x5769326b;
/** VHD time stamps count seconds since 2000-01-01 00:00:00 UTC. */
export const VHD_EPOCH = Date.UTC(2000, 0, 1) / 1000;
/**
 * Creator application tag. QEMU's vpc driver takes the disk size from Current Size only for
 * creators it knows to do so ("win ", "qem2", "d2v ", "CTXS", "tap\0") and from the CHS geometry
 * otherwise, which truncates sizes that are not whole CHS products (our 1 MiB multiples). "qem2"
 * is the tag QEMU itself writes for exact-size images, so readers use Current Size.
 */
export const VHD_DEFAULT_CREATOR_APP = 'qem2';

export const VhdFooter = defineStruct('VHD footer', VHD_FOOTER_SIZE, [
  { name: 'cookie', offset: 0, type: 'bytes', size: 8 },
  { name: 'features', offset: 8, type: 'u32' },
  { name: 'fileFormatVersion', offset: 12, type: 'u32' },
  { name: 'dataOffset', offset: 16, type: 'u64n' },
  { name: 'timeStamp', offset: 24, type: 'u32' },
  { name: 'creatorApplication', offset: 28, type: 'bytes', size: 4 },
  { name: 'creatorVersion', offset: 32, type: 'u32' },
  { name: 'creatorHostOs', offset: 36, type: 'u32' },
  { name: 'originalSize', offset: 40, type: 'u64' },
  { name: 'currentSize', offset: 48, type: 'u64' },
  { name: 'cylinders', offset: 56, type: 'u16' },
  { name: 'heads', offset: 58, type: 'u8' },
  { name: 'sectorsPerTrack', offset: 59, type: 'u8' },
  { name: 'diskType', offset: 60, type: 'u32' },
  { name: 'checksum', offset: 64, type: 'u32' },
  { name: 'uniqueId', offset: 68, type: 'bytes', size: 16 },
  { name: 'savedState', offset: 84, type: 'u8' },
] as const, { endian: 'be' });

/** CHS geometry of a size, per the spec's appendix "CHS Calculation". */
export function vhdGeometry(sizeBytes: number): { cylinders: number; heads: number; sectorsPerTrack: number } {
  let total = Math.floor(sizeBytes / 512);
  if (total > 65535 * 16 * 255) total = 65535 * 16 * 255;
  let spt: number;
  let heads: number;
  let cth: number;
  if (total >= 65535 * 16 * 63) {
    spt = 255; heads = 16; cth = Math.floor(total / spt);
  } else {
    spt = 17; cth = Math.floor(total / spt);
    heads = Math.floor((cth + 1023) / 1024);
    if (heads < 4) heads = 4;
    if (cth >= heads * 1024 || heads > 16) { spt = 31; heads = 16; cth = Math.floor(total / spt); }
    if (cth >= heads * 1024) { spt = 63; heads = 16; cth = Math.floor(total / spt); }
  }
  return { cylinders: Math.floor(cth / heads), heads, sectorsPerTrack: spt };
}

/** Checksum: one's complement of the byte sum of the footer with the checksum field zero (spec, "Checksum"). */
export function vhdChecksum(footer: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < VHD_FOOTER_SIZE; i++) if (i < 64 || i >= 68) sum += footer[i]!;
  return ~sum >>> 0;
}

export interface VhdOptions {
  /** Footer time stamp as a Unix time (e.g. SOURCE_DATE_EPOCH); default 2000-01-01 (0). */
  epoch?: number;
  creatorApplication?: string;
  /** Unique Id; default derived from a SHA-256 of the disk bytes as they stream past (known-zero runs by length). */
  uniqueId?: Uint8Array;
}

export function encodeVhdFooter(size: number, uniqueId: Uint8Array, o: VhdOptions & { diskType?: number; dataOffset?: number } = {}): Uint8Array {
  const footer = VhdFooter.encode({
    cookie: asciiField(VHD_COOKIE, 8),
    features: VHD_FEATURES_RESERVED,
    fileFormatVersion: VHD_FILE_FORMAT_VERSION,
    dataOffset: o.dataOffset !== undefined ? BigInt(o.dataOffset) : VHD_FIXED_DATA_OFFSET,
    timeStamp: Math.max(0, Math.min(0xffffffff, Math.floor((o.epoch ?? VHD_EPOCH) - VHD_EPOCH))),
    creatorApplication: asciiField(o.creatorApplication ?? VHD_DEFAULT_CREATOR_APP, 4, 0),
    creatorVersion: 0x00010000,
    creatorHostOs: VHD_CREATOR_HOST_OS_WINDOWS,
    originalSize: size,
    currentSize: size,
    ...vhdGeometry(size),
    diskType: o.diskType ?? VHD_DISK_TYPE_FIXED,
    checksum: 0,
    uniqueId,
    savedState: 0,
  });
  new DataView(footer.buffer).setUint32(VhdFooter.offsetOf('checksum'), vhdChecksum(footer), false);
  return footer;
}

/** Fixed VHD: the raw bytes (holes stay holes in a sparse output file) then the footer. One pass. */
/** VHD disks are whole 512-byte sectors (both the fixed and the dynamic kind). */
export function checkVhdSize(size: number): void {
  if (!(Number.isSafeInteger(size) && size > 0 && size % 512 === 0)) {
    throw new InvalidOptionError(`VHD: disk size ${size} is not a positive multiple of 512`, { option: 'size', value: size });
  }
}

export function emitVhdFixed(src: RawSource, o: VhdOptions = {}): AsyncIterable<Uint8Array> {
  checkVhdSize(src.size);
  return exactly('VHD image', src.size + VHD_FOOTER_SIZE, (async function* () {
    const h = createHash('sha256');
    for await (const c of exactly('raw image', src.size, src.open())) {
      // Known-zero runs enter the hash by length only (hashing a GiB of zeros costs seconds).
      if (!o.uniqueId) h.update(isZeroChunk(c) ? `\0zeros:${c.length}\0` : c);
      yield c;
    }
    const id = o.uniqueId ?? Uint8Array.from(h.digest().subarray(0, 16));
    yield encodeVhdFooter(src.size, id, o);
  })(), true);
}
