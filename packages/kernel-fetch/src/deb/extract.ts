// extractDeb: unpack a .deb's data.tar like `dpkg-deb -x`, but all-or-nothing.
// (1) entries stream into a fresh temp directory inside destDir, checked for unsafe paths as they come;
// (2) a merge plan compares that tree with destDir (refusing dir/non-dir clashes, never following links);
// (3) renames move it in; (4) directory modes and mtimes are applied deepest first; (5) temp removed.
// Any failure in (1)-(2) removes the temp directory (and destDir when we created it): nothing is left.
import { link, lstat, lutimes, lchown, mkdir, mkdtemp, rename, rm, stat, symlink, chmod, chown, utimes } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DebExtractError, DebUnsafePathError } from './errors.js';
import { readDebEntries } from './deb.js';
import { parentOf } from './paths.js';
import { WriteQueue } from './write-queue.js';
import type { DebEntry, DebEntryType } from './tar.js';

export interface ExtractOptions {
  /** Keep only entries for which this returns true (parents are created as needed). */
  filter?: (path: string, entry: DebEntry) => boolean;
  /** Restore uid/gid from the package. Default: when running as root, as tar does. */
  preserveOwner?: boolean;
  /** Told about entries that are not created (device nodes, fifos). */
  onSkip?: (skipped: SkippedEntry) => void;
  /**
   * The caller has checked the .deb's SHA256 against a signed index (as Archive does before it
   * unpacks), so the xz Check of each block is redundant and skipped. Default false: every check.
   */
  verified?: boolean;
}

export interface SkippedEntry {
  path: string;
  type: DebEntryType;
  reason: string;
}

export interface ExtractResult {
  /** Entries written (files, dirs, symlinks, hard links). */
  entries: number;
  /** Bytes of regular-file data written. */
  bytes: number;
  skipped: SkippedEntry[];
}

/** Mode of parent directories the archive does not list (tar's default under umask 022). */
const IMPLICIT_DIR_MODE = 0o755;

interface DirMeta {
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
}

