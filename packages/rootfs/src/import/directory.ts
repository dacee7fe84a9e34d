// Imports a host directory into a FileTree: an lstat walk that records metadata only; file bytes
// stay on disk as host-file sources until a writer emits them.
import { lstatSync, readdirSync, readlinkSync, type BigIntStats } from 'node:fs';
import { FileTree, normalizePath } from '../tree.js';
import { ImportError } from './errors.js';

export interface DirectoryImportOptions {
  /** Add into this tree (default: a new one). */
  tree?: FileTree;
  /** Place the directory's contents under this tree path (default: the root). */
  prefix?: string;
  /** Force every entry's owner (e.g. 0 when a non-root user builds a root-owned image). */
  uid?: number;
  gid?: number;
  /** Skip an entry (and, for a directory, everything below it). `rel` is relative to `dir`. */
  filter?: (rel: string, st: BigIntStats) => boolean;
}

const NS = 1_000_000_000n;

/** Linux dev_t decoding (glibc gnu_dev_major/gnu_dev_minor, <sys/sysmacros.h>). */
export function devMajor(rdev: bigint): number {
  return Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
}
export function devMinor(rdev: bigint): number {
  return Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
}

/** Splits a nanosecond timestamp into whole seconds (floored, so pre-1970 stays right) and ns. */
function splitNs(ns: bigint): { mtime: number; mtimeNsec: number } {
  let s = ns / NS;
  let r = ns % NS;
  if (r < 0n) { r += NS; s -= 1n; }
  return { mtime: Number(s), mtimeNsec: Number(r) };
}

function lstatOrThrow(path: string): BigIntStats {
  try {
    return lstatSync(path, { bigint: true });
  } catch (err) {
    throw new ImportError(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check that it exists and is readable`, { path });
  }
}

/**
 * Walks `dir` with lstat (symlinks are recorded, never followed) and returns a tree with its
 * modes, owners, mtimes (ns), symlinks, hard links (same dev+ino), devices, fifos and sockets.
 * Extended attributes are not read (node has no xattr API).
 */
export function treeFromDirectory(dir: string, opts: DirectoryImportOptions = {}): FileTree {
  const tree = opts.tree ?? new FileTree();
  const prefix = normalizePath(opts.prefix ?? '');
  const rootSt = lstatOrThrow(dir);
  if (!rootSt.isDirectory()) throw new ImportError(`${dir} is not a directory; pass a directory to import`, { path: dir });
  // One object per entry, no spreads: this runs 100k times for a big tree.
  const meta = (st: BigIntStats) => {
    const t = splitNs(st.mtimeNs);
    return { mode: Number(st.mode) & 0o7777, uid: opts.uid ?? Number(st.uid), gid: opts.gid ?? Number(st.gid), mtime: t.mtime, mtimeNsec: t.mtimeNsec };
  };
  const firstName = new Map<string, string>(); // "dev:ino" -> tree path of the first name seen
  const links: Array<{ path: string; key: string; st: BigIntStats }> = [];

  tree.dir(prefix, meta(rootSt));
  // Names from readdir are single components without "/" or NUL, and each directory is added
  // before its children, so entries go in through addImported: no path re-splitting, no copies.
  const walk = (abs: string, rel: string): void => {
    let names: string[];
    try {
      names = readdirSync(abs);
    } catch (err) {
      throw new ImportError(`cannot list ${abs} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check its permissions`, { path: abs });
    }
    names.sort(); // deterministic order (UTF-16); the tree sorts bytewise itself
    const absSlash = abs.endsWith('/') ? abs : `${abs}/`;
    const relSlash = rel ? `${rel}/` : '';
    const pathSlash = prefix ? `${prefix}/${relSlash}` : relSlash;
    for (const name of names) {
      const childAbs = absSlash + name;
      const childRel = relSlash + name;
      const st = lstatOrThrow(childAbs);
      if (opts.filter && !opts.filter(childRel, st)) continue;
      const path = pathSlash + name;
      if (st.isDirectory()) {
        tree.dir(path, meta(st));
        walk(childAbs, childRel);
        continue;
      }
      if (st.isFile() && st.nlink > 1n) {
        const key = `${st.dev}:${st.ino}`;
        if (firstName.has(key)) {
          links.push({ path, key, st }); // added after the walk, once its target is in the tree
          continue;
        }
        firstName.set(key, path);
      }
      const m = meta(st);
      const { mode, uid, gid, mtime, mtimeNsec } = m;
      if (st.isFile()) {
        tree.addImported({ path, type: 'file', mode, uid, gid, mtime, mtimeNsec, size: Number(st.size), data: { kind: 'file', path: childAbs } });
      } else if (st.isSymbolicLink()) {
        let target: string;
        try {
          target = readlinkSync(childAbs, 'utf8');
        } catch (err) {
          throw new ImportError(`cannot read symlink ${childAbs} (${(err as NodeJS.ErrnoException).code})`, { path: childAbs });
        }
        tree.addImported({ path, type: 'symlink', mode, uid, gid, mtime, mtimeNsec, target });
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        tree.addImported({ path, type: st.isCharacterDevice() ? 'char' : 'block', mode, uid, gid, mtime, mtimeNsec, major: devMajor(st.rdev), minor: devMinor(st.rdev) });
      } else if (st.isFIFO()) {
        tree.addImported({ path, type: 'fifo', mode, uid, gid, mtime, mtimeNsec });
      } else if (st.isSocket()) {
        tree.addImported({ path, type: 'socket', mode, uid, gid, mtime, mtimeNsec });
      }
    }
  };
  walk(dir, '');
  for (const l of links) tree.hardlink(l.path, firstName.get(l.key)!, meta(l.st));
  return tree;
}
