// Hashed directories (ext4 doc "Hash Tree Directories"; fs/ext4/namei.c): block 0 is a dx_root
// (fake "." and ".." records, dx_root_info, then {hash, block} pairs), optional dx_node blocks one
// level down, then leaf blocks of ordinary records sorted by hash. Each dx block ends in a
// struct dx_tail checksum; each leaf in a dirent tail.
import { crc32cUpdate } from './crc32c.js';
import { BLOCK_SIZE, DX_HASH_HALF_MD4 } from './constants.js';
import { type DirRecord, LEAF_SPACE, dotEntries, leafBlock, recLen, writeRecords, DirEntryHeader } from './dirent.js';
import { dxHashHalfMd4 } from './dx-hash.js';
import { defineStruct } from '../struct.js';

export const DxRootInfo = defineStruct('dx_root_info', 8, [
  { name: 'reserved_zero', offset: 0, type: 'u32' },
  { name: 'hash_version', offset: 4, type: 'u8' },
  { name: 'info_length', offset: 5, type: 'u8' }, // 8
  { name: 'indirect_levels', offset: 6, type: 'u8' },
  { name: 'unused_flags', offset: 7, type: 'u8' },
] as const, { wrap: true });

export const DxCountLimit = defineStruct('dx_countlimit', 8, [
  { name: 'limit', offset: 0, type: 'u16' },
  { name: 'count', offset: 2, type: 'u16' },
  { name: 'block', offset: 4, type: 'u32' }, // first child: its hash is implicitly the parent's lower bound
] as const, { wrap: true });

export const DxEntry = defineStruct('dx_entry', 8, [
  { name: 'hash', offset: 0, type: 'u32' },
  { name: 'block', offset: 4, type: 'u32' },
] as const, { wrap: true });

/** "." (12 bytes) + ".." header (12) precede dx_root_info in block 0. */
const ROOT_INFO_OFFSET = 24;
const ROOT_COUNT_OFFSET = 32;
/** A dx_node starts with an empty fake record spanning the block (8 bytes). */
const NODE_COUNT_OFFSET = 8;
/** dx entries per block with the dx_tail reserved (dx_root_limit / dx_node_limit minus one). */
export const DX_ROOT_LIMIT = (BLOCK_SIZE - ROOT_COUNT_OFFSET) / 8 - 1;
export const DX_NODE_LIMIT = (BLOCK_SIZE - NODE_COUNT_OFFSET) / 8 - 1;
/** Without the largedir feature an htree has at most one level of dx_nodes. */
export const DX_MAX_LEAVES = DX_ROOT_LIMIT * DX_NODE_LIMIT;

type Pointer = { hash: number; block: number };

function dxBlock(countOffset: number, limit: number, ptrs: readonly Pointer[], inodeSeed: number, block: Uint8Array): Uint8Array {
  DxCountLimit.encode({ limit, count: ptrs.length, block: ptrs[0]!.block }, block, countOffset);
  for (let i = 1; i < ptrs.length; i++) DxEntry.encode({ hash: ptrs[i]!.hash, block: ptrs[i]!.block }, block, countOffset + i * 8);
  // ext4_dx_csum: crc32c(seed, block[0 .. count_offset + count*8]) then dt_reserved, then a zero checksum.
  const tail = countOffset + limit * 8;
  let crc = crc32cUpdate(inodeSeed, block, 0, countOffset + ptrs.length * 8);
  crc = crc32cUpdate(crc, block, tail, tail + 4);
  crc = crc32cUpdate(crc, new Uint8Array(4));
  new DataView(block.buffer).setUint32(tail + 4, crc, true);
  return block;
}

/** How many leaves `records` need when packed in hash order (a cheap dry run for planning). */
export function packLeaves(records: readonly DirRecord[], seed: Uint32Array): { leaves: DirRecord[][]; hashes: number[] } {
  // Hashes in typed columns and an index permutation: no object per record for a 20k directory.
  const n = records.length;
  const major = new Uint32Array(n);
  const minor = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const h = dxHashHalfMd4(records[i]!.name, seed);
    major[i] = h.hash;
    minor[i] = h.minor;
  }
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => major[a]! - major[b]! || minor[a]! - minor[b]! || Buffer.compare(records[a]!.name, records[b]!.name));
  const leaves: DirRecord[][] = [];
  const hashes: number[] = [];
  let cur: DirRecord[] = [];
  let used = 0;
  order.forEach((k, i) => {
    const r = records[k]!;
    const len = recLen(r.name.length);
    if (used + len > LEAF_SPACE) {
      leaves.push(cur);
      cur = [];
      used = 0;
    }
    if (cur.length === 0) {
      // A leaf starting inside a run of equal hashes sets the low "continued" bit (do_split in namei.c).
      const continued = i > 0 && major[order[i - 1]!] === major[k] ? 1 : 0;
      hashes.push(i === 0 ? 0 : major[k]! | continued);
    }
    cur.push(r);
    used += len;
  });
  if (cur.length) leaves.push(cur);
  return { leaves, hashes };
}

/**
 * All blocks of an indexed directory in logical order: dx_root, dx_nodes, leaves.
 * `records` excludes "." and "..". Undefined when two levels are not enough.
 */
export function htreeBlocks(self: number, parent: number, records: readonly DirRecord[], seed: Uint32Array, inodeSeed: number): Uint8Array[] | undefined {
  const { leaves, hashes } = packLeaves(records, seed);
  if (leaves.length > DX_MAX_LEAVES) return undefined; // needs largedir (three levels)
  const levels = leaves.length > DX_ROOT_LIMIT ? 1 : 0;
  const nodes = levels ? Math.ceil(leaves.length / DX_NODE_LIMIT) : 0;
  const firstLeaf = 1 + nodes;
  const leafPtrs: Pointer[] = hashes.map((hash, i) => ({ hash, block: firstLeaf + i }));

  const root = new Uint8Array(BLOCK_SIZE);
  const [dot, dotdot] = dotEntries(self, parent);
  writeRecords(root, [dot!], 12);
  DirEntryHeader.encode({ inode: dotdot!.ino, rec_len: BLOCK_SIZE - 12, name_len: 2, file_type: dotdot!.fileType }, root, 12);
  root.set(dotdot!.name, 12 + 8);
  DxRootInfo.encode({ reserved_zero: 0, hash_version: DX_HASH_HALF_MD4, info_length: 8, indirect_levels: levels, unused_flags: 0 }, root, ROOT_INFO_OFFSET);

  const out: Uint8Array[] = [root];
  if (levels === 0) {
    dxBlock(ROOT_COUNT_OFFSET, DX_ROOT_LIMIT, leafPtrs, inodeSeed, root);
  } else {
    const nodePtrs: Pointer[] = [];
    for (let n = 0; n < nodes; n++) {
      const part = leafPtrs.slice(n * DX_NODE_LIMIT, (n + 1) * DX_NODE_LIMIT);
      const block = new Uint8Array(BLOCK_SIZE);
      DirEntryHeader.encode({ inode: 0, rec_len: BLOCK_SIZE, name_len: 0, file_type: 0 }, block, 0);
      out.push(dxBlock(NODE_COUNT_OFFSET, DX_NODE_LIMIT, part, inodeSeed, block));
      nodePtrs.push({ hash: part[0]!.hash, block: 1 + n });
    }
    dxBlock(ROOT_COUNT_OFFSET, DX_ROOT_LIMIT, nodePtrs, inodeSeed, root);
  }
  for (const leaf of leaves) out.push(leafBlock(leaf, inodeSeed));
  return out;
}
