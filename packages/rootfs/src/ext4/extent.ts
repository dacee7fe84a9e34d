// Extent trees (fs/ext4/ext4_extents.h; ext4 doc "Extent Tree"): a 12-byte header followed by
// 12-byte leaf extents (depth 0) or index entries (depth > 0). The root lives in i_block (4
// entries); bigger trees spill into blocks of 340 entries closed by a 4-byte checksum tail.
import { crc32cUpdate } from './crc32c.js';
import {
  BLOCK_SIZE, EXT4_EXT_BLOCK_MAX, EXT4_EXT_MAGIC, EXT4_EXT_ROOT_MAX, EXT4_EXTENT_HEADER_SIZE, EXT4_EXTENT_SIZE,
} from './constants.js';
import { defineStruct, hi32, lo32 } from '../struct.js';

export const ExtentHeader = defineStruct('ext4_extent_header', EXT4_EXTENT_HEADER_SIZE, [
  { name: 'eh_magic', offset: 0, type: 'u16' },
  { name: 'eh_entries', offset: 2, type: 'u16' },
  { name: 'eh_max', offset: 4, type: 'u16' },
  { name: 'eh_depth', offset: 6, type: 'u16' },
  { name: 'eh_generation', offset: 8, type: 'u32' },
] as const, { wrap: true });

export const ExtentLeaf = defineStruct('ext4_extent', EXT4_EXTENT_SIZE, [
  { name: 'ee_block', offset: 0, type: 'u32' }, // first logical block
  { name: 'ee_len', offset: 4, type: 'u16' },
  { name: 'ee_start_hi', offset: 6, type: 'u16' },
  { name: 'ee_start_lo', offset: 8, type: 'u32' },
] as const, { wrap: true });

export const ExtentIndex = defineStruct('ext4_extent_idx', EXT4_EXTENT_SIZE, [
  { name: 'ei_block', offset: 0, type: 'u32' }, // first logical block covered by the child
  { name: 'ei_leaf_lo', offset: 4, type: 'u32' },
  { name: 'ei_leaf_hi', offset: 8, type: 'u16' },
] as const, { wrap: true });

/** struct ext4_extent_tail sits right after eh_max entries (EXT4_EXTENT_TAIL_OFFSET). */
export const EXTENT_TAIL_OFFSET = EXT4_EXTENT_HEADER_SIZE + EXT4_EXTENT_SIZE * EXT4_EXT_BLOCK_MAX;

/** One mapped run: `len` blocks of the file from `logical` on, stored at `physical`. */
export interface Extent { logical: number; physical: number; len: number }

/** Where extent-tree blocks of a file go: the planner allocates them. */
export type AllocBlocks = (count: number) => number[];

export interface ExtentTree {
  /** The 60-byte i_block root. */
  iblock: Uint8Array;
  /** Tree blocks (leaves and indexes) with their checksum tails sealed. */
  blocks: { block: number; bytes: Uint8Array }[];
}

type Child = { logical: number; block: number };

function node(entries: number, max: number, depth: number, size: number): Uint8Array {
  return ExtentHeader.encode({ eh_magic: EXT4_EXT_MAGIC, eh_entries: entries, eh_max: max, eh_depth: depth, eh_generation: 0 }, new Uint8Array(size));
}

function putLeaves(buf: Uint8Array, extents: readonly Extent[]): void {
  extents.forEach((e, i) => ExtentLeaf.encode({
    ee_block: e.logical, ee_len: e.len, ee_start_hi: hi32(e.physical), ee_start_lo: lo32(e.physical),
  }, buf, EXT4_EXTENT_HEADER_SIZE + i * EXT4_EXTENT_SIZE));
}

function putIndexes(buf: Uint8Array, children: readonly Child[]): void {
  children.forEach((c, i) => ExtentIndex.encode({
    ei_block: c.logical, ei_leaf_lo: lo32(c.block), ei_leaf_hi: hi32(c.block),
  }, buf, EXT4_EXTENT_HEADER_SIZE + i * EXT4_EXTENT_SIZE));
}

/** Number of tree blocks a file with `n` extents needs (0 when they fit in i_block). */
export function extentTreeBlocks(n: number): number {
  let total = 0;
  let level = n;
  while (level > EXT4_EXT_ROOT_MAX) {
    level = Math.ceil(level / EXT4_EXT_BLOCK_MAX);
    total += level;
  }
  return total;
}

/**
 * Builds the tree for `extents` (sorted by logical block). Tree blocks are allocated with `alloc`
 * and checksummed with the inode's seed (ext4_extent_block_csum: crc32c over the block up to the tail).
 * The root goes into `iblock` (a caller's scratch buffer may be passed to avoid an allocation).
 */
export function buildExtentTree(extents: readonly Extent[], inodeSeed: number, alloc: AllocBlocks, iblock = new Uint8Array(60)): ExtentTree {
  iblock.fill(0);
  if (extents.length <= EXT4_EXT_ROOT_MAX) {
    ExtentHeader.encode({ eh_magic: EXT4_EXT_MAGIC, eh_entries: extents.length, eh_max: EXT4_EXT_ROOT_MAX, eh_depth: 0, eh_generation: 0 }, iblock);
    putLeaves(iblock, extents);
    return { iblock, blocks: [] };
  }
  const blocks: { block: number; bytes: Uint8Array }[] = [];
  const where = alloc(extentTreeBlocks(extents.length));
  let next = 0;
  const seal = (bytes: Uint8Array): Uint8Array => {
    const crc = crc32cUpdate(inodeSeed, bytes, 0, EXTENT_TAIL_OFFSET);
    new DataView(bytes.buffer).setUint32(EXTENT_TAIL_OFFSET, crc, true);
    return bytes;
  };
  // Leaves: 340 extents each.
  let children: Child[] = [];
  for (let i = 0; i < extents.length; i += EXT4_EXT_BLOCK_MAX) {
    const part = extents.slice(i, i + EXT4_EXT_BLOCK_MAX);
    const bytes = node(part.length, EXT4_EXT_BLOCK_MAX, 0, BLOCK_SIZE);
    putLeaves(bytes, part);
    const block = where[next++]!;
    blocks.push({ block, bytes: seal(bytes) });
    children.push({ logical: part[0]!.logical, block });
  }
  // Index levels until the root's four slots suffice.
  let depth = 1;
  while (children.length > EXT4_EXT_ROOT_MAX) {
    const up: Child[] = [];
    for (let i = 0; i < children.length; i += EXT4_EXT_BLOCK_MAX) {
      const part = children.slice(i, i + EXT4_EXT_BLOCK_MAX);
      const bytes = node(part.length, EXT4_EXT_BLOCK_MAX, depth, BLOCK_SIZE);
      putIndexes(bytes, part);
      const block = where[next++]!;
      blocks.push({ block, bytes: seal(bytes) });
      up.push({ logical: part[0]!.logical, block });
    }
    children = up;
    depth++;
  }
  if (next !== where.length) throw new Error(`BUG: extent tree used ${next} of ${where.length} blocks`);
  ExtentHeader.encode({ eh_magic: EXT4_EXT_MAGIC, eh_entries: children.length, eh_max: EXT4_EXT_ROOT_MAX, eh_depth: depth, eh_generation: 0 }, iblock);
  putIndexes(iblock, children);
  return { iblock, blocks };
}
