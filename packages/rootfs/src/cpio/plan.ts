// Plans a newc archive from a file tree: every header field and every offset, from metadata only.
// No file is opened here; emit.ts reads data when its entry comes up.
import { statMode, type Entry, type FileEntry, type FileTree, type SymlinkEntry } from '../tree.js';
import {
  CPIO_FIELD_MAX, CPIO_TRAILER_NAME, CpioFormatError, PATH_MAX, headerBlockSize, pad4, type NewcHeader,
} from './newc.js';

export interface CpioOptions {
  /** Inode number of the first entry (default 1); hard-link groups share one number. */
  firstIno?: number;
  /** Append the TRAILER!!! entry (default true). Leave it off only to concatenate archives yourself. */
  trailer?: boolean;
}

export interface CpioRecord {
  /** Archive name ("." for the root, "usr/bin/java" otherwise); written as UTF-8, header.namesize - 1 bytes. */
  name: string;
  header: NewcHeader;
  /** Offset of the header in the archive; the data starts at offset + headerBlockSize(header.namesize - 1). */
  offset: number;
  /** Whose bytes follow the header (header.filesize of them): a regular file, or a symlink's target. */
  data?: FileEntry | SymlinkEntry;
  /** The tree entry (undefined for the trailer). */
  entry?: Entry;
}

/**
 * The planned archive. Stored as parallel arrays (about 40 bytes per entry, so 100k entries plan
 * in a few MB); `record(i)` gives any record's full header, computed from them.
 */
export class CpioLayout {
  /** Total archive length in bytes (a multiple of 4). */
  size = 0;
  /** Bytes of file data and symlink targets included. */
  dataBytes = 0;
  /** Records, the trailer included. */
  count = 0;
  /** @internal per-record columns */
  readonly entries: Entry[] = [];
  /** @internal the entry whose metadata (and data) the record carries: the file, for a hard link */
  readonly inodes: Entry[] = [];
  /** @internal */ ino: Uint32Array;
  /** @internal */ nlink: Uint32Array;
  /** @internal */ filesize: Uint32Array;
  /** @internal */ nameBytes: Uint16Array;
  /** @internal 1 when the record carries its file's or symlink's data (even 0 bytes, so a grown source is caught) */
  carries: Uint8Array;
  /** @internal */ offset: Float64Array;
  /** @internal */ trailerOffset = -1;

  constructor(capacity: number) {
    this.ino = new Uint32Array(capacity);
    this.nlink = new Uint32Array(capacity);
    this.filesize = new Uint32Array(capacity);
    this.nameBytes = new Uint16Array(capacity);
    this.carries = new Uint8Array(capacity);
    this.offset = new Float64Array(capacity);
  }

  /**
   * The full header of record i (0 <= i < count; the last one is the trailer when there is one),
   * written into `into` when given (the emitter reuses one object: no garbage per entry).
   */
  header(i: number, into: NewcHeader = trailerHeader()): NewcHeader {
    if (i >= this.entries.length) return Object.assign(into, trailerHeader());
    const inode = this.inodes[i]!;
    const dev = inode.type === 'char' || inode.type === 'block';
    into.ino = this.ino[i]!;
    into.mode = statMode(inode); // for a hard link: the file's S_IFREG mode
    into.uid = inode.uid;
    into.gid = inode.gid;
    into.nlink = this.nlink[i]!;
    into.mtime = clampMtime(inode.mtime);
    into.filesize = this.filesize[i]!;
    into.devmajor = 0; // a fixed device: reproducible, and (ino, dev) still identifies hard links
    into.devminor = 0;
    into.rdevmajor = dev ? inode.major : 0;
    into.rdevminor = dev ? inode.minor : 0;
    into.namesize = this.nameBytes[i]! + 1;
    into.check = 0; // "070701" carries no checksum
    return into;
  }

  /** Archive name of record i. */
  name(i: number): string {
    if (i >= this.entries.length) return CPIO_TRAILER_NAME;
    const p = this.entries[i]!.path;
    return p === '' ? '.' : p;
  }

  /** Offset of record i's header in the archive. */
  offsetOf(i: number): number {
    return i < this.entries.length ? this.offset[i]! : this.trailerOffset;
  }

  record(i: number): CpioRecord {
    const header = this.header(i);
    const rec: CpioRecord = { name: this.name(i), header, offset: this.offsetOf(i) };
    if (i < this.entries.length) {
      rec.entry = this.entries[i]!;
      const inode = this.inodes[i]!;
      if (this.carries[i] && (inode.type === 'file' || inode.type === 'symlink')) rec.data = inode;
    }
    return rec;
  }

  *records(): Generator<CpioRecord> {
    for (let i = 0; i < this.count; i++) yield this.record(i);
  }
}

function trailerHeader(): NewcHeader {
  return {
    ino: 0, mode: 0, uid: 0, gid: 0, nlink: 1, mtime: 0, filesize: 0,
    devmajor: 0, devminor: 0, rdevmajor: 0, rdevminor: 0, namesize: CPIO_TRAILER_NAME.length + 1, check: 0,
  };
}

