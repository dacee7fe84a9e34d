// The shared libraries an ELF app needs: the transitive DT_NEEDED closure, and a lookup that maps
// a soname to a file inside unpacked Debian packages the way glibc's ld.so searches on amd64.
import { lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { inspectElf, type ElfInfo } from './elf.js';
import { MissingLibraryError } from './errors.js';

/** Maps a soname to a host path, or undefined when nothing provides it. `neededBy` gives its RUNPATH. */
export type LibraryLookup = (soname: string, neededBy: ElfInfo) => Promise<string | undefined>;

export interface ResolvedLibrary {
  soname: string;
  /** Host path of the library file (symlinks resolved by the lookup). */
  path: string;
  /** Path of the first ELF (in closure order) that listed it in DT_NEEDED. */
  neededBy: string;
  /** BFS depth: 1 for the app's own DT_NEEDED. */
  depth: number;
  info: ElfInfo;
}

export interface LibraryClosure {
  root: ElfInfo;
  /** Every library once, in BFS order with each level's new sonames sorted bytewise. */
  libraries: ResolvedLibrary[];
}

/** Bytewise order of UTF-8 strings (never locale order), so the closure is the same everywhere. */
function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * Resolves the transitive DT_NEEDED closure of `rootElf` (a path or an already inspected ELF).
 * Breadth first; within a level, new sonames are visited in sorted order, so the result does not
 * depend on the order files list their needs. Throws MissingLibraryError for a soname that `lookup`
 * cannot find, naming the ELF that needed it; ElfArchError when a library is not x86-64.
 * `inspect` reads an ELF's headers; a caller resolving many closures passes a memoized one.
 */
export async function resolveLibraryClosure(
  rootElf: string | ElfInfo,
  lookup: LibraryLookup,
  inspect: (path: string) => Promise<ElfInfo> = inspectElf,
): Promise<LibraryClosure> {
  const root = typeof rootElf === 'string' ? await inspect(rootElf) : rootElf;
  const seen = new Set<string>();
  const libraries: ResolvedLibrary[] = [];
  let level: ElfInfo[] = [root];
  for (let depth = 1; level.length > 0; depth++) {
    // Collect this level's new sonames with the first ELF (in visiting order) that needs each.
    const wanted = new Map<string, ElfInfo>();
    for (const elf of level) {
      for (const soname of elf.needed) {
        if (!seen.has(soname) && !wanted.has(soname)) wanted.set(soname, elf);
      }
    }
    const next: ElfInfo[] = [];
    for (const soname of [...wanted.keys()].sort(byteCompare)) {
      seen.add(soname);
      const neededBy = wanted.get(soname)!;
      const path = await lookup(soname, neededBy);
      if (path === undefined) throw new MissingLibraryError(soname, neededBy.path);
      const info = await inspect(path);
      libraries.push({ soname, path, neededBy: neededBy.path, depth, info });
      next.push(info);
    }
    level = next;
  }
  return { root, libraries };
}

/**
 * Where glibc's ld.so finds libraries on Debian amd64 when no RUNPATH applies, in search order:
 * the multiarch directories from /etc/ld.so.conf.d/x86_64-linux-gnu.conf, then the default and
 * compatibility directories. Relative to the root of the image.
 */
export const DEBIAN_AMD64_LIBRARY_DIRS: readonly string[] = [
  'lib/x86_64-linux-gnu',
  'usr/lib/x86_64-linux-gnu',
  'lib64',
  'usr/lib',
  'lib',
];

/** ELOOP in the kernel's path walk: at most 40 symlinks (include/linux/namei.h MAXSYMLINKS). */
const MAXSYMLINKS = 40;

/**
 * Resolves `relPath` inside the union of `roots` (unpacked packages layered in order: the first
 * root that has a path component wins), following symlinks the way they will resolve inside the
 * image: absolute targets restart at the image root, `..` stops at it. Never touches the host's
 * own /. Returns the host path of the final non-symlink, or undefined if it does not exist.
 * Its lstat and readlink calls are synchronous: a library search makes hundreds of them, one after
 * another, and each is microseconds here but a thread-pool round trip when asynchronous.
 */
export async function resolveInRoots(roots: readonly string[], relPath: string): Promise<string | undefined> {
  let pending = relPath.split('/').filter((p) => p !== '' && p !== '.');
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const candidate = [...done, part].join('/');
    let found: { host: string; isLink: boolean } | undefined;
    for (const root of roots) {
      const host = join(root, candidate);
      const st = lstatSync(host, { throwIfNoEntry: false });
      if (st) {
        found = { host, isLink: st.isSymbolicLink() };
        break;
      }
    }
    if (!found) return undefined;
    if (!found.isLink) {
      done.push(part);
      continue;
    }
    if (++links > MAXSYMLINKS) return undefined;
    const target = readlinkSync(found.host);
    const targetParts = target.split('/').filter((p) => p !== '' && p !== '.');
    if (target.startsWith('/')) done.length = 0;
    pending = [...targetParts, ...pending];
  }
  for (const root of roots) {
    const host = join(root, done.join('/'));
    if (lstatSync(host, { throwIfNoEntry: false })) return host;
  }
  return undefined;
}

export interface DebianLookupOptions {
  /** Search directories relative to the image root; default DEBIAN_AMD64_LIBRARY_DIRS. */
  dirs?: readonly string[];
  /**
   * Where the ELF that needs a library sits inside the image (e.g. 'usr/lib/jvm/.../lib/server'),
   * so that $ORIGIN in its RUNPATH can be expanded. Without it, RUNPATH entries using $ORIGIN are skipped.
   */
  imageDirOf?: (elf: ElfInfo) => string | undefined;
}

/**
 * The candidate image paths ld.so would try for `soname`, in order: the needing ELF's RUNPATH (with
 * $ORIGIN expanded when its image directory is known), then the system directories.
 */
export function libraryCandidates(soname: string, neededBy: ElfInfo | undefined, opts: DebianLookupOptions = {}): string[] {
  if (soname.includes('/')) return [soname.replace(/^\/+/, '')]; // a DT_NEEDED with a slash is a path
  const out: string[] = [];
  const origin = neededBy ? opts.imageDirOf?.(neededBy) : undefined;
  for (const dir of neededBy?.runpath ?? []) {
    if (dir === '') continue;
    const hasOrigin = /\$(ORIGIN\b|\{ORIGIN\})/.test(dir);
    if (hasOrigin && origin === undefined) continue;
    const expanded = dir.replace(/\$(ORIGIN\b|\{ORIGIN\})/g, `/${origin ?? ''}`);
    out.push(join(expanded, soname).replace(/^\/+/, ''));
  }
  for (const dir of opts.dirs ?? DEBIAN_AMD64_LIBRARY_DIRS) out.push(`${dir}/${soname}`);
  return out;
}

/**
 * A LibraryLookup over unpacked Debian packages: tries libraryCandidates() in order, each resolved
 * with resolveInRoots() (so symlinks such as libz.so.1 -> libz.so.1.2.13 resolve within the packages).
 */
export function debianLibraryLookup(roots: readonly string[], opts: DebianLookupOptions = {}): LibraryLookup {
  return async (soname, neededBy) => {
    for (const candidate of libraryCandidates(soname, neededBy, opts)) {
      const host = await resolveInRoots(roots, candidate);
      if (host !== undefined && lstatSync(host)!.isFile()) return host;
    }
    return undefined;
  };
}
