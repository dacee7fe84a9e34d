// Step 1 of planning, independent of the filesystem size: validate the tree, number the inodes,
// build every directory's records, and count the blocks each inode needs.
import {
  baseName, parentOf, type Entry, type FileEntry, type FileTree,
} from '../tree.js';
import {
  BLOCK_SIZE, EXT4_FT_BLKDEV, EXT4_FT_CHRDEV, EXT4_FT_DIR, EXT4_FT_FIFO, EXT4_FT_REG_FILE, EXT4_FT_SOCK,
  EXT4_FT_SYMLINK, EXT4_GOOD_OLD_FIRST_INO, EXT4_LINK_MAX, EXT4_NAME_LEN, EXT4_ROOT_INO,
} from './constants.js';
import { type DirRecord, LEAF_SPACE, dotEntries, leafBlock, recLen } from './dirent.js';
import { Ext4Error } from './errors.js';
import { htreeBlocks } from './htree.js';
import { MAX_TIME, MIN_TIME, inodeCsumSeed } from './inode.js';
import { INODE_XATTR_SPACE, XattrNameError, type XattrItem, xattrBytes, xattrItems, BLOCK_XATTR_SPACE } from './xattr.js';

/** A logical block range of a file that holds data (holes are everything else). */
export interface LogicalRun { logical: number; count: number }

/** One inode to write, before any physical block is known. */
export interface Node {
  ino: number;
  /** The entry whose metadata the inode carries (for hard links: the link target). */
  entry: Entry;
  links: number;
  /** Directories: records without "." and "..", in path order. */
  records?: DirRecord[] | undefined;
  parentIno?: number;
  /** Directories: the encoded blocks in logical order (1 = linear, more = htree), checksums sealed. */
  dirData?: Uint8Array[] | undefined;
  /** Regular files and slow symlinks: the logical runs that hold data. */
  runs: LogicalRun[];
  dataBlocks: number;
  xattrs?: XattrItem[];
  xattrInBlock: boolean;
}

export interface Prepared {
  nodes: Node[]; // sorted by ino, first is the root (2), then lost+found (11), then 12...
  lastIno: number;
  dirCount: number;
}

const FILE_TYPES: Record<Entry['type'], number> = {
  file: EXT4_FT_REG_FILE, hardlink: EXT4_FT_REG_FILE, dir: EXT4_FT_DIR, symlink: EXT4_FT_SYMLINK,
  char: EXT4_FT_CHRDEV, block: EXT4_FT_BLKDEV, fifo: EXT4_FT_FIFO, socket: EXT4_FT_SOCK,
};
/** A symlink shorter than i_block (60 bytes) is stored in the inode ("fast symlink"). */
export const FAST_SYMLINK_MAX = 59;
const LOST_FOUND = 'lost+found';

function fileRuns(entry: FileEntry): LogicalRun[] {
  const blocks = Math.ceil(entry.size / BLOCK_SIZE);
  if (blocks === 0) return [];
  if (entry.data.kind !== 'sparse') return [{ logical: 0, count: blocks }];
  // Only blocks touched by a segment are allocated; the rest stay holes.
  const runs: LogicalRun[] = [];
  for (const seg of entry.data.segments) {
    if (seg.bytes.length === 0) continue;
    const first = Math.floor(seg.offset / BLOCK_SIZE);
    const end = Math.ceil((seg.offset + seg.bytes.length) / BLOCK_SIZE);
    if (seg.offset + seg.bytes.length > entry.size) {
      throw new Ext4Error('E_EXT4_SOURCE', `${entry.path}: sparse segment at ${seg.offset} runs past the declared size ${entry.size}`, { path: entry.path });
    }
    const last = runs[runs.length - 1];
    if (last && last.logical + last.count >= first) last.count = Math.max(last.count, end - last.logical);
    else runs.push({ logical: first, count: end - first });
  }
  return runs;
}

