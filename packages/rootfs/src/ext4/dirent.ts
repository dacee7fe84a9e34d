// Linear directory blocks (ext4 doc "Directory Entries"): struct ext4_dir_entry_2 records, 4-byte
// aligned, the last one stretched to the checksum tail (struct ext4_dir_entry_tail).
import { crc32cUpdate } from './crc32c.js';
import { BLOCK_SIZE, EXT4_DIR_ENTRY_HEADER, EXT4_DIR_TAIL_FT, EXT4_DIR_TAIL_SIZE, EXT4_FT_DIR } from './constants.js';
import { defineStruct } from '../struct.js';

export const DirEntryHeader = defineStruct('ext4_dir_entry_2', EXT4_DIR_ENTRY_HEADER, [
  { name: 'inode', offset: 0, type: 'u32' },
  { name: 'rec_len', offset: 4, type: 'u16' },
  { name: 'name_len', offset: 6, type: 'u8' },
  { name: 'file_type', offset: 7, type: 'u8' },
] as const, { wrap: true });

export const DirTail = defineStruct('ext4_dir_entry_tail', EXT4_DIR_TAIL_SIZE, [
  { name: 'det_reserved_zero1', offset: 0, type: 'u32' },
  { name: 'det_rec_len', offset: 4, type: 'u16' },
  { name: 'det_reserved_zero2', offset: 6, type: 'u8' },
  { name: 'det_reserved_ft', offset: 7, type: 'u8' },
  { name: 'det_checksum', offset: 8, type: 'u32' },
] as const, { wrap: true });

export interface DirRecord { ino: number; name: Uint8Array; fileType: number }

/** Bytes a record takes: header + name rounded up to 4 (EXT4_DIR_REC_LEN). */
export function recLen(nameLen: number): number {
  return (EXT4_DIR_ENTRY_HEADER + nameLen + 3) & ~3;
}

/** Usable bytes of a leaf block in front of the checksum tail. */
export const LEAF_SPACE = BLOCK_SIZE - EXT4_DIR_TAIL_SIZE;

const DOT = new Uint8Array([0x2e]);
const DOTDOT = new Uint8Array([0x2e, 0x2e]);
export function dotEntries(self: number, parent: number): DirRecord[] {
  return [{ ino: self, name: DOT, fileType: EXT4_FT_DIR }, { ino: parent, name: DOTDOT, fileType: EXT4_FT_DIR }];
}

/** Writes records into one block; the last record's rec_len runs up to `end`. */
export function writeRecords(block: Uint8Array, records: readonly DirRecord[], end: number): void {
  let at = 0;
  records.forEach((r, i) => {
    const len = i === records.length - 1 ? end - at : recLen(r.name.length);
    DirEntryHeader.encode({ inode: r.ino, rec_len: len, name_len: r.name.length, file_type: r.fileType }, block, at);
    block.set(r.name, at + EXT4_DIR_ENTRY_HEADER);
    at += len;
  });
  if (at !== end) throw new Error(`BUG: directory records end at ${at}, want ${end}`);
}

/** A leaf (or linear) block holding `records`, with its checksum tail sealed. */
export function leafBlock(records: readonly DirRecord[], inodeSeed: number): Uint8Array {
  const block = new Uint8Array(BLOCK_SIZE);
  writeRecords(block, records, LEAF_SPACE);
  return sealLeaf(block, inodeSeed);
}

/** det_checksum = crc32c(inode seed, block[0..tail)) (ext4_dirblock_csum, fs/ext4/namei.c). */
export function sealLeaf(block: Uint8Array, inodeSeed: number): Uint8Array {
  const csum = crc32cUpdate(inodeSeed, block, 0, LEAF_SPACE);
  DirTail.encode({ det_reserved_zero1: 0, det_rec_len: EXT4_DIR_TAIL_SIZE, det_reserved_zero2: 0, det_reserved_ft: EXT4_DIR_TAIL_FT, det_checksum: csum }, block, LEAF_SPACE);
  return block;
}
