// planExt4(tree, options) -> Ext4Layout: every block of the filesystem decided from sizes alone.
//
// (1) identity: UUID, hash seed and checksum seed from the content;
// (2) prepare: inode numbers, directory blocks, xattr placement, file runs (size independent);
// (3) geometry for the size (or the smallest size that fits, with headroom);
// (4) allocation in inode order: journal, then per inode its directory/symlink/xattr/data blocks
//     and extent tree blocks; every inode's on-disk fields;
// (5) per-group counts, bitmap checksums, group descriptors and the superblock template.
import type { FileTree } from '../tree.js';
import { Allocator, NoSpace } from './alloc.js';
import { type Allocation, allocate } from './allocate.js';
import { bitmapCsum, blockBitmap, inodeBitmap } from './bitmap.js';
import {
  BLOCKS_PER_GROUP, BLOCK_SIZE, DX_HASH_HALF_MD4, EXT2_FLAGS_UNSIGNED_HASH, EXT3_JNL_BACKUP_BLOCKS, EXT4_BG_INODE_ZEROED,
  EXT4_CRC32C_CHKSUM, EXT4_DESC_SIZE_64BIT, EXT4_DYNAMIC_REV, EXT4_ERRORS_CONTINUE, EXT4_EXTRA_ISIZE,
  EXT4_FEATURE_COMPAT_DIR_INDEX, EXT4_FEATURE_COMPAT_EXT_ATTR, EXT4_FEATURE_COMPAT_HAS_JOURNAL,
  EXT4_FEATURE_INCOMPAT_64BIT, EXT4_FEATURE_INCOMPAT_EXTENTS, EXT4_FEATURE_INCOMPAT_FILETYPE,
  EXT4_FEATURE_INCOMPAT_FLEX_BG, EXT4_FEATURE_RO_COMPAT_DIR_NLINK, EXT4_FEATURE_RO_COMPAT_EXTRA_ISIZE,
  EXT4_FEATURE_RO_COMPAT_HUGE_FILE, EXT4_FEATURE_RO_COMPAT_LARGE_FILE, EXT4_FEATURE_RO_COMPAT_METADATA_CSUM,
  EXT4_FEATURE_RO_COMPAT_SPARSE_SUPER, EXT4_GOOD_OLD_FIRST_INO, EXT4_INODE_SIZE, EXT4_JOURNAL_INO,
  EXT4_OS_LINUX, EXT4_SUPER_MAGIC, EXT4_VALID_FS, LOG_BLOCK_SIZE, LOG_GROUPS_PER_FLEX,
} from './constants.js';
import { Ext4Error } from './errors.js';
import { extentTreeBlocks } from './extent.js';
import { type Geometry, GeometryError, type Range, blocksInGroup, computeGeometry } from './geometry.js';
import { type GroupInfo, encodeGroupDesc } from './group-desc.js';
import { type Identity, digestInputs, identity, parseUuid } from './identity.js';
import type { InodeColumns } from './inode-table.js';
import { type DataRuns, Nodes } from './nodes.js';
import { type Prepared, prepare } from './prepare.js';
import { Superblock } from './superblock.js';
import { hi32, lo32 } from '../struct.js';

export interface Ext4Options {
  /** Filesystem size in bytes (the stream is exactly this long), or 'fit' (default). */
  size?: number | 'fit';
  /** Volume label, at most 16 bytes of UTF-8. */
  label?: string;
  /** "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"; derived from the content when absent. */
  uuid?: string;
  /** Bytes per inode (default 16384, as mke2fs). */
  inodeRatio?: number;
  /** Percentage of blocks reserved for root (default 0: the image is an appliance root). */
  reservedBlocksPercent?: number;
  /** Add a jbd2 journal (inode 8) so the kernel can mount read-write (default false). */
  journal?: boolean;
  /** mkfs/write/check time in the superblock, seconds (e.g. SOURCE_DATE_EPOCH; default 0). */
  epoch?: number;
}

/** 'fit' leaves this share of the used blocks free, plus FIT_SLACK_BLOCKS, rounded up to 1 MiB. */
export const FIT_HEADROOM = 0.1;
export const FIT_SLACK_BLOCKS = 256;
const FIT_ROUND_BLOCKS = 256;