function checkEntry(e: Entry): void {
  const name = Buffer.byteLength(baseName(e.path), 'utf8');
  if (name > EXT4_NAME_LEN) {
    throw new Ext4Error('E_NAME_TOO_LONG', `${e.path}: name is ${name} bytes, ext4 allows ${EXT4_NAME_LEN}; rename it`, { path: e.path, bytes: name });
  }
  if (!(Number.isInteger(e.mtime) && e.mtime >= MIN_TIME && e.mtime <= MAX_TIME) || !(Number.isInteger(e.mtimeNsec) && e.mtimeNsec >= 0 && e.mtimeNsec < 1e9)) {
    throw new Ext4Error('E_EXT4_UNSUPPORTED', `${e.path}: time ${e.mtime}.${e.mtimeNsec} is outside what ext4 stores (years 1901..2310); clamp it`, { path: e.path, mtime: e.mtime });
  }
  for (const [what, id] of [['uid', e.uid], ['gid', e.gid]] as const) {
    if (!(Number.isInteger(id) && id >= 0 && id <= 0xffffffff)) {
      throw new Ext4Error('E_EXT4_UNSUPPORTED', `${e.path}: ${what} ${id} is not a 32-bit id`, { path: e.path });
    }
  }
  if ((e.type === 'char' || e.type === 'block') && !(e.major >= 0 && e.major < 4096 && e.minor >= 0 && e.minor < 1 << 20)) {
    throw new Ext4Error('E_EXT4_UNSUPPORTED', `${e.path}: device ${e.major}:${e.minor} does not fit Linux's 12:20-bit numbers`, { path: e.path });
  }
  if (e.type === 'symlink') {
    const len = Buffer.byteLength(e.target, 'utf8');
    if (len === 0 || len >= BLOCK_SIZE) {
      throw new Ext4Error('E_EXT4_UNSUPPORTED', `${e.path}: symlink target of ${len} bytes; ext4 takes 1..${BLOCK_SIZE - 1}`, { path: e.path });
    }
  }
}

export interface Seeds { hashSeed: Uint32Array; csumSeed: number }

