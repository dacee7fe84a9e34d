// Debian's Contents-<arch> index (https://wiki.debian.org/RepositoryFormat#A.22Contents.22_indices):
//   <path><whitespace><area/section/package>[,<area/section/package>...]
// one line per file, the path without a leading "/" and possibly containing spaces (so the location
// list is the *last* column). Old archives started with free text ending in a "FILE  LOCATION" line.
import type { Readable } from 'node:stream';
import { ContentsFormatError } from './errors.js';
import { splitLines } from './lines.js';

/** The header line of old Contents files; everything up to it is preamble. */
const OLD_HEADER = /^FILE\s+LOCATION\s*$/;

export interface ContentsOptions {
  /** Names the stream in errors, e.g. "Contents-amd64.gz". */
  what?: string;
}

/** "libs/libc6" -> "libc6"; "non-free/net/foo" -> "foo". */
function packageOf(location: string): string {
  return location.slice(location.lastIndexOf('/') + 1);
}

/**
 * path -> package names (without area/section), keeping only paths `filter` accepts. Memory holds
 * only the kept entries plus one line.
 */
export async function parseContents(
  stream: AsyncIterable<Uint8Array> | Readable,
  filter?: (path: string) => boolean,
  opts: ContentsOptions = {},
): Promise<Map<string, string[]>> {
  const what = opts.what ?? 'Contents';
  const out = new Map<string, string[]>();
  let lineNo = 0;
  let sawHeader = false;
  for await (const raw of splitLines(stream as AsyncIterable<Uint8Array>)) {
    lineNo++;
    const line = raw.toString('utf8').replace(/\r$/, '');
    if (line.trim() === '') continue;
    if (!sawHeader && OLD_HEADER.test(line)) {
      sawHeader = true;
      out.clear(); // what came before was the old free-text preamble
      continue;
    }
    const m = /^(.*?)\s+(\S+)$/.exec(line);
    if (!m) {
      throw new ContentsFormatError({ what, line: lineNo, reason: `expected "<path> <section/package,...>", got ${JSON.stringify(line.slice(0, 80))}` });
    }
    const path = m[1]!.replace(/^\.?\//, '');
    if (filter && !filter(path)) continue;
    const pkgs = m[2]!.split(',').filter((p) => p !== '').map(packageOf);
    const prev = out.get(path);
    out.set(path, prev ? [...new Set([...prev, ...pkgs])] : pkgs);
  }
  return out;
}

/**
 * Directories the dynamic loader and Debian put shared libraries in: any "lib" or "lib64" path
 * component (lib/, usr/lib/, usr/lib/x86_64-linux-gnu/, lib64/...), never lib32/libx32 or
 * foreign multiarch triplets.
 */
const LIB_DIR = /(^|\/)(lib|lib64)\//;
const FOREIGN = /(^|\/)(lib32|libx32|i386-linux-gnu|x86_64-linux-gnux32)\//;
/** "libz.so.1", "libc.so.6", "libfoo.so" (not "libfoo.so.1.gz" or "foo.sort"). */
const SHARED_LIBRARY = /\.so(\.[0-9]+)*$/;

export function isLibraryPath(path: string): boolean {
  return LIB_DIR.test(path) && !FOREIGN.test(path) && SHARED_LIBRARY.test(path);
}

/** basename (a soname such as "libz.so.1") -> packages shipping it in a library directory. */
export async function libraryIndex(stream: AsyncIterable<Uint8Array> | Readable, opts: ContentsOptions = {}): Promise<Map<string, string[]>> {
  const byPath = await parseContents(stream, isLibraryPath, opts);
  const out = new Map<string, string[]>();
  for (const [path, pkgs] of byPath) {
    const base = path.slice(path.lastIndexOf('/') + 1);
    const prev = out.get(base) ?? [];
    out.set(base, [...new Set([...prev, ...pkgs])].sort());
  }
  return out;
}
