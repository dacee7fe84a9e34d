// Test helpers: read cpio archives back with tools we did not write (GNU cpio, cpio-stream) and
// derive what a tree should look like inside an archive.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { readData, statMode, type FileTree } from '../../src/tree.js';
import { clampMtime } from '../../src/cpio/plan.js';

const require = createRequire(import.meta.url);
// cpio-stream ships no types; this is the part of its API we use.
const cpioStreamLib = require('cpio-stream') as { extract(): NodeJS.WritableStream & { on(ev: 'entry', fn: (h: CpioStreamHeader, s: Readable, next: () => void) => void): void; on(ev: string, fn: (...a: unknown[]) => void): void } };

interface CpioStreamHeader { name: string; mode: number; uid: number; gid: number; nlink: number; mtime: Date; size: number; ino: number; rdevmajor: number; rdevminor: number; linkname?: string }

export interface ArchiveEntry {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  size: number;
  ino?: number;
  rdev?: [number, number];
  target?: string;
  sha256?: string;
}

export async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts);
}

export const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/**
 * cpio-stream decodes names as 'ascii', which in node drops bit 7 of every byte: names with
 * non-ASCII bytes come back mangled. Compare against `asciiView(expectedName)`; GNU cpio checks
 * the exact UTF-8 names.
 */
export const asciiView = (name: string): string => Buffer.from(name, 'utf8').toString('ascii');

/** Parses an archive with the cpio-stream package. */
export function readWithCpioStream(archive: Uint8Array): Promise<ArchiveEntry[]> {
  return new Promise((resolve, reject) => {
    const out: ArchiveEntry[] = [];
    const ex = cpioStreamLib.extract();
    ex.on('entry', (h, stream, next) => {
      const parts: Buffer[] = [];
      stream.on('data', (d: Buffer) => parts.push(d));
      stream.on('end', () => {
        const data = Buffer.concat(parts);
        const isLink = (h.mode & 0o170000) === 0o120000;
        out.push({
          name: h.name,
          mode: h.mode, uid: h.uid, gid: h.gid, nlink: h.nlink, mtime: h.mtime.getTime() / 1000, size: h.size, ino: h.ino,
          ...((h.mode & 0o170000) === 0o020000 || (h.mode & 0o170000) === 0o060000 ? { rdev: [h.rdevmajor, h.rdevminor] as [number, number] } : {}),
          ...(isLink ? { target: h.linkname } : { sha256: sha(data) }),
        });
        next();
      });
      stream.resume();
    });
    ex.on('finish', () => resolve(out));
    ex.on('error', (e) => reject(e));
    ex.end(Buffer.from(archive));
  });
}

/** `cpio -itvn` (GNU cpio): one parsed line per entry. Throws with cpio's stderr if it fails. */
export function listWithGnuCpio(archive: Uint8Array): Array<{ name: string; perms: string; nlink: number; uid: number; gid: number; size?: number; rdev?: [number, number]; target?: string }> {
  const r = spawnSync('cpio', ['-itvn', '--quiet'], { input: archive, maxBuffer: 1 << 28 });
  // Any message (e.g. "warning: skipped N bytes of junk") counts as a failure.
  if (r.status !== 0 || r.stderr.length) throw new Error(`cpio -itvn failed (${r.status}): ${r.stderr.toString()}`);
  const lines = r.stdout.toString('utf8').split('\n').filter(Boolean);
  return lines.map((line) => {
    // drwxr-xr-x   2 0        0               0 Jan  1  1970 name   |  crw-------   1 0  0  5,   1 Jan  1  1970 dev/console
    const m = /^(\S{10})\s+(\d+)\s+(\d+)\s+(\d+)\s+(?:(\d+),\s+(\d+)|(\d+))\s+\w{3}\s+\d+\s+[\d:]+\s(.*)$/.exec(line);
    if (!m) throw new Error(`unparsed cpio -itv line: ${JSON.stringify(line)}`);
    let name = m[8]!;
    let target: string | undefined;
    if (m[1]!.startsWith('l')) {
      const i = name.indexOf(' -> ');
      target = name.slice(i + 4);
      name = name.slice(0, i);
    }
    return {
      name, perms: m[1]!, nlink: Number(m[2]), uid: Number(m[3]), gid: Number(m[4]),
      ...(m[5] !== undefined ? { rdev: [Number(m[5]), Number(m[6])] as [number, number] } : { size: Number(m[7]) }),
      ...(target !== undefined ? { target } : {}),
    };
  });
}

/** `ls -l`-style permission string of a full st_mode, as GNU cpio -tv prints it. */
export function permString(mode: number): string {
  const type: Record<number, string> = { 0o140000: 's', 0o120000: 'l', 0o100000: '-', 0o060000: 'b', 0o040000: 'd', 0o020000: 'c', 0o010000: 'p' };
  const rwx = (bits: number, special: boolean, ch: string): string =>
    (bits & 4 ? 'r' : '-') + (bits & 2 ? 'w' : '-') + (special ? (bits & 1 ? ch : ch.toUpperCase()) : bits & 1 ? 'x' : '-');
  return type[mode & 0o170000]! +
    rwx((mode >> 6) & 7, !!(mode & 0o4000), 's') + rwx((mode >> 3) & 7, !!(mode & 0o2000), 's') + rwx(mode & 7, !!(mode & 0o1000), 't');
}

/** What the archive must contain for `tree`, in archive order (trailer excluded). */
export async function expectedEntries(tree: FileTree): Promise<ArchiveEntry[]> {
  const out: ArchiveEntry[] = [];
  const dataDone = new Set<string>();
  const groups = tree.hardlinkGroups();
  const subdirs = new Map<string, number>();
  for (const e of tree.entries()) {
    if (e.type === 'dir' && e.path) {
      const p = e.path.includes('/') ? e.path.slice(0, e.path.lastIndexOf('/')) : '';
      subdirs.set(p, (subdirs.get(p) ?? 0) + 1);
    }
  }
  for (const e of tree.entries()) {
    const inode = e.type === 'hardlink' ? tree.get(e.target)! : e;
    const key = e.type === 'hardlink' ? e.target : e.path;
    const group = groups.get(key);
    const base = {
      name: e.path === '' ? '.' : e.path, mode: statMode(inode), uid: inode.uid, gid: inode.gid,
      nlink: inode.type === 'dir' ? 2 + (subdirs.get(e.path) ?? 0) : group ? group.length : 1,
      mtime: clampMtime(inode.mtime),
    };
    if (inode.type === 'file') {
      if (dataDone.has(key)) {
        out.push({ ...base, size: 0, sha256: sha(new Uint8Array(0)) });
      } else {
        dataDone.add(key);
        const parts: Uint8Array[] = [];
        for await (const c of readData(inode)) parts.push(c);
        out.push({ ...base, size: inode.size, sha256: sha(Buffer.concat(parts)) });
      }
    } else if (inode.type === 'symlink') {
      out.push({ ...base, size: Buffer.byteLength(inode.target), target: inode.target });
    } else if (inode.type === 'char' || inode.type === 'block') {
      out.push({ ...base, size: 0, rdev: [inode.major, inode.minor], sha256: sha(new Uint8Array(0)) });
    } else {
      out.push({ ...base, size: 0, sha256: sha(new Uint8Array(0)) });
    }
  }
  return out;
}
