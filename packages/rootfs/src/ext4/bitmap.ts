// Block and inode bitmaps (ext4 doc "Block and inode Bitmaps"): one block each per group, bit i
// set when block/inode i of the group is in use; bits past the group's end are set as padding
// (e2fsck checks the padding). Checksums: crc32c(csum_seed, bitmap bytes) with the length the
// kernel uses (ext4_block_bitmap_csum_set / ext4_inode_bitmap_csum_set).
import { crc32cUpdate } from './crc32c.js';
import { BLOCK_SIZE } from './constants.js';
import type { Range } from './geometry.js';

/** Sets bits [from, to) of `bits`. */
export function setBits(bits: Uint8Array, from: number, to: number): void {
  let i = from;
  for (; i < to && i % 8 !== 0; i++) bits[i >> 3]! |= 1 << (i & 7);
  for (; i + 8 <= to; i += 8) bits[i >> 3] = 0xff;
  for (; i < to; i++) bits[i >> 3]! |= 1 << (i & 7);
}

/** A group's block bitmap: in use = below `cursor` or inside a reserved range; padding past `count`. */
export function blockBitmap(groupStart: number, count: number, cursor: number, reserved: readonly Range[]): Uint8Array {
  const bits = new Uint8Array(BLOCK_SIZE);
  const end = groupStart + count;
  if (cursor > groupStart) setBits(bits, 0, Math.min(cursor, end) - groupStart);
  for (const r of reserved) {
    const s = Math.max(r.start, groupStart);
    const e = Math.min(r.start + r.count, end);
    if (e > s) setBits(bits, s - groupStart, e - groupStart);
  }
  setBits(bits, count, BLOCK_SIZE * 8);
  return bits;
}

/** A group's inode bitmap: the first `used` inodes in use, padding past `perGroup`. */
export function inodeBitmap(used: number, perGroup: number): Uint8Array {
  const bits = new Uint8Array(BLOCK_SIZE);
  setBits(bits, 0, used);
  setBits(bits, perGroup, BLOCK_SIZE * 8);
  return bits;
}

export function bitmapCsum(csumSeed: number, bits: Uint8Array, bytes: number): number {
  return crc32cUpdate(csumSeed, bits, 0, bytes);
}
