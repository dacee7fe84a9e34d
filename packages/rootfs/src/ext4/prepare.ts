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
import { type LogicalRun, Nodes } from './nodes.js';

export type { LogicalRun } from './nodes.js';

export interface Prepared {
  nodes: Nodes; // slot 0 is the root (2), then lost+found (11), then 12...
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

/** Adds an inode's size-independent facts (xattr placement, data runs of files/symlinks) at the next slot. */
function addNode(nodes: Nodes, e: Entry): number {
  const slot = nodes.entry.length;
  nodes.entry.push(e);
  if (nodes.links[slot] === 0) nodes.links[slot] = 1; // hard-link targets already count their links
  if (e.xattrs && e.xattrs.size > 0) {
    let items: XattrItem[];
    try {
      items = xattrItems(e.xattrs);
    } catch (err) {
      if (!(err instanceof XattrNameError)) throw err;
      throw new Ext4Error('E_EXT4_UNSUPPORTED', `${e.path || '/'}: xattr ${err.attr}: ${err.reason}`, { path: e.path, xattr: err.attr });
    }
    const bytes = xattrBytes(items);
    if (bytes > BLOCK_XATTR_SPACE) {
      throw new Ext4Error('E_EXT4_UNSUPPORTED', `${e.path || '/'}: xattrs take ${bytes} bytes, more than one ${BLOCK_SIZE}-byte block`, { path: e.path });
    }
    nodes.xattrs.set(slot, items);
    nodes.xattrInBlock[slot] = bytes > INODE_XATTR_SPACE ? 1 : 0;
  }
  if (e.type === 'file') {
    if (e.data.kind === 'sparse') {
      const runs = fileRuns(e);
      nodes.runs.set(slot, runs);
      nodes.dataBlocks[slot] = runs.reduce((s, r) => s + r.count, 0);
    } else {
      nodes.dataBlocks[slot] = Math.ceil(e.size / BLOCK_SIZE); // one run from block 0 (runs left implicit)
    }
  } else if (e.type === 'symlink' && Buffer.byteLength(e.target, 'utf8') > FAST_SYMLINK_MAX) {
    nodes.dataBlocks[slot] = 1;
  }
  return slot;
}

/** Builds a complete directory's blocks (linear when one block holds it, else an htree). */
function buildDir(nodes: Nodes, slot: number, parentIno: number, records: DirRecord[], subdirs: number, seeds: Seeds): void {
  const e = nodes.entry[slot]!;
  const ino = Nodes.ino(slot);
  nodes.links[slot] = 2 + subdirs > EXT4_LINK_MAX ? 1 : 2 + subdirs; // dir_nlink: 1 means "many"
  if (!lfSorted(records)) records.sort((a, b) => Buffer.compare(a.name, b.name));
  const iseed = inodeCsumSeed(seeds.csumSeed, ino);
  const dots = dotEntries(ino, parentIno);
  let bytes = recLen(1) + recLen(2);
  for (const r of records) bytes += recLen(r.name.length);
  let blocks: Uint8Array[] | undefined;
  if (bytes <= LEAF_SPACE) {
    blocks = [leafBlock([...dots, ...records], iseed)];
  } else {
    blocks = htreeBlocks(ino, parentIno, records, seeds.hashSeed, iseed);
    if (!blocks) {
      throw new Ext4Error('E_EXT4_UNSUPPORTED', `${e.path || '/'}: ${records.length} entries are more than an ext4 directory without largedir holds; split it`, { path: e.path });
    }
  }
  nodes.dirData.set(slot, blocks);
  nodes.dataBlocks[slot] = blocks.length;
}

/** Records arrive in byte order (children lists are); checked, cheaply, rather than assumed. */
function lfSorted(records: DirRecord[]): boolean {
  for (let i = 1; i < records.length; i++) if (Buffer.compare(records[i - 1]!.name, records[i]!.name) > 0) return false;
  return true;
}

export interface Seeds { hashSeed: Uint32Array; csumSeed: number }

export function prepare(tree: FileTree, epoch: number, seeds: Seeds): Prepared {
  const entries = tree.entries();
  const nodes = new Nodes(entries.length + 2); // + lost+found, which may not be in the tree
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
  const targets = new Map<string, number>(); // hard-link target path -> its inode number
  for (const e of entries) if (e.type === 'hardlink') targets.set(e.target, 0);
  let next = EXT4_GOOD_OLD_FIRST_INO + 1;
  if (targets.size) {
    walk((e) => {
      if (e.path === LOST_FOUND || e.type === 'hardlink') return true;
      if (targets.has(e.path)) {
        targets.set(e.path, next);
        nodes.links[Nodes.slot(next)] = 1;
      }
      next++;
      return true;
    }, () => {});
    next = EXT4_GOOD_OLD_FIRST_INO + 1;
  }
  const rootSlot = addNode(nodes, root);
  const lfSlot = addNode(nodes, lostFound);

  interface Frame { slot: number; parentIno: number; records: DirRecord[]; subdirs: number }
  const frames = new Map<Entry, Frame>([[root, { slot: rootSlot, parentIno: EXT4_ROOT_INO, records: [], subdirs: 0 }]]);
  let dirCount = 0;
  walk((e, parentEntry) => {
    const parent = frames.get(parentEntry)!;
    let slot: number;
    if (e.type === 'hardlink') {
      checkEntry(e);
      const ino = targets.get(e.target);
      if (!ino) throw new Ext4Error('E_INTERNAL', `BUG: hard link ${e.path} to missing ${e.target}`);
      slot = Nodes.slot(ino);
      if (++nodes.links[slot]! > EXT4_LINK_MAX) {
        throw new Ext4Error('E_EXT4_UNSUPPORTED', `${e.target}: more than ${EXT4_LINK_MAX} hard links`, { path: e.target });
      }
    } else if (e.path === LOST_FOUND) {
      slot = lfSlot;
    } else {
      checkEntry(e);
      const planned = targets.get(e.path);
      if (planned !== undefined && planned !== next) throw new Ext4Error('E_INTERNAL', `BUG: ${e.path} numbered ${next}, expected ${planned}`);
      slot = addNode(nodes, e);
      if (Nodes.ino(slot) !== next) throw new Ext4Error('E_INTERNAL', `BUG: ${e.path} numbered ${Nodes.ino(slot)}, expected ${next}`);
      next++;
    }
    parent.records.push({ ino: Nodes.ino(slot), name: Buffer.from(baseName(e.path), 'utf8'), fileType: FILE_TYPES[e.type] });
    if (e.type === 'dir') {
      parent.subdirs++;
      frames.set(e, { slot, parentIno: Nodes.ino(parent.slot), records: [], subdirs: 0 });
    }
    return true;
  }, (dir) => {
    const f = frames.get(dir)!;
    frames.delete(dir);
    dirCount++;
    buildDir(nodes, f.slot, f.parentIno, f.records, f.subdirs, seeds);
  });
  return { nodes, lastIno: next - 1, dirCount };
}
