// The planned fields of every inode, stored column-wise in typed arrays (index = inode number):
// 10^5 inodes cost a few MB here instead of 10^5 objects for the garbage collector to trace.
import type { InodeFields } from './inode.js';

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
  /** i_block, 60 bytes at ino * 60. */
  readonly iblocks: Uint8Array;
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
    this.iblocks = new Uint8Array(count * 60);
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
    this.iblocks.set(iblock, ino * 60);
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

  iblock(ino: number): Uint8Array {
    return this.iblocks.subarray(ino * 60, ino * 60 + 60);
  }
}
