// struct ext4_group_desc, 64 bytes with the 64bit feature (fs/ext4/ext4.h; ext4 doc "Block Group
// Descriptors"). Little-endian; every 32-bit quantity is split in a _lo and a _hi half.
import { crc32cU32, crc32cUpdate } from './crc32c.js';
import { EXT4_DESC_SIZE_64BIT } from './constants.js';
import { defineStruct, hi32, lo32 } from '../struct.js';

export const GroupDesc = defineStruct('ext4_group_desc', EXT4_DESC_SIZE_64BIT, [
  { name: 'bg_block_bitmap_lo', offset: 0x00, type: 'u32' },
  { name: 'bg_inode_bitmap_lo', offset: 0x04, type: 'u32' },
  { name: 'bg_inode_table_lo', offset: 0x08, type: 'u32' },
  { name: 'bg_free_blocks_count_lo', offset: 0x0c, type: 'u16' },
  { name: 'bg_free_inodes_count_lo', offset: 0x0e, type: 'u16' },
  { name: 'bg_used_dirs_count_lo', offset: 0x10, type: 'u16' },
  { name: 'bg_flags', offset: 0x12, type: 'u16' },
  { name: 'bg_exclude_bitmap_lo', offset: 0x14, type: 'u32' },
  { name: 'bg_block_bitmap_csum_lo', offset: 0x18, type: 'u16' },
  { name: 'bg_inode_bitmap_csum_lo', offset: 0x1a, type: 'u16' },
  { name: 'bg_itable_unused_lo', offset: 0x1c, type: 'u16' },
  { name: 'bg_checksum', offset: 0x1e, type: 'u16' },
  { name: 'bg_block_bitmap_hi', offset: 0x20, type: 'u32' },
  { name: 'bg_inode_bitmap_hi', offset: 0x24, type: 'u32' },
  { name: 'bg_inode_table_hi', offset: 0x28, type: 'u32' },
  { name: 'bg_free_blocks_count_hi', offset: 0x2c, type: 'u16' },
  { name: 'bg_free_inodes_count_hi', offset: 0x2e, type: 'u16' },
  { name: 'bg_used_dirs_count_hi', offset: 0x30, type: 'u16' },
  { name: 'bg_itable_unused_hi', offset: 0x32, type: 'u16' },
  { name: 'bg_exclude_bitmap_hi', offset: 0x34, type: 'u32' },
  { name: 'bg_block_bitmap_csum_hi', offset: 0x38, type: 'u16' },
  { name: 'bg_inode_bitmap_csum_hi', offset: 0x3a, type: 'u16' },
] as const, { wrap: true });

const BG_CHECKSUM_OFFSET = 0x1e;

/** What the planner knows about one group; `encodeGroupDesc` turns it into the 64 on-disk bytes. */
export interface GroupInfo {
  blockBitmap: number;
  inodeBitmap: number;
  inodeTable: number;
  freeBlocks: number;
  freeInodes: number;
  usedDirs: number;
  flags: number;
  itableUnused: number;
  /** crc32c(csum_seed, bitmap) of the block and inode bitmaps (filled in by the planner). */
  blockBitmapCsum: number;
  inodeBitmapCsum: number;
}

/**
 * Encodes a descriptor and its bg_checksum: crc32c(csum_seed, le32 group || desc with the checksum
 * field skipped) & 0xFFFF (ext4_group_desc_csum, fs/ext4/super.c).
 */
export function encodeGroupDesc(g: GroupInfo, group: number, csumSeed: number, out: Uint8Array, at: number): void {
  GroupDesc.encode({
    bg_block_bitmap_lo: lo32(g.blockBitmap), bg_block_bitmap_hi: hi32(g.blockBitmap),
    bg_inode_bitmap_lo: lo32(g.inodeBitmap), bg_inode_bitmap_hi: hi32(g.inodeBitmap),
    bg_inode_table_lo: lo32(g.inodeTable), bg_inode_table_hi: hi32(g.inodeTable),
    bg_free_blocks_count_lo: g.freeBlocks & 0xffff, bg_free_blocks_count_hi: g.freeBlocks >>> 16,
    bg_free_inodes_count_lo: g.freeInodes & 0xffff, bg_free_inodes_count_hi: g.freeInodes >>> 16,
    bg_used_dirs_count_lo: g.usedDirs & 0xffff, bg_used_dirs_count_hi: g.usedDirs >>> 16,
    bg_itable_unused_lo: g.itableUnused & 0xffff, bg_itable_unused_hi: g.itableUnused >>> 16,
    bg_flags: g.flags,
    bg_block_bitmap_csum_lo: g.blockBitmapCsum & 0xffff, bg_block_bitmap_csum_hi: g.blockBitmapCsum >>> 16,
    bg_inode_bitmap_csum_lo: g.inodeBitmapCsum & 0xffff, bg_inode_bitmap_csum_hi: g.inodeBitmapCsum >>> 16,
    bg_checksum: 0,
  }, out, at);
  let crc = crc32cU32(csumSeed, group);
  crc = crc32cUpdate(crc, out, at, at + BG_CHECKSUM_OFFSET);
  crc = crc32cUpdate(crc, new Uint8Array(2));
  crc = crc32cUpdate(crc, out, at + BG_CHECKSUM_OFFSET + 2, at + EXT4_DESC_SIZE_64BIT);
  new DataView(out.buffer, out.byteOffset).setUint16(at + BG_CHECKSUM_OFFSET, crc & 0xffff, true);
}
