// Step 1 of planning, independent of the filesystem size: validate the tree, number the inodes,
// build every directory's records, and count the blocks each inode needs.
import {
  baseName, comparePaths, parentOf, type Entry, type FileEntry, type FileTree,
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
  /** Directories: the encoded blocks in logical order (1 = linear, more = htree), checksums sealed. */
  dirData: Uint8Array[] | undefined;
  /** Sparse files: the logical runs that hold data. Undefined: one run [0, dataBlocks) (see nodeRuns). */
  runs: LogicalRun[] | undefined;
  dataBlocks: number;
  xattrs: XattrItem[] | undefined;
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

/** A node with its size-independent facts: xattr placement and the data runs of files/symlinks. */
function newNode(entry: Entry, ino: number): Node {
  const n: Node = { ino, entry, links: 1, runs: undefined, dataBlocks: 0, xattrInBlock: false, xattrs: undefined, dirData: undefined };
  const e = entry;
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
  if (e.type === 'file') {
    if (e.data.kind === 'sparse') {
      n.runs = fileRuns(e);
      n.dataBlocks = n.runs.reduce((s, r) => s + r.count, 0);
    } else {
      n.dataBlocks = Math.ceil(e.size / BLOCK_SIZE); // one run from block 0 (runs left undefined)
    }
  } else if (e.type === 'symlink' && Buffer.byteLength(e.target, 'utf8') > FAST_SYMLINK_MAX) {
    n.dataBlocks = 1;
  }
  return n;
}

/** The logical runs holding data: `runs`, or one run from block 0 when that is left implicit. */
export function nodeRuns(n: Node): LogicalRun[] {
  return n.runs ?? (n.dataBlocks > 0 ? [{ logical: 0, count: n.dataBlocks }] : []);
}

/** Builds a complete directory's blocks (linear when one block holds it, else an htree). */
function buildDir(n: Node, parentIno: number, records: DirRecord[], subdirs: number, seeds: Seeds): void {
  const e = n.entry;
  n.links = 2 + subdirs > EXT4_LINK_MAX ? 1 : 2 + subdirs; // dir_nlink: 1 means "many"
  if (!lfSorted(records)) records.sort((a, b) => Buffer.compare(a.name, b.name));
  const iseed = inodeCsumSeed(seeds.csumSeed, n.ino);
  const dots = dotEntries(n.ino, parentIno);
  let bytes = recLen(1) + recLen(2);
  for (const r of records) bytes += recLen(r.name.length);
  if (bytes <= LEAF_SPACE) {
    n.dirData = [leafBlock([...dots, ...records], iseed)];
  } else {
    n.dirData = htreeBlocks(n.ino, parentIno, records, seeds.hashSeed, iseed);
    if (!n.dirData) {
      throw new Ext4Error('E_EXT4_UNSUPPORTED', `${e.path || '/'}: ${records.length} entries are more than an ext4 directory without largedir holds; split it`, { path: e.path });
    }
  }
  n.dataBlocks = n.dirData.length;
}

/** Records arrive in byte order (children lists are); checked, cheaply, rather than assumed. */
function lfSorted(records: DirRecord[]): boolean {
  for (let i = 1; i < records.length; i++) if (Buffer.compare(records[i - 1]!.name, records[i]!.name) > 0) return false;
  return true;
}

export interface Seeds { hashSeed: Uint32Array; csumSeed: number }

export function prepare(tree: FileTree, epoch: number, seeds: Seeds): Prepared {
  const entries = tree.entries();
  const nodes: Node[] = [];
  const root = entries[0]!;
  if (root.path !== '' || root.type !== 'dir') throw new Ext4Error('E_INTERNAL', 'BUG: tree has no root directory');
  const lf = tree.get(LOST_FOUND);
  if (lf && lf.type !== 'dir') {
    throw new Ext4Error('E_EXT4_UNSUPPORTED', `${LOST_FOUND}: is a ${lf.type}; e2fsck needs it to be a directory, rename it`, { path: LOST_FOUND });
  }
  const lostFound: Entry = lf ?? { path: LOST_FOUND, type: 'dir', mode: 0o700, uid: 0, gid: 0, mtime: epoch, mtimeNsec: 0 };
  checkEntry(root);
  checkEntry(lostFound);

  // Walk the tree depth-first, children in byte order: a directory's subtree is then contiguous,
  // so each directory is complete (its blocks built, its name records dropped) when the walk
  // leaves it. (Plain path order does not give that: "a.b" sorts between "a" and "a/x".)
  const kids = new Map<string, Entry[]>();
  for (const e of entries) {
    if (e.path === '') continue;
    const p = parentOf(e.path);
    let list = kids.get(p);
    if (!list) kids.set(p, (list = []));
    list.push(e);
  }
  if (!lf) {
    const top = kids.get('') ?? [];
    const at = top.findIndex((e) => comparePaths(e.path, LOST_FOUND) > 0);
    top.splice(at < 0 ? top.length : at, 0, lostFound);
    kids.set('', top);
  }
  const walk = (enter: (e: Entry, parent: Entry) => boolean, leave: (dir: Entry) => void): void => {
    const stack: { dir: Entry; list: Entry[]; i: number }[] = [{ dir: root, list: kids.get('') ?? [], i: 0 }];
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      if (top.i < top.list.length) {
        const e = top.list[top.i++]!;
        if (enter(e, top.dir) && e.type === 'dir') stack.push({ dir: e, list: kids.get(e.path) ?? [], i: 0 });
      } else {
        stack.pop();
        leave(top.dir);
      }
    }
  };

  // Inode numbers in walk order: root 2, lost+found 11, then 12... for every entry that is not a
  // hard link. Hard-link targets may come after their links, so number those in a first walk.
  const targets = new Map<string, Node>();
  for (const e of entries) if (e.type === 'hardlink') targets.set(e.target, undefined as unknown as Node);
  let next = EXT4_GOOD_OLD_FIRST_INO + 1;
  if (targets.size) {
    walk((e) => {
      if (e.path === LOST_FOUND || e.type === 'hardlink') return true;
      if (targets.has(e.path)) targets.set(e.path, newNode(e, next));
      next++;
      return true;
    }, () => {});
    next = EXT4_GOOD_OLD_FIRST_INO + 1;
  }
  const rootNode = newNode(root, EXT4_ROOT_INO);
  const lfNode = newNode(lostFound, EXT4_GOOD_OLD_FIRST_INO);
  nodes.push(rootNode, lfNode);

  interface Frame { node: Node; parentIno: number; records: DirRecord[]; subdirs: number }
  const frames = new Map<Entry, Frame>([[root, { node: rootNode, parentIno: EXT4_ROOT_INO, records: [], subdirs: 0 }]]);
  let dirCount = 0;
  walk((e, parentEntry) => {
    const parent = frames.get(parentEntry)!;
    let n: Node;
    if (e.type === 'hardlink') {
      checkEntry(e);
      n = targets.get(e.target)!;
      if (!n) throw new Ext4Error('E_INTERNAL', `BUG: hard link ${e.path} to missing ${e.target}`);
      if (++n.links > EXT4_LINK_MAX) {
        throw new Ext4Error('E_EXT4_UNSUPPORTED', `${e.target}: more than ${EXT4_LINK_MAX} hard links`, { path: e.target });
      }
    } else if (e.path === LOST_FOUND) {
      n = lfNode;
    } else {
      checkEntry(e);
      n = targets.get(e.path) ?? newNode(e, next);
      if (n.ino !== next) throw new Ext4Error('E_INTERNAL', `BUG: ${e.path} numbered ${n.ino}, expected ${next}`);
      next++;
      nodes.push(n);
    }
    parent.records.push({ ino: n.ino, name: Buffer.from(baseName(e.path), 'utf8'), fileType: FILE_TYPES[e.type] });
    if (e.type === 'dir') {
      parent.subdirs++;
      frames.set(e, { node: n, parentIno: parent.node.ino, records: [], subdirs: 0 });
    }
    return true;
  }, (dir) => {
    const f = frames.get(dir)!;
    frames.delete(dir);
    dirCount++;
    buildDir(f.node, f.parentIno, f.records, f.subdirs, seeds);
  });
  return { nodes, lastIno: next - 1, dirCount };
}
