// ZIP on-disk structures, named and laid out as in PKWARE's APPNOTE.TXT 6.3.10 (section numbers
// cited per structure). Little-endian throughout.
import { defineStruct } from '@mkimage/rootfs';

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
  { name: 'signature', offset: 0, type: 'u32' },
  { name: 'diskNumber', offset: 4, type: 'u16' }, // number of this disk
  { name: 'centralDirectoryDisk', offset: 6, type: 'u16' }, // disk where the central directory starts
  { name: 'entriesOnDisk', offset: 8, type: 'u16' },
  { name: 'entries', offset: 10, type: 'u16' }, // total entries, or 0xFFFF (zip64)
  { name: 'centralDirectorySize', offset: 12, type: 'u32' }, // or 0xFFFFFFFF (zip64)
  { name: 'centralDirectoryOffset', offset: 16, type: 'u32' }, // from the start of the archive, or 0xFFFFFFFF (zip64)
  { name: 'commentLength', offset: 20, type: 'u16' },
] as const);

/** APPNOTE 4.3.15 zip64 end of central directory locator (20 bytes, right before the EOCD). */
export const Zip64Locator = defineStruct('zip64 end of central directory locator', 20, [
  { name: 'signature', offset: 0, type: 'u32' },
  { name: 'zip64EocdDisk', offset: 4, type: 'u32' },
  { name: 'zip64EocdOffset', offset: 8, type: 'u64' }, // offset of the zip64 EOCD record
  { name: 'totalDisks', offset: 16, type: 'u32' },
] as const);

/** APPNOTE 4.3.14 zip64 end of central directory record (56 bytes + extensible data). */
export const Zip64EndOfCentralDirectory = defineStruct('zip64 end of central directory record', 56, [
  { name: 'signature', offset: 0, type: 'u32' },
  { name: 'recordSize', offset: 4, type: 'u64' }, // size of the rest of this record (excludes these 12 bytes)
  { name: 'versionMadeBy', offset: 12, type: 'u16' },
  { name: 'versionNeeded', offset: 14, type: 'u16' },
  { name: 'diskNumber', offset: 16, type: 'u32' },
  { name: 'centralDirectoryDisk', offset: 20, type: 'u32' },
  { name: 'entriesOnDisk', offset: 24, type: 'u64' },
  { name: 'entries', offset: 32, type: 'u64' },
  { name: 'centralDirectorySize', offset: 40, type: 'u64' },
  { name: 'centralDirectoryOffset', offset: 48, type: 'u64' },
] as const);

/** APPNOTE 4.3.12 central directory file header (46 bytes + name + extra + comment). */
export const CentralHeader = defineStruct('central directory header', 46, [
  { name: 'signature', offset: 0, type: 'u32' },
  { name: 'versionMadeBy', offset: 4, type: 'u16' },
  { name: 'versionNeeded', offset: 6, type: 'u16' },
  { name: 'flags', offset: 8, type: 'u16' }, // general purpose bit flag (4.4.4)
  { name: 'method', offset: 10, type: 'u16' }, // compression method (4.4.5)
  { name: 'modTime', offset: 12, type: 'u16' }, // MS-DOS time
  { name: 'modDate', offset: 14, type: 'u16' }, // MS-DOS date
  { name: 'crc32', offset: 16, type: 'u32' },
  { name: 'compressedSize', offset: 20, type: 'u32' }, // or 0xFFFFFFFF: see the zip64 extra field
  { name: 'uncompressedSize', offset: 24, type: 'u32' }, // or 0xFFFFFFFF
  { name: 'nameLength', offset: 28, type: 'u16' },
  { name: 'extraLength', offset: 30, type: 'u16' },
  { name: 'commentLength', offset: 32, type: 'u16' },
  { name: 'diskStart', offset: 34, type: 'u16' }, // or 0xFFFF
  { name: 'internalAttributes', offset: 36, type: 'u16' },
  { name: 'externalAttributes', offset: 38, type: 'u32' },
  { name: 'localHeaderOffset', offset: 42, type: 'u32' }, // or 0xFFFFFFFF
] as const);

/** APPNOTE 4.3.7 local file header (30 bytes + name + extra); data follows. */
export const LocalHeader = defineStruct('local file header', 30, [
  { name: 'signature', offset: 0, type: 'u32' },
  { name: 'versionNeeded', offset: 4, type: 'u16' },
  { name: 'flags', offset: 6, type: 'u16' },
  { name: 'method', offset: 8, type: 'u16' },
  { name: 'modTime', offset: 10, type: 'u16' },
  { name: 'modDate', offset: 12, type: 'u16' },
  { name: 'crc32', offset: 14, type: 'u32' }, // 0 when bit 3 (data descriptor) is set; the central header has the value
  { name: 'compressedSize', offset: 18, type: 'u32' },
  { name: 'uncompressedSize', offset: 22, type: 'u32' },
  { name: 'nameLength', offset: 26, type: 'u16' }, // may differ from the central header's lengths: always use these here
  { name: 'extraLength', offset: 28, type: 'u16' },
] as const);

/** APPNOTE 4.5.1 extra field block header: id, then size of the data that follows. */
export const ExtraFieldHeader = defineStruct('extra field header', 4, [
  { name: 'headerId', offset: 0, type: 'u16' },
  { name: 'dataSize', offset: 2, type: 'u16' },
] as const);
