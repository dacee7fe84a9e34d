// Plans a newc archive from a file tree: every header field and every offset, from metadata only.
// No file is opened here; emit.ts reads data when its entry comes up.
import { statMode, type Entry, type FileEntry, type FileTree } from '../tree.js';
import {
  CPIO_FIELD_MAX, CPIO_TRAILER_NAME, CpioFormatError, PATH_MAX, headerBlockSize, pad4, type NewcHeader,
} from './newc.js';

export interface CpioOptions {
  /** Inode number of the first entry (default 1); hard-link groups share one number. */
  firstIno?: number;
  /** Append the TRAILER!!! entry (default true). Leave it off only to concatenate archives yourself. */
  trailer?: boolean;
}

/** What follows a record's header: nothing, the file's bytes, or a symlink's target. */
export type CpioBody =
  | { kind: 'none' }
  | { kind: 'file'; entry: FileEntry }
  | { kind: 'symlink'; target: Uint8Array };

export interface CpioRecord {
  /** Archive name, UTF-8, without the NUL ("." for the root, "usr/bin/java" otherwise). */
  name: Uint8Array;
  header: NewcHeader;
  /** Offset of the header in the archive; the body starts at offset + headerBlockSize(name.length). */
  offset: number;
  body: CpioBody;
  /** The tree entry (undefined for the trailer). */
  entry?: Entry;
}

export interface CpioLayout {
  records: CpioRecord[];
  /** Total archive length in bytes (a multiple of 4). */
  size: number;
  /** Bytes of file data (and symlink targets) included. */
  dataBytes: number;
}

const utf8 = new TextEncoder();

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
  const byPath = new Map<string, Entry>();
  const subdirs = new Map<string, number>();
  const groupSize = new Map<string, number>(); // file path -> number of names
  for (const e of entries) {
    byPath.set(e.path, e);
    if (e.type === 'dir' && e.path !== '') {
      const parent = e.path.slice(0, Math.max(e.path.lastIndexOf('/'), 0));
      subdirs.set(parent, (subdirs.get(parent) ?? 0) + 1);
    }
    if (e.type === 'hardlink') groupSize.set(e.target, (groupSize.get(e.target) ?? 1) + 1);
  }

  const records: CpioRecord[] = [];
  const groupIno = new Map<string, number>(); // file path -> inode already assigned (data already placed)
  let ino = opts.firstIno ?? 1;
  let offset = 0;
  let dataBytes = 0;

  for (const e of entries) {
    const name = utf8.encode(e.path === '' ? '.' : e.path);
    if (name.length + 1 > PATH_MAX) {
      throw new CpioFormatError(`${e.path}: path is ${name.length} bytes; the kernel's initramfs unpacker accepts at most ${PATH_MAX - 1}`, { name: e.path });
    }
    // A hard-link group is keyed by its regular file; its metadata wins for every name.
    let inode: Entry = e;
    let groupKey: string | undefined;
    if (e.type === 'hardlink') {
      const target = byPath.get(e.target);
      if (target?.type !== 'file') {
        throw new CpioFormatError(`${e.path}: hard link target ${e.target} is not a regular file in this archive`, { name: e.path });
      }
      inode = target;
      groupKey = e.target;
    } else if (e.type === 'file' && groupSize.has(e.path)) {
      groupKey = e.path;
    }

    let thisIno: number;
    let body: CpioBody = { kind: 'none' };
    let filesize = 0;
    if (groupKey !== undefined && groupIno.has(groupKey)) {
      thisIno = groupIno.get(groupKey)!; // a later name: size 0, the kernel links it
    } else {
      thisIno = ino++;
      if (groupKey !== undefined) groupIno.set(groupKey, thisIno);
      if (inode.type === 'file') {
        filesize = inode.size;
        body = { kind: 'file', entry: inode };
      } else if (inode.type === 'symlink') {
        const target = utf8.encode(inode.target);
        filesize = target.length;
        body = { kind: 'symlink', target };
      }
    }

    const path = e.path;
    const header: NewcHeader = {
      ino: checkField(path, 'inode number', thisIno, 'too many entries'),
      mode: statMode(inode), // for a hard link: the file's S_IFREG mode
      uid: checkField(path, 'uid', inode.uid, 'use a uid below 2^32'),
      gid: checkField(path, 'gid', inode.gid, 'use a gid below 2^32'),
      nlink: inode.type === 'dir' ? 2 + (subdirs.get(e.path) ?? 0) : groupKey !== undefined ? groupSize.get(groupKey)! : 1,
      mtime: clampMtime(inode.mtime),
      filesize: checkField(path, 'size', filesize, 'cpio newc holds files up to 4 GiB - 1; use an ext4 image for bigger files'),
      devmajor: 0, // a fixed device: reproducible, and (ino, dev) still identifies hard links
      devminor: 0,
      rdevmajor: inode.type === 'char' || inode.type === 'block' ? checkField(path, 'device major', inode.major, 'check the device number') : 0,
      rdevminor: inode.type === 'char' || inode.type === 'block' ? checkField(path, 'device minor', inode.minor, 'check the device number') : 0,
      namesize: name.length + 1,
      check: 0,
    };
    records.push({ name, header, offset, body, entry: e });
    offset += headerBlockSize(name.length) + pad4(filesize);
    dataBytes += filesize;
  }

  if (opts.trailer ?? true) {
    const name = utf8.encode(CPIO_TRAILER_NAME);
    const header: NewcHeader = {
      ino: 0, mode: 0, uid: 0, gid: 0, nlink: 1, mtime: 0, filesize: 0,
      devmajor: 0, devminor: 0, rdevmajor: 0, rdevminor: 0, namesize: name.length + 1, check: 0,
    };
    records.push({ name, header, offset, body: { kind: 'none' } });
    offset += headerBlockSize(name.length);
  }
  return { records, size: offset, dataBytes };
}
