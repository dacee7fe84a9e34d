// Filesystem geometry from a block count: groups, sparse_super backups, GDT size, inodes per
// group, and where flex_bg puts each group's bitmaps and inode table.
import {
  BLOCKS_PER_GROUP, BLOCK_SIZE, EXT4_DESC_SIZE_64BIT, EXT4_INODE_SIZE, LOG_GROUPS_PER_FLEX, MAX_INODES_PER_GROUP,
} from './constants.js';

export interface Range { start: number; count: number }

export interface Geometry {
  blocks: number;
  groups: number;
  inodesPerGroup: number;
  inodeTableBlocks: number;
  gdtBlocks: number;
  /** Groups holding a superblock + GDT copy (sparse_super: 0, 1 and powers of 3, 5, 7). */
  backupGroups: number[];
  /** Per group: block bitmap, inode bitmap and inode table locations. */
  blockBitmap: number[];
  inodeBitmap: number[];
  inodeTable: number[];
  /** Blocks taken by metadata, sorted and merged. */
  reserved: Range[];
}

const INODES_PER_BLOCK = BLOCK_SIZE / EXT4_INODE_SIZE;

/** ext4_bg_has_super() with sparse_super: group 0, 1 and powers of 3, 5 and 7. */
export function groupHasSuper(g: number): boolean {
  if (g <= 1) return true;
  for (const base of [3, 5, 7]) {
    let p = base;
    while (p < g) p *= base;
    if (p === g) return true;
  }
  return false;
}

export function blocksInGroup(blocks: number, g: number): number {
  return Math.min(BLOCKS_PER_GROUP, blocks - g * BLOCKS_PER_GROUP);
}

export class GeometryError extends Error {
  constructor(readonly reason: 'too-small' | 'too-many-inodes', message: string) { super(message); }
}

/**
 * Lays out `blocks` blocks holding at least `minInodes` inodes (and one per `inodeRatio` bytes).
 * A tail group too small to be useful is dropped, as mke2fs does, so `blocks` may shrink.
 */
export function computeGeometry(requestedBlocks: number, minInodes: number, inodeRatio: number): Geometry {
  let blocks = requestedBlocks;
  let groups = Math.ceil(blocks / BLOCKS_PER_GROUP);
  const gdtBlocksFor = (n: number): number => Math.ceil((n * EXT4_DESC_SIZE_64BIT) / BLOCK_SIZE);
  const ipgFor = (n: number, b: number): number => {
    const wanted = Math.max(minInodes, Math.ceil((b * BLOCK_SIZE) / inodeRatio));
    const ipg = Math.ceil(wanted / n / INODES_PER_BLOCK) * INODES_PER_BLOCK;
    return Math.max(INODES_PER_BLOCK, ipg);
  };
  // Drop a tail group that cannot hold its own metadata plus a little data (mke2fs does the same).
  if (groups > 1) {
    const last = groups - 1;
    const tail = blocksInGroup(blocks, last);
    const ipg = ipgFor(groups, blocks);
    let overhead = groupHasSuper(last) ? 1 + gdtBlocksFor(groups) : 0;
    if (last % (1 << LOG_GROUPS_PER_FLEX) === 0) overhead += 2 + ipg / INODES_PER_BLOCK;
    if (tail < overhead + 50) {
      groups--;
      blocks = groups * BLOCKS_PER_GROUP;
    }
  }
  const inodesPerGroup = ipgFor(groups, blocks);
  if (inodesPerGroup > MAX_INODES_PER_GROUP) {
    throw new GeometryError('too-many-inodes', `${minInodes} inodes need more than ${groups} block groups`);
  }
  const inodeTableBlocks = inodesPerGroup / INODES_PER_BLOCK;
  const gdtBlocks = gdtBlocksFor(groups);
  const backupGroups: number[] = [];
  const reserved: Range[] = [];
  for (let g = 0; g < groups; g++) {
    if (groupHasSuper(g)) {
      backupGroups.push(g);
      reserved.push({ start: g * BLOCKS_PER_GROUP, count: 1 + gdtBlocks });
    }
  }
  // flex_bg: each flex group's block bitmaps, then inode bitmaps, then inode tables, packed from
  // the first free block of its first group (what mke2fs's flexbg_offset() aims for).
  const backups = [...reserved];
  const place = (from: number, count: number): number => {
    let start = from;
    for (const r of backups) {
      if (start < r.start + r.count && r.start < start + count) start = r.start + r.count;
    }
    if (start + count > blocks) throw new GeometryError('too-small', `metadata does not fit in ${blocks} blocks`);
    reserved.push({ start, count });
    return start;
  };
  const blockBitmap: number[] = [];
  const inodeBitmap: number[] = [];
  const inodeTable: number[] = [];
  const flex = 1 << LOG_GROUPS_PER_FLEX;
  let cursor = 0;
  for (let f = 0; f * flex < groups; f++) {
    const first = f * flex;
    const n = Math.min(flex, groups - first);
    cursor = Math.max(cursor, first * BLOCKS_PER_GROUP);
    const bb = place(cursor, n);
    const ib = place(bb + n, n);
    cursor = ib + n;
    for (let i = 0; i < n; i++) {
      blockBitmap.push(bb + i);
      inodeBitmap.push(ib + i);
    }
    for (let i = 0; i < n; i++) {
      const it = place(cursor, inodeTableBlocks);
      inodeTable.push(it);
      cursor = it + inodeTableBlocks;
    }
  }
  reserved.sort((a, b) => a.start - b.start);
  const merged: Range[] = [];
  for (const r of reserved) {
    const last = merged[merged.length - 1];
    if (last && last.start + last.count >= r.start) last.count = Math.max(last.count, r.start + r.count - last.start);
    else merged.push({ ...r });
  }
  return { blocks, groups, inodesPerGroup, inodeTableBlocks, gdtBlocks, backupGroups, blockBitmap, inodeBitmap, inodeTable, reserved: merged };
}
