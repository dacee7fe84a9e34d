// Builds small .deb files for tests: tar-stream for the tars, the xz/zstd CLIs for compression
// (test-only; CI installs xz-utils and zstd), our ar encoder for the container (dpkg-deb checks it).
import { execFileSync } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { encodeAr } from '../src/deb/ar.js';

export interface FixtureEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'fifo';
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  content?: string | Buffer;
  devmajor?: number;
  devminor?: number;
}

export async function makeTar(entries: readonly FixtureEntry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c: Buffer) => chunks.push(c));
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? 'file';
    const body = type === 'file' ? Buffer.from(e.content ?? '') : undefined;
    const header = {
      name: e.name,
      type,
      mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      uname: e.uid ? 'user' : 'root',
      gname: e.gid ? 'user' : 'root',
      mtime: new Date((e.mtime ?? 1700000000) * 1000),
      linkname: e.linkname,
      size: body?.length ?? 0,
      devmajor: e.devmajor,
      devminor: e.devminor,
    };
    await new Promise<void>((resolve, reject) => pack.entry(header, body, (err) => (err ? reject(err) : resolve())));
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export function compress(kind: 'gz' | 'xz' | 'zst' | 'none', data: Buffer): Buffer {
  if (kind === 'gz') return gzipSync(data);
  // Many small blocks, so the block-parallel decoder is exercised; bigger ones past 512 KiB, where
  // thousands of 4 KiB blocks would only slow the tests down.
  if (kind === 'xz') return execFileSync('xz', ['-c', `--block-size=${data.length > 512 * 1024 ? 65536 : 4096}`], { input: data });
  if (kind === 'zst') return execFileSync('zstd', ['-q', '-c'], { input: data });
  return data;
}

export async function makeDeb(entries: readonly FixtureEntry[], kind: 'gz' | 'xz' | 'zst' | 'none' = 'xz', control = 'Package: fixture\nVersion: 1.0-1\nArchitecture: amd64\nMaintainer: Test <t@example.org>\nDescription: test package\n more text\n .\n end\n'): Promise<Buffer> {
  const controlTar = await makeTar([
    { name: './', type: 'directory' },
    { name: './control', content: control },
  ]);
  const dataTar = await makeTar(entries);
  const ext = kind === 'none' ? '' : `.${kind}`;
  return Buffer.from(
    encodeAr([
      { name: 'debian-binary', data: Buffer.from('2.0\n') },
      { name: 'control.tar.gz', data: gzipSync(controlTar) },
      { name: `data.tar${ext}`, data: compress(kind, dataTar) },
    ]),
  );
}

/** 70 kB that arrive in several pieces, none alike (a reordering or a dropped piece shows in the hash). */
const TEXT = Array.from({ length: 70000 }, (_, i) => String.fromCharCode(97 + ((i * 31 + (i >>> 7)) % 26))).join('');
/** Bigger than the extractor's in-memory batch limit (1 MiB): written while it streams in. */
const BIG = Buffer.from(Array.from({ length: 1300 * 1024 }, (_, i) => (i * 7 + (i >>> 9)) & 0xff));

/** A typical package: dirs, files, setuid, a symlink (absolute target), hard links, odd owners, a big file. */
export const SAMPLE: readonly FixtureEntry[] = [
  { name: './', type: 'directory' },
  { name: './usr/', type: 'directory' },
  { name: './usr/bin/', type: 'directory', mtime: 1600000000 },
  { name: './usr/bin/tool', mode: 0o4755, content: '#!/bin/sh\necho tool\n' },
  { name: './usr/bin/other', mode: 0o2711, uid: 1000, gid: 1000, content: TEXT },
  { name: './usr/bin/alias', type: 'link', linkname: './usr/bin/tool' },
  { name: './usr/lib/', type: 'directory', mode: 0o750 },
  { name: './usr/lib/libx.so.1.2', content: Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3]) },
  { name: './usr/lib/libx.so.1', type: 'symlink', linkname: 'libx.so.1.2' },
  { name: './usr/lib/abs', type: 'symlink', linkname: '/etc/passwd' },
  { name: './usr/share/doc/fixture/empty', content: '' },
  { name: './var/tmp/', type: 'directory', mode: 0o1777 },
  { name: './usr/lib/tool-again', type: 'link', linkname: 'usr/bin/tool' },
  { name: './usr/lib/big.bin', mode: 0o640, content: BIG },
  { name: './usr/lib/big-again', type: 'link', linkname: './usr/lib/big.bin' },
  { name: './usr/lib/after-big', content: 'written after the big file\n' },
];

export interface NodeInfo {
  type: string;
  mode: string;
  uid: number;
  gid: number;
  mtime: number;
  target?: string;
  sha?: string;
  /** Other names of the same inode (hard links), sorted. */
  links?: string[];
}

/** Walks a directory with lstat: path -> what we compare (type, mode, owner, mtime, content, link). */
export function snapshot(root: string, skip: (p: string) => boolean = () => false): Record<string, NodeInfo> {
  const out: Record<string, NodeInfo> = {};
  const inodes = new Map<number, string[]>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      if (skip(p)) continue;
      const st = lstatSync(join(root, p));
      const type = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : 'other';
      const info: NodeInfo = { type, mode: (st.mode & 0o7777).toString(8), uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
      if (type === 'symlink') info.target = readlinkSync(join(root, p));
      if (type === 'file') {
        info.sha = createHash('sha256').update(readFileSync(join(root, p))).digest('hex');
        inodes.set(st.ino, [...(inodes.get(st.ino) ?? []), p]);
      }
      out[p] = info;
      if (type === 'dir') walk(p);
    }
  };
  walk('');
  for (const names of inodes.values()) if (names.length > 1) for (const n of names) out[n]!.links = [...names].sort();
  return out;
}