/** What fills a metadata block range, in ascending order; file data is in Ext4Layout.data; gaps are zeros. */
export type Region =
  | { start: number; count: number; kind: 'bytes'; bytes: Uint8Array }
  | { start: number; count: number; kind: 'super'; group: number }
  | { start: number; count: number; kind: 'gdt' }
  | { start: number; count: number; kind: 'blockBitmap'; group: number }
  | { start: number; count: number; kind: 'inodeBitmap'; group: number }
  | { start: number; count: number; kind: 'inodeTable'; group: number };

export interface Ext4Layout {
  /** Bytes the emitter writes: the requested size, or blocks * 4096 for 'fit'. */
  size: number;
  blocks: number;
  geometry: Geometry;
  identity: Identity;
  regions: Region[];
  /** Where each file's data goes: physical runs in ascending order, interleaved with `regions`. */
  data: DataRuns;
  /** Every inode's planned fields, by inode number; unused inodes are written as zeros. */
  inodes: InodeColumns;
  lastIno: number;
  groups: GroupInfo[];
  /** The superblock without s_block_group_nr and checksum (the emitter seals each copy). */
  superblock: Uint8Array;
  gdt: Uint8Array;
  /** First block never allocated: everything below is in use. */
  allocEnd: number;
  reserved: readonly Range[];
  freeBlocks: number;
  freeInodes: number;
}

interface Normalized {
  size: number | 'fit'; label: Uint8Array; uuid?: Uint8Array | undefined; inodeRatio: number;
  reservedBlocksPercent: number; journal: boolean; epoch: number;
}

function normalize(o: Ext4Options): Normalized {
  const bad = (what: string, hint: string): never => {
    throw new Ext4Error('E_EXT4_BAD_OPTION', `ext4 ${what}; ${hint}`, { option: what });
  };
  const size = o.size ?? 'fit';
  if (size !== 'fit' && !(Number.isSafeInteger(size) && size >= 0)) bad(`size ${String(size)} is not a byte count`, 'give bytes or "fit"');
  const label = Buffer.from(o.label ?? '', 'utf8');
  if (label.length > 16) bad(`label "${o.label}" is ${label.length} bytes`, 'use at most 16 bytes');
  let uuid: Uint8Array | undefined;
  if (o.uuid !== undefined) uuid = parseUuid(o.uuid) ?? bad(`uuid "${o.uuid}" is malformed`, 'use the form 0123abcd-0123-4567-89ab-0123456789ab');
  const inodeRatio = o.inodeRatio ?? 16384;
  if (!(Number.isInteger(inodeRatio) && inodeRatio >= 1024 && inodeRatio <= 67108864)) bad(`inode ratio ${inodeRatio} is out of range`, 'use 1024..67108864 bytes per inode');
  const reservedBlocksPercent = o.reservedBlocksPercent ?? 0;
  if (!(reservedBlocksPercent >= 0 && reservedBlocksPercent <= 50)) bad(`reserved blocks ${reservedBlocksPercent}% is out of range`, 'use 0..50');
  const epoch = o.epoch ?? 0;
  if (!(Number.isInteger(epoch) && epoch >= 0 && epoch < 2 ** 40)) bad(`epoch ${epoch} is out of range`, 'use seconds since 1970');
  return { size, label, uuid, inodeRatio, reservedBlocksPercent, journal: o.journal ?? false, epoch };
}

/** (3)+(4) for one block count; GeometryError / NoSpace when it does not fit. */
function attempt(blocks: number, minInodes: number, o: Normalized, prep: Prepared, id: Identity): { geo: Geometry; a: Allocation } {
  const geo = computeGeometry(blocks, minInodes, o.inodeRatio);
  return { geo, a: allocate(geo, prep, id, o.journal) };
}

function contentBlocks(prep: Prepared, journal: boolean): number {
  let n = journal ? JOURNAL_GUESS : 0;
  const nodes = prep.nodes;
  for (let i = 0; i < nodes.count; i++) {
    const blocks = nodes.dataBlocks[i]!;
    n += blocks + nodes.xattrInBlock[i]! + extentTreeBlocks(nodes.runs.get(i)?.length ?? Math.ceil(blocks / 32768));
  }
  return n;
}
const JOURNAL_GUESS = 1024;

