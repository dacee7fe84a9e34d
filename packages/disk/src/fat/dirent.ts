// Directory entries: the 32-byte short entry and the VFAT long-name entry (fatgen103, sections
// "FAT Directory Structure" and "FAT Long Directory Entries").
import { defineStruct } from '@mkimage/rootfs';

export const DIR_ENTRY_SIZE = 32;
export const ATTR_READ_ONLY = 0x01;
export const ATTR_HIDDEN = 0x02;
export const ATTR_SYSTEM = 0x04;
export const ATTR_VOLUME_ID = 0x08;
export const ATTR_DIRECTORY = 0x10;
export const ATTR_ARCHIVE = 0x20;
/** ATTR_LONG_NAME = READ_ONLY | HIDDEN | SYSTEM | VOLUME_ID (fatgen103). */
export const ATTR_LONG_NAME = 0x0f;
/** LDIR_Ord flag of the last (first stored) long entry (fatgen103 LAST_LONG_ENTRY). */
export const LAST_LONG_ENTRY = 0x40;
/** UTF-16 code units per long entry: 5 + 6 + 2. */
export const LFN_CHARS_PER_ENTRY = 13;

export const ShortDirEntry = defineStruct('FAT directory entry', DIR_ENTRY_SIZE, [
  { name: 'name', offset: 0, type: 'bytes', size: 11 },
  { name: 'attr', offset: 11, type: 'u8' },
  { name: 'ntRes', offset: 12, type: 'u8' },
  { name: 'crtTimeTenth', offset: 13, type: 'u8' },
  { name: 'crtTime', offset: 14, type: 'u16' },
  { name: 'crtDate', offset: 16, type: 'u16' },
  { name: 'lstAccDate', offset: 18, type: 'u16' },
  { name: 'fstClusHi', offset: 20, type: 'u16' },
  { name: 'wrtTime', offset: 22, type: 'u16' },
  { name: 'wrtDate', offset: 24, type: 'u16' },
  { name: 'fstClusLo', offset: 26, type: 'u16' },
  { name: 'fileSize', offset: 28, type: 'u32' },
] as const);

export const LongDirEntry = defineStruct('FAT long-name entry', DIR_ENTRY_SIZE, [
  { name: 'ord', offset: 0, type: 'u8' },
  { name: 'name1', offset: 1, type: 'bytes', size: 10 }, // chars 1-5
  { name: 'attr', offset: 11, type: 'u8' }, // ATTR_LONG_NAME
  { name: 'type', offset: 12, type: 'u8' }, // 0
  { name: 'chksum', offset: 13, type: 'u8' },
  { name: 'name2', offset: 14, type: 'bytes', size: 12 }, // chars 6-11
  { name: 'fstClusLo', offset: 26, type: 'u16' }, // 0
  { name: 'name3', offset: 28, type: 'bytes', size: 4 }, // chars 12-13
] as const);

/** ChkSum() from fatgen103: rotate right by one and add, over the 11 short-name bytes. */
export function lfnChecksum(shortName: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >> 1) + shortName[i]!) & 0xff;
  return sum;
}

/** Number of long entries a name needs. */
export function lfnEntryCount(name: string): number {
  return Math.ceil(name.length / LFN_CHARS_PER_ENTRY);
}

/**
 * The long entries for `name`, in on-disk order (highest ordinal first, flagged LAST_LONG_ENTRY).
 * The name is NUL-terminated unless it fills the last entry exactly, then padded with 0xFFFF.
 */
export function encodeLongEntries(name: string, shortName: Uint8Array, into: Uint8Array, at: number): number {
  const n = lfnEntryCount(name);
  const units = new Uint16Array(n * LFN_CHARS_PER_ENTRY).fill(0xffff);
  for (let i = 0; i < name.length; i++) units[i] = name.charCodeAt(i);
  if (name.length < units.length) units[name.length] = 0x0000;
  const chksum = lfnChecksum(shortName);
  const part = (from: number, count: number): Uint8Array => {
    const b = new Uint8Array(count * 2);
    const dv = new DataView(b.buffer);
    for (let i = 0; i < count; i++) dv.setUint16(i * 2, units[from + i]!, true);
    return b;
  };
  for (let k = n; k >= 1; k--) {
    const base = (k - 1) * LFN_CHARS_PER_ENTRY;
    LongDirEntry.encode({
      ord: k | (k === n ? LAST_LONG_ENTRY : 0),
      name1: part(base, 5),
      attr: ATTR_LONG_NAME,
      type: 0,
      chksum,
      name2: part(base + 5, 6),
      fstClusLo: 0,
      name3: part(base + 11, 2),
    }, into, at);
    at += DIR_ENTRY_SIZE;
  }
  return at;
}

/** FAT date and time of a Unix time, read as UTC (FAT has no zone), clamped to 1980-01-01..2107-12-31. */
export function fatDateTime(unixSeconds: number): { date: number; time: number; tenth: number } {
  const MIN = Date.UTC(1980, 0, 1) / 1000;
  const MAX = Date.UTC(2107, 11, 31, 23, 59, 58) / 1000;
  const t = new Date(Math.min(MAX, Math.max(MIN, Math.floor(unixSeconds))) * 1000);
  // Date: bits 0-4 day, 5-8 month, 9-15 years since 1980. Time: 0-4 seconds/2, 5-10 minutes, 11-15 hours.
  const date = ((t.getUTCFullYear() - 1980) << 9) | ((t.getUTCMonth() + 1) << 5) | t.getUTCDate();
  const time = (t.getUTCHours() << 11) | (t.getUTCMinutes() << 5) | (t.getUTCSeconds() >> 1);
  return { date, time, tenth: (t.getUTCSeconds() & 1) * 100 };
}
