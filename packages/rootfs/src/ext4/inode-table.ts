// The planned fields of every inode, stored column-wise in typed arrays (index = inode number):
// 10^5 inodes cost a few MB here instead of 10^5 objects for the garbage collector to trace.
import type { InodeFields } from './inode.js';

/** ext4_extent_header + one ext4_extent (12 bytes each): all of most inodes' i_block. */
const IBLOCK_HEAD = 24;

export class InodeColumns {
  readonly used: Uint8Array;
  readonly mode: Uint16Array;
  readonly links: Uint16Array;
  readonly uid: Uint32Array;
  readonly gid: Uint32Array;
  readonly nsec: Uint32Array;
  readonly flags: Uint32Array;
  readonly size: Float64Array;
  readonly mtime: Float64Array;
  readonly sectors: Float64Array;
  readonly fileAcl: Float64Array;
  /**
   * i_block's first 24 bytes (extent header and first extent, or a device number) at ino * 24;
   * the few i_blocks with more (fast symlinks, several extents, index nodes) whole in `iblockRest`.
   */
  readonly iblocks: Uint8Array;
  readonly iblockRest = new Map<number, Uint8Array>();
  private readonly iblockScratch = new Uint8Array(60);
  /** In-inode xattr areas, for the few inodes that have one. */
  readonly xattrs = new Map<number, Uint8Array>();
  private readonly scratch: InodeFields = { mode: 0, uid: 0, gid: 0, size: 0, links: 0, mtime: 0, mtimeNsec: 0, sectors: 0, flags: 0, fileAcl: 0 };

  constructor(readonly count: number) {
    this.used = new Uint8Array(count);
    this.mode = new Uint16Array(count);
    this.links = new Uint16Array(count);
    this.uid = new Uint32Array(count);
    this.gid = new Uint32Array(count);
    this.nsec = new Uint32Array(count);
    this.flags = new Uint32Array(count);
    this.size = new Float64Array(count);
    this.mtime = new Float64Array(count);
    this.sectors = new Float64Array(count);
    this.fileAcl = new Float64Array(count);
    this.iblocks = new Uint8Array(count * IBLOCK_HEAD);
  }

  set(ino: number, f: InodeFields, iblock: Uint8Array): void {
    this.used[ino] = 1;
    this.mode[ino] = f.mode;
    this.links[ino] = f.links;
    this.uid[ino] = f.uid;
    this.gid[ino] = f.gid;
    this.nsec[ino] = f.mtimeNsec;
    this.flags[ino] = f.flags;
    this.size[ino] = f.size;
    this.mtime[ino] = f.mtime;
    this.sectors[ino] = f.sectors;
    this.fileAcl[ino] = f.fileAcl;
    let tail = false;
    for (let i = IBLOCK_HEAD; i < 60 && !tail; i++) tail = iblock[i] !== 0;
    if (tail) this.iblockRest.set(ino, iblock.slice(0, 60));
    else this.iblocks.set(iblock.subarray(0, IBLOCK_HEAD), ino * IBLOCK_HEAD);
    if (f.inlineXattrs) this.xattrs.set(ino, f.inlineXattrs);
  }

  /** The fields of `ino` in a reused object (valid until the next call), or undefined if unused. */
  get(ino: number): InodeFields | undefined {
    if (ino >= this.count || !this.used[ino]) return undefined;
    const f = this.scratch;
    f.mode = this.mode[ino]!; f.links = this.links[ino]!; f.uid = this.uid[ino]!; f.gid = this.gid[ino]!;
    f.mtimeNsec = this.nsec[ino]!; f.flags = this.flags[ino]!; f.size = this.size[ino]!; f.mtime = this.mtime[ino]!;
    f.sectors = this.sectors[ino]!; f.fileAcl = this.fileAcl[ino]!; f.inlineXattrs = this.xattrs.get(ino);
    return f;
  }

  /** i_block of `ino` (60 bytes; a reused buffer for most inodes, valid until the next call). */
  iblock(ino: number): Uint8Array {
    const rest = this.iblockRest.get(ino);
    if (rest) return rest;
    const b = this.iblockScratch;
    b.set(this.iblocks.subarray(ino * IBLOCK_HEAD, (ino + 1) * IBLOCK_HEAD));
    return b; // bytes 24..59 stay zero: only whole i_blocks go to iblockRest
  }
}