/** Smallest block count (multiple of 1 MiB) that fits with the stated headroom, and its attempt. */
function fit(o: Normalized, prep: Prepared, id: Identity): { geo: Geometry; a: Allocation } {
  const content = contentBlocks(prep, o.journal);
  const minInodes = Math.ceil(prep.lastIno * (1 + FIT_HEADROOM)) + 16;
  const round = (b: number): number => Math.ceil(b / FIT_ROUND_BLOCKS) * FIT_ROUND_BLOCKS;
  const inodeBlocks = Math.ceil((minInodes * EXT4_INODE_SIZE) / BLOCK_SIZE);
  let blocks = round(content * (1 + FIT_HEADROOM) + FIT_SLACK_BLOCKS + inodeBlocks + 64);
  for (let i = 0; i < 64; i++) {
    try {
      // Settle the size on geometry alone (cheap), then allocate once for real.
      for (let j = 0; j < 16; j++) {
        const geo = computeGeometry(blocks, minInodes, o.inodeRatio);
        const want = round(overheadOf(geo) + content + Math.ceil(content * FIT_HEADROOM) + FIT_SLACK_BLOCKS);
        if (geo.blocks >= want) break;
        blocks = want;
      }
      const r = attempt(blocks, minInodes, o, prep, id);
      const used = r.geo.blocks - freeBlocksOf(r.geo, r.a.alloc);
      const want = round(used + Math.ceil((used - overheadOf(r.geo)) * FIT_HEADROOM) + FIT_SLACK_BLOCKS);
      if (r.geo.blocks >= want) return r;
      blocks = Math.max(want, blocks + FIT_ROUND_BLOCKS);
    } catch (err) {
      if (!(err instanceof NoSpace || err instanceof GeometryError)) throw err;
      blocks = round(blocks * 1.25 + FIT_ROUND_BLOCKS);
    }
  }
  throw new Ext4Error('E_INTERNAL', 'BUG: ext4 size "fit" did not converge');
}

function overheadOf(geo: Geometry): number {
  return geo.reserved.reduce((s, r) => s + r.count, 0);
}
function freeBlocksOf(geo: Geometry, alloc: Allocator): number {
  return geo.blocks - alloc.usedIn(0, geo.blocks);
}

export function planExt4(tree: FileTree, options: Ext4Options = {}): Ext4Layout {
  const o = normalize(options);
  // (1) identity
  const digest = digestInputs(tree, { ...options, uuid: undefined });
  const id = identity(digest, o.uuid);
  // (2) prepare
  const prep = prepare(tree, o.epoch, { hashSeed: id.hashSeed, csumSeed: id.csumSeed });
  // (3)+(4) geometry and allocation
  let r: { geo: Geometry; a: Allocation };
  let size: number;
  if (o.size === 'fit') {
    r = fit(o, prep, id);
    size = r.geo.blocks * BLOCK_SIZE;
  } else {
    size = o.size;
    try {
      r = attempt(Math.floor(size / BLOCK_SIZE), prep.lastIno, o, prep, id);
    } catch (err) {
      if (!(err instanceof NoSpace || err instanceof GeometryError)) throw err;
      const need = fit({ ...o, size: 'fit' }, prep, id).geo.blocks * BLOCK_SIZE;
      const what = err instanceof NoSpace
        ? (err as NoSpace & { what?: string }).what ?? 'the metadata'
        : err.reason === 'too-many-inodes' ? `the inode table for ${prep.lastIno} inodes` : 'the filesystem metadata';
      throw new Ext4Error('E_EXT4_NO_SPACE',
        `${what}: does not fit in an ext4 filesystem of ${size} bytes; it needs about ${need} bytes (${Math.ceil(need / 1048576)} MiB), give a larger --size or "fit"`,
        { path: what, size, needed: need });
    }
  }
  const { geo, a } = r;
  return finish(geo, a, o, id, prep, size);
}

