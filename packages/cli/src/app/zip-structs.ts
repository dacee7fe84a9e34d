// ZIP on-disk structures, named and laid out as in PKWARE's APPNOTE.TXT 6.3.10 (section numbers
// cited per structure). Little-endian throughout.
import { defineStruct } from './struct.js';

/** APPNOTE 4.3.16: end of central directory record signature, "PK\5\6". */
export const EOCD_SIGNATURE = 0x06054b50;
/** APPNOTE 4.3.15: zip64 end of central directory locator signature, "PK\6\7". */
export const ZIP64_EOCD_LOCATOR_SIGNATURE = 0x07064b50;
/** APPNOTE 4.3.14: zip64 end of central directory record signature, "PK\6\6". */
export const ZIP64_EOCD_SIGNATURE = 0x06064b50;
/** APPNOTE 4.3.12: central file header signature, "PK\1\2". */
export const CENTRAL_HEADER_SIGNATURE = 0x02014b50;
/** APPNOTE 4.3.7: local file header signature, "PK\3\4". */
export const LOCAL_HEADER_SIGNATURE = 0x04034b50;
/** APPNOTE 4.5.3: header ID of the zip64 extended information extra field. */
export const ZIP64_EXTRA_ID = 0x0001;
/** APPNOTE 4.4.1.4: a 16/32-bit field holding this value defers to the zip64 record or extra field. */
export const ZIP64_MAGIC_16 = 0xffff;
export const ZIP64_MAGIC_32 = 0xffffffff;
/** APPNOTE 4.4.4 general purpose bit 0: the entry is encrypted. */
export const FLAG_ENCRYPTED = 0x0001;
/** APPNOTE 4.4.5 compression methods. */
export const METHOD_STORED = 0;
export const METHOD_DEFLATED = 8;
/** APPNOTE 4.3.16: the comment is at most 65535 bytes, so the EOCD lies within the last 22 + 65535. */
export const MAX_COMMENT = 0xffff;

/** APPNOTE 4.3.16 end of central directory record (22 bytes + comment). */
export const EndOfCentralDirectory = defineStruct('end of central directory', 22, [
  ['signature', 0, 'u32'],
  ['diskNumber', 4, 'u16'], // number of this disk
  ['centralDirectoryDisk', 6, 'u16'], // disk where the central directory starts
  ['entriesOnDisk', 8, 'u16'],
  ['entries', 10, 'u16'], // total entries, or 0xFFFF (zip64)
  ['centralDirectorySize', 12, 'u32'], // or 0xFFFFFFFF (zip64)
  ['centralDirectoryOffset', 16, 'u32'], // from the start of the archive, or 0xFFFFFFFF (zip64)
  ['commentLength', 20, 'u16'],
] as const);

/** APPNOTE 4.3.15 zip64 end of central directory locator (20 bytes, right before the EOCD). */
export const Zip64Locator = defineStruct('zip64 end of central directory locator', 20, [
  ['signature', 0, 'u32'],
  ['zip64EocdDisk', 4, 'u32'],
  ['zip64EocdOffset', 8, 'u64'], // offset of the zip64 EOCD record
  ['totalDisks', 16, 'u32'],
] as const);

/** APPNOTE 4.3.14 zip64 end of central directory record (56 bytes + extensible data). */
export const Zip64EndOfCentralDirectory = defineStruct('zip64 end of central directory record', 56, [
  ['signature', 0, 'u32'],
  ['recordSize', 4, 'u64'], // size of the rest of this record (excludes these 12 bytes)
  ['versionMadeBy', 12, 'u16'],
  ['versionNeeded', 14, 'u16'],
  ['diskNumber', 16, 'u32'],
  ['centralDirectoryDisk', 20, 'u32'],
  ['entriesOnDisk', 24, 'u64'],
  ['entries', 32, 'u64'],
  ['centralDirectorySize', 40, 'u64'],
  ['centralDirectoryOffset', 48, 'u64'],
] as const);

/** APPNOTE 4.3.12 central directory file header (46 bytes + name + extra + comment). */
export const CentralHeader = defineStruct('central directory header', 46, [
  ['signature', 0, 'u32'],
  ['versionMadeBy', 4, 'u16'],
  ['versionNeeded', 6, 'u16'],
  ['flags', 8, 'u16'], // general purpose bit flag (4.4.4)
  ['method', 10, 'u16'], // compression method (4.4.5)
  ['modTime', 12, 'u16'], // MS-DOS time
  ['modDate', 14, 'u16'], // MS-DOS date
  ['crc32', 16, 'u32'],
  ['compressedSize', 20, 'u32'], // or 0xFFFFFFFF: see the zip64 extra field
  ['uncompressedSize', 24, 'u32'], // or 0xFFFFFFFF
  ['nameLength', 28, 'u16'],
  ['extraLength', 30, 'u16'],
  ['commentLength', 32, 'u16'],
  ['diskStart', 34, 'u16'], // or 0xFFFF
  ['internalAttributes', 36, 'u16'],
  ['externalAttributes', 38, 'u32'],
  ['localHeaderOffset', 42, 'u32'], // or 0xFFFFFFFF
] as const);

/** APPNOTE 4.3.7 local file header (30 bytes + name + extra); data follows. */
export const LocalHeader = defineStruct('local file header', 30, [
  ['signature', 0, 'u32'],
  ['versionNeeded', 4, 'u16'],
  ['flags', 6, 'u16'],
  ['method', 8, 'u16'],
  ['modTime', 10, 'u16'],
  ['modDate', 12, 'u16'],
  ['crc32', 14, 'u32'], // 0 when bit 3 (data descriptor) is set; the central header has the value
  ['compressedSize', 18, 'u32'],
  ['uncompressedSize', 22, 'u32'],
  ['nameLength', 26, 'u16'], // may differ from the central header's lengths: always use these here
  ['extraLength', 28, 'u16'],
] as const);

/** APPNOTE 4.5.1 extra field block header: id, then size of the data that follows. */
export const ExtraFieldHeader = defineStruct('extra field header', 4, [
  ['headerId', 0, 'u16'],
  ['dataSize', 2, 'u16'],
] as const);