/**
 * newc's c_mtime is an unsigned 32-bit count of seconds: times before 1970 are written as 0 and
 * times after 2106-02-07T06:28:15Z as 0xFFFFFFFF. (The builder clamps to SOURCE_DATE_EPOCH first.)
 */
export function clampMtime(mtime: number): number {
  return Math.min(Math.max(Math.floor(mtime), 0), CPIO_FIELD_MAX);
}

function checkField(path: string, field: string, value: number, hint: string): number {
  if (!Number.isInteger(value) || value < 0 || value > CPIO_FIELD_MAX) {
    throw new CpioFormatError(`${path || '/'}: ${field} ${value} does not fit a cpio newc header (32 bits); ${hint}`, { name: path, field, value });
  }
  return value;
}

/**
 * Lays out `tree` (or an explicit entry list, parents before children) as one newc archive:
 * entries in the given order, inodes numbered from `firstIno`, hard-link data on the first name
 * in archive order (init/initramfs.c links later names of the same inode, whose size is 0).
 * All names of a hard-link group carry the regular file's mode, owner and mtime.
 */
export function planCpio(tree: FileTree | readonly Entry[], opts: CpioOptions = {}): CpioLayout {
  const entries = Array.isArray(tree) ? (tree as readonly Entry[]) : (tree as FileTree).entries();
  const subdirs = new Map<string, number>();
  const groupSize = new Map<string, number>(); // file path -> number of names
  for (const e of entries) {
    if (e.type === 'dir' && e.path !== '') {
      const parent = e.path.slice(0, Math.max(e.path.lastIndexOf('/'), 0));
      subdirs.set(parent, (subdirs.get(parent) ?? 0) + 1);
    }
    if (e.type === 'hardlink') groupSize.set(e.target, (groupSize.get(e.target) ?? 1) + 1);
  }
  const targets = new Map<string, Entry>(); // only hard-link targets
  if (groupSize.size) for (const e of entries) if (groupSize.has(e.path)) targets.set(e.path, e);

  const trailer = opts.trailer ?? true;
  const layout = new CpioLayout(entries.length);
  const groupIno = new Map<string, number>(); // file path -> inode already assigned (data already placed)
  let ino = opts.firstIno ?? 1;
  let offset = 0;
  let dataBytes = 0;

  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const path = e.path;
    const nameBytes = path === '' ? 1 : Buffer.byteLength(path, 'utf8');
    if (nameBytes + 1 > PATH_MAX) {
      throw new CpioFormatError(`${path}: path is ${nameBytes} bytes; the kernel's initramfs unpacker accepts at most ${PATH_MAX - 1}`, { name: path });
    }
    // A hard-link group is keyed by its regular file; its metadata wins for every name.
    let inode: Entry = e;
    let groupKey: string | undefined;
    if (e.type === 'hardlink') {
      const target = targets.get(e.target);
      if (target?.type !== 'file') {
        throw new CpioFormatError(`${path}: hard link target ${e.target} is not a regular file in this archive`, { name: path });
      }
      inode = target;
      groupKey = e.target;
    } else if (e.type === 'file' && groupSize.has(path)) {
      groupKey = path;
    }

    let thisIno: number;
    let filesize = 0;
    let carries = 0;
    if (groupKey !== undefined && groupIno.has(groupKey)) {
      thisIno = groupIno.get(groupKey)!; // a later name: size 0, the kernel links it
    } else {
      thisIno = ino++;
      if (groupKey !== undefined) groupIno.set(groupKey, thisIno);
      if (inode.type === 'file') filesize = inode.size;
      else if (inode.type === 'symlink') filesize = Buffer.byteLength(inode.target, 'utf8');
      carries = inode.type === 'file' || inode.type === 'symlink' ? 1 : 0;
    }
    checkField(path, 'inode number', thisIno, 'too many entries');
    checkField(path, 'uid', inode.uid, 'use a uid below 2^32');
    checkField(path, 'gid', inode.gid, 'use a gid below 2^32');
    checkField(path, 'size', filesize, 'cpio newc holds files up to 4 GiB - 1; use an ext4 image for bigger files');
    if (inode.type === 'char' || inode.type === 'block') {
      checkField(path, 'device major', inode.major, 'check the device number');
      checkField(path, 'device minor', inode.minor, 'check the device number');
    }

    layout.entries.push(e);
    layout.inodes.push(inode);
    layout.ino[i] = thisIno;
    layout.nlink[i] = inode.type === 'dir' ? 2 + (subdirs.get(path) ?? 0) : groupKey !== undefined ? groupSize.get(groupKey)! : 1;
    layout.filesize[i] = filesize;
    layout.nameBytes[i] = nameBytes;
    layout.carries[i] = carries;
    layout.offset[i] = offset;
    offset += headerBlockSize(nameBytes) + pad4(filesize);
    dataBytes += filesize;
  }

  layout.count = entries.length;
  if (trailer) {
    layout.trailerOffset = offset;
    layout.count++;
    offset += headerBlockSize(CPIO_TRAILER_NAME.length);
  }
  layout.size = offset;
  layout.dataBytes = dataBytes;
  return layout;
}