/** (5) group counts, bitmap checksums, descriptors, superblock. */
function finish(geo: Geometry, a: Allocation, o: Normalized, id: Identity, prep: Prepared, size: number): Ext4Layout {
  const ipg = geo.inodesPerGroup;
  const lastIno = prep.lastIno;
  const groups: GroupInfo[] = [];
  let freeBlocks = 0;
  let freeInodes = 0;
  const dirsPerGroup = new Array<number>(geo.groups).fill(0);
  for (let i = 0; i < prep.nodes.count; i++) if (prep.nodes.entry[i]!.type === 'dir') dirsPerGroup[Math.floor((Nodes.ino(i) - 1) / ipg)]!++;
  for (let g = 0; g < geo.groups; g++) {
    const start = g * BLOCKS_PER_GROUP;
    const count = blocksInGroup(geo.blocks, g);
    const usedBlocks = a.alloc.usedIn(start, start + count);
    const usedInodes = Math.max(0, Math.min(ipg, lastIno - g * ipg));
    const bb = blockBitmap(start, count, a.alloc.cursor, geo.reserved);
    const ib = inodeBitmap(usedInodes, ipg);
    groups.push({
      blockBitmap: geo.blockBitmap[g]!, inodeBitmap: geo.inodeBitmap[g]!, inodeTable: geo.inodeTable[g]!,
      freeBlocks: count - usedBlocks, freeInodes: ipg - usedInodes, usedDirs: dirsPerGroup[g]!,
      flags: EXT4_BG_INODE_ZEROED, itableUnused: ipg - usedInodes,
      blockBitmapCsum: bitmapCsum(id.csumSeed, bb, BLOCKS_PER_GROUP / 8),
      inodeBitmapCsum: bitmapCsum(id.csumSeed, ib, ipg / 8),
    });
    freeBlocks += count - usedBlocks;
    freeInodes += ipg - usedInodes;
  }
  const gdt = new Uint8Array(geo.gdtBlocks * BLOCK_SIZE);
  groups.forEach((g, i) => encodeGroupDesc(g, i, id.csumSeed, gdt, i * EXT4_DESC_SIZE_64BIT));

  const regions: Region[] = [];
  for (const g of geo.backupGroups) {
    regions.push({ start: g * BLOCKS_PER_GROUP, count: 1, kind: 'super', group: g });
    regions.push({ start: g * BLOCKS_PER_GROUP + 1, count: geo.gdtBlocks, kind: 'gdt' });
  }
  for (let g = 0; g < geo.groups; g++) {
    regions.push({ start: geo.blockBitmap[g]!, count: 1, kind: 'blockBitmap', group: g });
    regions.push({ start: geo.inodeBitmap[g]!, count: 1, kind: 'inodeBitmap', group: g });
    regions.push({ start: geo.inodeTable[g]!, count: geo.inodeTableBlocks, kind: 'inodeTable', group: g });
  }
  for (const r of a.regions) regions.push(r); // (no spread: 10^6 arguments overflow the stack)
  regions.sort((x, y) => x.start - y.start);
  checkDisjoint(regions, a.data);

  const inodesCount = ipg * geo.groups;
  const rBlocks = Math.floor((geo.blocks * o.reservedBlocksPercent) / 100);
  const hashSeed = new Uint8Array(16);
  id.hashSeed.forEach((w, i) => new DataView(hashSeed.buffer).setUint32(i * 4, w, true));
  const jnlBlocks = new Uint8Array(68);
  if (a.journalIblock) {
    // s_jnl_blocks: a backup of the journal inode's i_block, then i_size_high and i_size.
    jnlBlocks.set(a.journalIblock);
    const v = new DataView(jnlBlocks.buffer);
    v.setUint32(15 * 4, hi32(a.journalBlocks * BLOCK_SIZE), true);
    v.setUint32(16 * 4, lo32(a.journalBlocks * BLOCK_SIZE), true);
  }
  const t = o.epoch;
  const superblock = Superblock.encode({
    s_inodes_count: inodesCount,
    s_blocks_count_lo: lo32(geo.blocks), s_blocks_count_hi: hi32(geo.blocks),
    s_r_blocks_count_lo: lo32(rBlocks), s_r_blocks_count_hi: hi32(rBlocks),
    s_free_blocks_count_lo: lo32(freeBlocks), s_free_blocks_count_hi: hi32(freeBlocks),
    s_free_inodes_count: freeInodes,
    s_first_data_block: 0, // 0 for block sizes above 1 KiB
    s_log_block_size: LOG_BLOCK_SIZE, s_log_cluster_size: LOG_BLOCK_SIZE,
    s_blocks_per_group: BLOCKS_PER_GROUP, s_clusters_per_group: BLOCKS_PER_GROUP,
    s_inodes_per_group: ipg,
    s_mtime: 0, s_wtime: lo32(t), s_wtime_hi: hi32(t), s_mkfs_time: lo32(t), s_mkfs_time_hi: hi32(t),
    s_lastcheck: lo32(t), s_lastcheck_hi: hi32(t),
    s_mnt_count: 0, s_max_mnt_count: 0xffff, // -1: no forced checks
    s_magic: EXT4_SUPER_MAGIC, s_state: EXT4_VALID_FS, s_errors: EXT4_ERRORS_CONTINUE,
    s_checkinterval: 0, s_creator_os: EXT4_OS_LINUX, s_rev_level: EXT4_DYNAMIC_REV,
    s_first_ino: EXT4_GOOD_OLD_FIRST_INO, s_inode_size: EXT4_INODE_SIZE,
    s_feature_compat: EXT4_FEATURE_COMPAT_EXT_ATTR | EXT4_FEATURE_COMPAT_DIR_INDEX | (o.journal ? EXT4_FEATURE_COMPAT_HAS_JOURNAL : 0),
    s_feature_incompat: EXT4_FEATURE_INCOMPAT_FILETYPE | EXT4_FEATURE_INCOMPAT_EXTENTS | EXT4_FEATURE_INCOMPAT_64BIT | EXT4_FEATURE_INCOMPAT_FLEX_BG,
    s_feature_ro_compat: EXT4_FEATURE_RO_COMPAT_SPARSE_SUPER | EXT4_FEATURE_RO_COMPAT_LARGE_FILE | EXT4_FEATURE_RO_COMPAT_HUGE_FILE
      | EXT4_FEATURE_RO_COMPAT_DIR_NLINK | EXT4_FEATURE_RO_COMPAT_EXTRA_ISIZE | EXT4_FEATURE_RO_COMPAT_METADATA_CSUM,
    s_uuid: id.uuid, s_volume_name: o.label,
    s_journal_inum: o.journal ? EXT4_JOURNAL_INO : 0,
    s_jnl_backup_type: o.journal ? EXT3_JNL_BACKUP_BLOCKS : 0, s_jnl_blocks: jnlBlocks,
    s_hash_seed: hashSeed, s_def_hash_version: DX_HASH_HALF_MD4, s_flags: EXT2_FLAGS_UNSIGNED_HASH,
    s_desc_size: EXT4_DESC_SIZE_64BIT,
    s_min_extra_isize: EXT4_EXTRA_ISIZE, s_want_extra_isize: EXT4_EXTRA_ISIZE,
    s_log_groups_per_flex: LOG_GROUPS_PER_FLEX, s_checksum_type: EXT4_CRC32C_CHKSUM,
  });
  return {
    size, blocks: geo.blocks, geometry: geo, identity: id, regions, data: a.data, inodes: a.inodes, lastIno, groups,
    superblock, gdt, allocEnd: a.alloc.cursor, reserved: geo.reserved, freeBlocks, freeInodes,
  };
}

/** Metadata regions and data runs, each ascending, must not overlap one another (walked merged). */
function checkDisjoint(regions: readonly Region[], data: DataRuns): void {
  let end = 0;
  let d = 0;
  const take = (start: number, count: number): void => {
    if (start < end) throw new Ext4Error('E_INTERNAL', `BUG: ext4 regions overlap at block ${start}`);
    end = start + count;
  };
  for (const r of regions) {
    for (; d < data.length && data.start[d]! < r.start; d++) take(data.start[d]!, data.count[d]!);
    take(r.start, r.count);
  }
  for (; d < data.length; d++) take(data.start[d]!, data.count[d]!);
}