/** Unpacks the data.tar of `debPath` into `destDir` (created when missing). */
export async function extractDeb(debPath: string, destDir: string, opts: ExtractOptions = {}): Promise<ExtractResult> {
  const dest = resolve(destDir);
  const owner = opts.preserveOwner ?? process.getuid?.() === 0;
  const createdTop = await mkdir(dest, { recursive: true });
  const tmp = await mkdtemp(join(dest, '.mkimage-extract-'));
  const kinds = new Map<string, DebEntryType>([['', 'dir']]);
  const dirs = new Map<string, DirMeta>();
  const result: ExtractResult = { entries: 0, bytes: 0, skipped: [] };
  const fail = (e: DebEntry | string, reason: string): DebExtractError =>
    new DebExtractError({ deb: debPath, member: 'data.tar', entry: typeof e === 'string' ? e : e.path, reason, dest });

  // Directories are made by the queue without waiting; whatever goes inside one waits for its promise.
  const dirReady = new Map<string, Promise<void>>([['', Promise.resolve()]]);
  const ensureDir = (path: string, entry: DebEntry): Promise<void> => {
    const kind = kinds.get(path);
    if (kind === 'dir') return dirReady.get(path)!;
    if (kind !== undefined) {
      throw new DebUnsafePathError({ deb: debPath, member: 'data.tar', entry: entry.path, reason: `parent ${path} is a ${kind}, not a directory (would write through it)` });
    }
    const made = queue.dir(join(tmp, path), IMPLICIT_DIR_MODE, ensureDir(parentOf(path), entry));
    dirReady.set(path, made);
    kinds.set(path, 'dir');
    return made;
  };

  // mkdtemp inside a setgid destination inherits the bit, and so does every directory made under it.
  // (When in doubt, assume it: that only costs a chown per file.)
  const tmpMode = (await stat(tmp).catch(() => undefined))?.mode ?? 0o2000;
  const queue = new WriteQueue({ groupFromDirectory: (tmpMode & 0o2000) !== 0 });
  let merged = false;
  try {
    for await (const e of readDebEntries(debPath, { verified: opts.verified === true })) {
      if (e.path === '') continue; // the package root: destDir keeps its own mode (dpkg-deb -x would change it)
      if (opts.filter && !opts.filter(e.path, e)) continue;
      if (e.type === 'char' || e.type === 'block' || e.type === 'fifo') {
        const s = { path: e.path, type: e.type, reason: `${e.type} special files are not created (Debian packages ship none; create them in the image instead)` };
        result.skipped.push(s);
        opts.onSkip?.(s);
        continue;
      }
      const parentReady = ensureDir(parentOf(e.path), e);
      const at = join(tmp, e.path);
      const old = kinds.get(e.path);
      if (old !== undefined) {
        // A later entry for the same path replaces the earlier one, as tar does; dir over dir merges.
        if (old === 'dir' && e.type !== 'dir') throw fail(e, 'a non-directory entry replaces a directory of the same package');
        if (old !== 'dir') {
          await queue.flush();
          await rm(at, { force: true });
        }
      }
      switch (e.type) {
        case 'dir':
          if (old !== 'dir') dirReady.set(e.path, queue.dir(at, IMPLICIT_DIR_MODE, parentReady));
          dirs.set(e.path, { mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime });
          break;
        case 'file': {
          const n = await queue.file(at, e.body, { mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime, owner }, parentReady);
          if (n !== e.size) throw fail(e, `got ${n} bytes, the tar header says ${e.size}`);
          result.bytes += n;
          break;
        }
        case 'symlink':
          await parentReady;
          await symlink(e.linkname ?? '', at);
          if (owner) await lchown(at, e.uid, e.gid);
          await lutimes(at, e.mtime, e.mtime);
          break;
        case 'hardlink': {
          const target = e.hardlinkTarget!;
          const tk = kinds.get(target);
          if (tk !== 'file' && tk !== 'hardlink') {
            throw fail(e, `hard link to ${target}, which ${tk === undefined ? 'was not extracted before it (missing, or excluded by the filter)' : `is a ${tk}`}`);
          }
          await parentReady;
          await queue.exists(join(tmp, target));
          await link(join(tmp, target), at);
          break;
        }
      }
      kinds.set(e.path, e.type);
      result.entries++;
    }
    await queue.flush();
    const moves = await planMerge(dest, kinds, (p, reason) => fail(p, reason));
    merged = true;
    for (const p of moves) await rename(join(tmp, p), join(dest, p));
  } catch (err) {
    await queue.abandon();
    await rm(tmp, { recursive: true, force: true });
    if (!merged && createdTop !== undefined) await rm(createdTop, { recursive: true, force: true });
    throw err;
  }
  // Directory metadata last and deepest first: adding children changes a directory's mtime.
  // One depth at a time, the directories of a depth together (a package has a few hundred: one
  // after another this took ~45 ms of thread-pool round trips); a parent loses search permission,
  // if its mode says so, only after everything below it is done.
  const byDepth = new Map<number, string[]>();
  for (const p of dirs.keys()) {
    const depth = p.split('/').length;
    const same = byDepth.get(depth);
    if (same) same.push(p);
    else byDepth.set(depth, [p]);
  }
  for (const depth of [...byDepth.keys()].sort((a, b) => b - a)) {
    await Promise.all(byDepth.get(depth)!.map(async (p) => {
      const m = dirs.get(p)!;
      const at = join(dest, p);
      if (owner) await chown(at, m.uid, m.gid);
      await chmod(at, m.mode);
      await utimes(at, m.mtime, m.mtime);
    }));
  }
  await rm(tmp, { recursive: true, force: true });
  return result;
}

/**
 * Which top-most paths to rename from the temp tree into dest: a path missing in dest moves whole;
 * a directory present on both sides is descended; a non-directory replaces a non-directory.
 * Anything else (a directory against a file or a symlink) is a conflict: nothing has moved yet.
 */
async function planMerge(
  dest: string,
  kinds: ReadonlyMap<string, DebEntryType>,
  conflict: (path: string, reason: string) => Error,
): Promise<string[]> {
  const moves: string[] = [];
  const moved = new Set<string>();
  const paths = [...kinds.keys()].filter((p) => p !== '').sort();
  for (const p of paths) {
    if (isUnderMoved(p, moved)) continue;
    const kind = kinds.get(p)!;
    let st;
    try {
      st = await lstat(join(dest, p));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      moves.push(p);
      moved.add(p);
      continue;
    }
    const srcDir = kind === 'dir';
    if (srcDir && st.isDirectory()) continue;
    if (srcDir || st.isDirectory()) {
      const what = st.isSymbolicLink() ? 'a symlink' : st.isDirectory() ? 'a directory' : 'a file';
      throw conflict(p, `${join(dest, p)} exists as ${what} and the package has a ${kind} there`);
    }
    moves.push(p);
    moved.add(p);
  }
  return moves;
}

function isUnderMoved(p: string, moved: ReadonlySet<string>): boolean {
  for (let q = parentOf(p); q !== ''; q = parentOf(q)) if (moved.has(q)) return true;
  return false;
}