export function prepare(tree: FileTree, epoch: number, seeds: Seeds): Prepared {
  const entries = tree.entries();
  const byPath = new Map<string, Node>();
  const nodes: Node[] = [];
  const root = entries[0]!;
  if (root.path !== '' || root.type !== 'dir') throw new Ext4Error('E_INTERNAL', 'BUG: tree has no root directory');
  const lf = tree.get(LOST_FOUND);
  if (lf && lf.type !== 'dir') {
    throw new Ext4Error('E_EXT4_UNSUPPORTED', `${LOST_FOUND}: is a ${lf.type}; e2fsck needs it to be a directory, rename it`, { path: LOST_FOUND });
  }
  const lostFound: Entry = lf ?? { path: LOST_FOUND, type: 'dir', mode: 0o700, uid: 0, gid: 0, mtime: epoch, mtimeNsec: 0 };
  const mk = (entry: Entry, ino: number): Node => {
    const n: Node = { ino, entry, links: 1, runs: [], dataBlocks: 0, xattrInBlock: false };
    nodes.push(n);
    byPath.set(entry.path, n);
    return n;
  };
  mk(root, EXT4_ROOT_INO);
  mk(lostFound, EXT4_GOOD_OLD_FIRST_INO);
  let next = EXT4_GOOD_OLD_FIRST_INO + 1;
  checkEntry(root);
  checkEntry(lostFound);
  for (const e of entries) {
    if (e.path === '' || e.path === LOST_FOUND) continue;
    checkEntry(e);
    if (e.type !== 'hardlink') mk(e, next++);
  }
  // Directory records; hard links point at their target's inode.
  const children = new Map<Node, DirRecord[]>();
  const subdirs = new Map<Node, number>();
  const addChild = (e: Entry, n: Node): void => {
    const parent = byPath.get(parentOf(e.path));
    if (!parent || parent.entry.type !== 'dir') throw new Ext4Error('E_INTERNAL', `BUG: ${e.path} has no parent directory`);
    let list = children.get(parent);
    if (!list) children.set(parent, (list = []));
    list.push({ ino: n.ino, name: Buffer.from(baseName(e.path), 'utf8'), fileType: FILE_TYPES[e.type] });
    if (e.type === 'dir') subdirs.set(parent, (subdirs.get(parent) ?? 0) + 1);
  };
  if (!lf) addChild(lostFound, byPath.get(LOST_FOUND)!);
  for (const e of entries) {
    if (e.path === '') continue;
    if (e.type === 'hardlink') {
      const target = byPath.get(e.target);
      if (!target) throw new Ext4Error('E_INTERNAL', `BUG: hard link ${e.path} to missing ${e.target}`);
      target.links++;
      if (target.links > EXT4_LINK_MAX) {
        throw new Ext4Error('E_EXT4_UNSUPPORTED', `${e.target}: more than ${EXT4_LINK_MAX} hard links`, { path: e.target });
      }
      addChild(e, target);
    } else {
      addChild(e, byPath.get(e.path)!);
    }
  }
  // lost+found sorts among the root's children by name; keep the records in byte order.
  if (!lf) children.get(byPath.get('')!)!.sort((a, b) => Buffer.compare(a.name, b.name));

  let dirCount = 0;
  for (const n of nodes) {
    const e = n.entry;
    if (e.xattrs && e.xattrs.size > 0) {
      try {
        n.xattrs = xattrItems(e.xattrs);
      } catch (err) {
        if (!(err instanceof XattrNameError)) throw err;
        throw new Ext4Error('E_EXT4_UNSUPPORTED', `${e.path || '/'}: xattr ${err.attr}: ${err.reason}`, { path: e.path, xattr: err.attr });
      }
      const bytes = xattrBytes(n.xattrs);
      if (bytes > BLOCK_XATTR_SPACE) {
        throw new Ext4Error('E_EXT4_UNSUPPORTED', `${e.path || '/'}: xattrs take ${bytes} bytes, more than one ${BLOCK_SIZE}-byte block`, { path: e.path });
      }
      n.xattrInBlock = bytes > INODE_XATTR_SPACE;
    }
    if (e.type === 'dir') {
      dirCount++;
      const records = children.get(n) ?? [];
      n.records = records;
      n.parentIno = e.path === '' ? EXT4_ROOT_INO : byPath.get(parentOf(e.path))!.ino;
      const sub = subdirs.get(n) ?? 0;
      n.links = 2 + sub > EXT4_LINK_MAX ? 1 : 2 + sub; // dir_nlink: 1 means "many"
      const all = [...dotEntries(n.ino, n.parentIno), ...records];
      const iseed = inodeCsumSeed(seeds.csumSeed, n.ino);
      if (all.reduce((s, r) => s + recLen(r.name.length), 0) <= LEAF_SPACE) {
        n.dirData = [leafBlock(all, iseed)];
      } else {
        n.dirData = htreeBlocks(n.ino, n.parentIno, records, seeds.hashSeed, iseed);
        if (!n.dirData) {
          throw new Ext4Error('E_EXT4_UNSUPPORTED', `${e.path || '/'}: ${records.length} entries are more than an ext4 directory without largedir holds; split it`, { path: e.path });
        }
      }
      n.runs = [{ logical: 0, count: n.dirData.length }];
      n.dataBlocks = n.dirData.length;
      n.records = undefined; // the blocks are built; drop the records
    } else if (e.type === 'file') {
      n.runs = fileRuns(e);
      n.dataBlocks = n.runs.reduce((s, r) => s + r.count, 0);
    } else if (e.type === 'symlink' && Buffer.byteLength(e.target, 'utf8') > FAST_SYMLINK_MAX) {
      n.runs = [{ logical: 0, count: 1 }];
      n.dataBlocks = 1;
    }
  }
  return { nodes, lastIno: next - 1, dirCount };
}
