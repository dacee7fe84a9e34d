// Step (4) of planning: hands out blocks in inode order (journal first, then per inode its
// xattr block, directory / symlink / file blocks and extent tree blocks) and decides every
// inode's on-disk fields. Everything lands in `regions`, which the emitter walks.
import { statMode } from '../tree.js';
import { Allocator, NoSpace } from './alloc.js';
import { BLOCK_SIZE, EXT4_EXTENTS_FL, EXT4_INDEX_FL, EXT4_JOURNAL_INO, EXT_INIT_MAX_LEN } from './constants.js';
import { type Extent, buildExtentTree } from './extent.js';
import type { Geometry, Range } from './geometry.js';
import type { Identity } from './identity.js';
import { type InodeFields, inodeCsumSeed } from './inode.js';
import { InodeColumns } from './inode-table.js';
import { defaultJournalBlocks, journalSuperblock } from './journal.js';
import type { Region } from './plan.js';
import { DataRuns, Nodes } from './nodes.js';
import type { Prepared } from './prepare.js';
import { inodeXattrArea, xattrBlock } from './xattr.js';

const sectors = (blocks: number): number => blocks * (BLOCK_SIZE / 512);

/** Physical runs -> extents, cut at the 32768-block extent limit. */
function toExtents(logical: number, runs: readonly Range[], into: Extent[]): void {
  let l = logical;
  for (const r of runs) {
    for (let done = 0; done < r.count; done += EXT_INIT_MAX_LEN) {
      const len = Math.min(EXT_INIT_MAX_LEN, r.count - done);
      const prev = into[into.length - 1];
      if (prev && prev.logical + prev.len === l && prev.physical + prev.len === r.start + done && prev.len + len <= EXT_INIT_MAX_LEN) prev.len += len;
      else into.push({ logical: l, physical: r.start + done, len });
      l += len;
    }
  }
}

function devIblock(major: number, minor: number): Uint8Array {
  const b = new Uint8Array(60);
  const v = new DataView(b.buffer);
  // ext4_inode_set_dev style: old 8:8 encoding in i_block[0] when it fits, new_encode_dev in i_block[1].
  if (major < 256 && minor < 256) v.setUint32(0, (major << 8) | minor, true);
  else v.setUint32(4, ((minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12)) >>> 0, true);
  return b;
}

export interface Allocation {
  alloc: Allocator;
  /** Metadata regions; file data is in `data`. */
  regions: Region[];
  data: DataRuns;
  inodes: InodeColumns;
  journalBlocks: number;
  journalIblock?: Uint8Array;
}

/** (4) Allocates every inode's blocks; throws NoSpace carrying the entry being placed. */
export function allocate(geo: Geometry, prep: Prepared, id: Identity, journal: boolean): Allocation {
  const alloc = new Allocator(geo.reserved, geo.blocks);
  const regions: Region[] = [];
  const nodes = prep.nodes;
  // One run per file with data, a few more where a file straddles metadata: sized once, not grown.
  let runs = 64;
  for (let i = 0; i < nodes.count; i++) if (nodes.entry[i]!.type === 'file') runs += nodes.runs.get(i)?.length ?? (nodes.dataBlocks[i]! > 0 ? 1 : 0);
  const data = new DataRuns(nodes, runs + (runs >> 6));
  const inodes = new InodeColumns(prep.lastIno + 1);
  const scratch = new Uint8Array(60);
  const f: InodeFields = { mode: 0, uid: 0, gid: 0, size: 0, links: 0, mtime: 0, mtimeNsec: 0, sectors: 0, flags: 0, fileAcl: 0 };
  const grab = (n: number, what: string): Range[] => {
    try {
      return alloc.alloc(n);
    } catch (err) {
      if (err instanceof NoSpace) throw Object.assign(err, { what });
      throw err;
    }
  };
  let treeWhat = '';
  const treeBlocks = (n: number): number[] => grab(n, treeWhat).flatMap((r) => Array.from({ length: r.count }, (_, i) => r.start + i));
  const treeAlloc = (what: string) => { treeWhat = what; return treeBlocks; };
  let journalBlocks = 0;
  let journalIblock: Uint8Array | undefined;
  if (journal) {
    journalBlocks = defaultJournalBlocks(geo.blocks);
    const runs = grab(journalBlocks, 'the journal');
    const extents: Extent[] = [];
    toExtents(0, runs, extents);
    const tree = buildExtentTree(extents, inodeCsumSeed(id.csumSeed, EXT4_JOURNAL_INO), treeAlloc('the journal'));
    regions.push({ start: runs[0]!.start, count: 1, kind: 'bytes', bytes: journalSuperblock(journalBlocks, id.uuid) });
    for (const b of tree.blocks) regions.push({ start: b.block, count: 1, kind: 'bytes', bytes: b.bytes });
    journalIblock = tree.iblock;
    inodes.set(EXT4_JOURNAL_INO, {
      mode: 0o100600, uid: 0, gid: 0, size: journalBlocks * BLOCK_SIZE, links: 1, mtime: 0, mtimeNsec: 0,
      sectors: sectors(journalBlocks + tree.blocks.length), flags: EXT4_EXTENTS_FL, fileAcl: 0,
    }, tree.iblock);
  }
  for (let slot = 0; slot < nodes.count; slot++) {
    const e = nodes.entry[slot]!;
    const ino = Nodes.ino(slot);
    const dataBlocks = nodes.dataBlocks[slot]!;
    const xattrs = nodes.xattrs.get(slot);
    const xattrInBlock = nodes.xattrInBlock[slot] === 1;
    const what = e.path || '/';
    const iseed = inodeCsumSeed(id.csumSeed, ino);
    let iblock: Uint8Array = scratch.fill(0);
    let flags = 0;
    let used = 0;
    let fileAcl = 0;
    let size = 0;
    if (xattrs && xattrInBlock) {
      const [r] = grab(1, what);
      fileAcl = r!.start;
      regions.push({ start: fileAcl, count: 1, kind: 'bytes', bytes: xattrBlock(xattrs, fileAcl, id.csumSeed) });
      used++;
    }
    if (e.type === 'dir' || e.type === 'file' || (e.type === 'symlink' && dataBlocks > 0)) {
      flags |= EXT4_EXTENTS_FL;
      const extents: Extent[] = [];
      const dirData = e.type === 'dir' ? nodes.dirData.get(slot)! : undefined;
      for (const run of nodes.runsOf(slot)) {
        const phys = grab(run.count, what);
        toExtents(run.logical, phys, extents);
        let l = run.logical;
        for (const p of phys) {
          if (e.type === 'file') {
            data.push(p.start, p.count, slot, l);
          } else if (e.type === 'dir') {
            for (let i = 0; i < p.count; i++) regions.push({ start: p.start + i, count: 1, kind: 'bytes', bytes: dirData![l + i]! });
          } else {
            const block = new Uint8Array(BLOCK_SIZE);
            block.set(Buffer.from(e.type === 'symlink' ? e.target : '', 'utf8'));
            regions.push({ start: p.start, count: 1, kind: 'bytes', bytes: block });
          }
          l += p.count;
        }
      }
      const tree = buildExtentTree(extents, iseed, treeAlloc(what), scratch);
      for (const b of tree.blocks) regions.push({ start: b.block, count: 1, kind: 'bytes', bytes: b.bytes });
      iblock = tree.iblock;
      used += dataBlocks + tree.blocks.length;
    }
    switch (e.type) {
      case 'dir':
        size = dataBlocks * BLOCK_SIZE;
        if (dataBlocks > 1) flags |= EXT4_INDEX_FL;
        break;
      case 'file': size = e.size; break;
      case 'symlink': {
        const target = Buffer.from(e.target, 'utf8');
        size = target.length;
        if (dataBlocks === 0) iblock.set(target); // fast symlink: the target lives in i_block
        break;
      }
      case 'char': case 'block': iblock = devIblock(e.major, e.minor); break;
      default: break;
    }
    // One reused fields object: InodeColumns.set copies it into its columns.
    f.mode = statMode(e); f.uid = e.uid; f.gid = e.gid; f.size = size; f.links = nodes.links[slot]!;
    f.mtime = e.mtime; f.mtimeNsec = e.mtimeNsec; f.sectors = sectors(used); f.flags = flags; f.fileAcl = fileAcl;
    f.inlineXattrs = xattrs && !xattrInBlock ? inodeXattrArea(xattrs) : undefined;
    inodes.set(ino, f, iblock);
  }
  // No sort needed: the cursor only moves forward, so regions were pushed in ascending order.
  if (regions.some((r, i) => i > 0 && regions[i - 1]!.start >= r.start)) regions.sort((a, b) => a.start - b.start);
  data.trim();
  return { alloc, regions, data, inodes, journalBlocks, ...(journalIblock ? { journalIblock } : {}) };
}

