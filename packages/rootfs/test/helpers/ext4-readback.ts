// Reads an ext4 image back with independent tools and compares it with the FileTree it came from:
// e2fsck -fn (must be clean), debugfs (ls -p for inode numbers/full modes/owners, ea_list + ea_get
// for xattrs, rdump for contents) and, as root, the kernel's own driver via a read-only loop mount
// (times in ns, device numbers, symlink targets, link counts, allocated blocks = holes).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { lstat, mkdir, mkdtemp, open, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Entry, type FileEntry, type FileTree, readData, S_IFMT, statMode } from '../../src/tree.js';
import { ext4Chunks, ext4SparseChunks, type Ext4Options } from '../../src/ext4/index.js';

/**
 * ext4 stores times from 1901 to 2310 without e2fsck complaints (34-bit seconds; 2310..2378 reads
 * as pre-1970 to e2fsck). The shared random trees reach 2514, so remap those deterministically
 * into 2242..2310 (the writer itself refuses them: see ext4.test.ts).
 */
export function ext4Times(tree: FileTree): FileTree {
  const max = 3 * 2 ** 32 - 2 ** 31 - 1;
  for (const e of tree.entries()) {
    if (e.mtime > max) (e as { mtime: number }).mtime = 2 ** 33 + (e.mtime % 2 ** 31);
  }
  return tree;
}

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

export async function tempDir(prefix = 'ext4-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Writes the image; `sparse` (default) seeks over the zero runs emitExt4Chunks reports. */
export async function writeImage(tree: FileTree, options: Ext4Options, path: string, sparse = true): Promise<void> {
  if (!sparse) {
    await pipeline(Readable.from(ext4Chunks(tree, options)), createWriteStream(path));
    return;
  }
  const fh = await open(path, 'w');
  try {
    let end = 0;
    for await (const c of ext4SparseChunks(tree, options)) {
      if (c.bytes) await fh.write(c.bytes, 0, c.bytes.length, c.offset);
      end = c.offset + (c.zero ?? c.bytes.length);
    }
    await fh.truncate(end);
  } finally {
    await fh.close();
  }
}

/** e2fsck -fn: exit 0 and nothing but the pass banners and the summary line. */
export function e2fsck(img: string): { ok: boolean; output: string } {
  const r = spawnSync('e2fsck', ['-fn', img], { encoding: 'utf8' });
  if (r.error) throw r.error;
  const output = `${r.stdout}${r.stderr}`;
  const noise = output.split('\n').filter((l) => l && !/^e2fsck \d/.test(l) && !/^Pass \d[A-Z]?: /.test(l) && !/: \d+\/\d+ files \(.*\), \d+\/\d+ blocks$/.test(l));
  return { ok: r.status === 0 && noise.length === 0, output };
}

/** Runs debugfs commands in one process; returns each command's output. */
export function debugfs(img: string, commands: string[]): string[] {
  if (commands.length === 0) return [];
  const r = spawnSync('debugfs', ['-f', '-', img], { input: commands.join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.error) throw r.error;
  const parts = r.stdout.split(/^debugfs: /m).slice(1);
  if (parts.length !== commands.length) throw new Error(`debugfs answered ${parts.length} of ${commands.length} commands:\n${r.stderr}`);
  return parts.map((p) => p.slice(p.indexOf('\n') + 1));
}

const q = (p: string): string => `"/${p}"`;

/** Hard links carry their target's inode, hence its metadata. */
function inodeEntry(tree: FileTree, e: Entry): Entry {
  return e.type === 'hardlink' ? tree.get(e.target)! : e;
}

export async function sha256Of(e: FileEntry): Promise<string> {
  const h = createHash('sha256');
  for await (const c of readData(e)) h.update(c);
  return h.digest('hex');
}

/**
 * 512-byte sectors the file's data should occupy (only blocks holding segment bytes for sparse
 * sources), and how many more its extent tree may take: i_blocks counts tree blocks too, one
 * leaf per 340 extents plus index blocks, once more than 4 extents leave the inode.
 */
export function expectedDataSectors(e: FileEntry): { sectors: number; treeSlack: number } {
  const blocks = new Set<number>();
  if (e.data.kind !== 'sparse') {
    const n = Math.ceil(e.size / 4096);
    return { sectors: n * 8, treeSlack: 8 * (Math.ceil(n / 32768 / 340) + 2) };
  }
  for (const s of e.data.segments) {
    for (let b = Math.floor(s.offset / 4096); b * 4096 < s.offset + s.bytes.length; b++) blocks.add(b);
  }
  const sorted = [...blocks].sort((a, b) => a - b);
  const runs = sorted.filter((b, i) => i === 0 || sorted[i - 1] !== b - 1).length;
  return { sectors: blocks.size * 8, treeSlack: runs > 4 ? 8 * (Math.ceil(runs / 340) + Math.ceil(runs / 340 / 340)) : 0 };
}

/** Compares the image's metadata as debugfs sees it; returns a list of differences (empty = equal). */
export async function compareWithDebugfs(img: string, tree: FileTree, opts: { contents?: boolean } = {}): Promise<string[]> {
  const diffs: string[] = [];
  const dirs = tree.entries().filter((e) => e.type === 'dir');
  const listings = debugfs(img, dirs.map((d) => `ls -p ${q(d.path)}`));
  const seen = new Map<string, { ino: number; mode: number; uid: number; gid: number }>();
  dirs.forEach((d, i) => {
    for (const line of listings[i]!.split('\n')) {
      const m = /^\/(\d+)\/(\d+)\/(\d+)\/(\d+)\/(.*)\/(\d*)\/$/.exec(line);
      if (!m) continue;
      const name = m[5]!;
      if (name === '.' || name === '..') continue;
      seen.set(d.path === '' ? name : `${d.path}/${name}`, { ino: +m[1]!, mode: parseInt(m[2]!, 8), uid: +m[3]!, gid: +m[4]! });
    }
  });
  const inos = new Map<string, number>();
  for (const e of tree.entries()) {
    if (e.path === '') continue;
    const got = seen.get(e.path);
    if (!got) { diffs.push(`${e.path}: missing in debugfs listing`); continue; }
    const meta = inodeEntry(tree, e);
    const want = statMode(meta) & 0xffff;
    if (got.mode !== want) diffs.push(`${e.path}: mode ${got.mode.toString(8)} != ${want.toString(8)}`);
    if (got.uid !== meta.uid || got.gid !== meta.gid) diffs.push(`${e.path}: owner ${got.uid}:${got.gid} != ${meta.uid}:${meta.gid}`);
    const key = e.type === 'hardlink' ? e.target : e.path;
    const prev = inos.get(key);
    if (prev !== undefined && prev !== got.ino) diffs.push(`${e.path}: hard link inode ${got.ino} != ${prev}`);
    inos.set(key, got.ino);
  }
  for (const p of seen.keys()) if (!tree.has(p) && p !== 'lost+found') diffs.push(`${p}: extra entry in image`);
  // xattrs: names from ea_list, exact values from ea_get -f.
  const withX = tree.entries().filter((e) => e.type !== 'hardlink' && e.xattrs && e.xattrs.size);
  const dir = await tempDir('ext4-ea-');
  try {
    const lists = debugfs(img, withX.map((e) => `ea_list ${q(e.path)}`));
    const gets: string[] = [];
    const files: [string, string, Uint8Array][] = [];
    withX.forEach((e, i) => {
      const names = [...lists[i]!.matchAll(/^ {2}(\S+) \(\d+\)/gm)].map((m) => m[1]!).sort();
      const want = [...e.xattrs!.keys()].sort();
      if (names.join(',') !== want.join(',')) diffs.push(`${e.path}: xattrs [${names}] != [${want}]`);
      for (const [k, v] of e.xattrs!) {
        const f = join(dir, `${files.length}`);
        files.push([e.path, f, v]);
        gets.push(`ea_get -f ${f} ${q(e.path)} ${k}`);
      }
    });
    debugfs(img, gets);
    for (const [path, f, v] of files) {
      const got = await readFile(f).catch(() => undefined);
      if (!got || Buffer.compare(got, Buffer.from(v)) !== 0) diffs.push(`${path}: xattr value differs (${got?.length} vs ${v.length} bytes)`);
    }
    if (opts.contents !== false) {
      const out = join(dir, 'rdump');
      await mkdir(out);
      execFileSync('debugfs', ['-R', `rdump / ${out}`, img], { stdio: 'ignore' });
      for (const e of tree.entries()) {
        if (e.type !== 'file') continue;
        const bytes = await readFile(join(out, e.path)).catch(() => undefined);
        if (!bytes) diffs.push(`${e.path}: not in debugfs rdump`);
        else if (createHash('sha256').update(bytes).digest('hex') !== (await sha256Of(e))) diffs.push(`${e.path}: contents differ (debugfs rdump)`);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return diffs;
}

/** Mounts the image read-only with the kernel's ext4 driver and compares everything lstat shows. */
export async function compareWithKernel(img: string, tree: FileTree): Promise<string[]> {
  const mnt = await tempDir('ext4-mnt-');
  const diffs: string[] = [];
  execFileSync('mount', ['-t', 'ext4', '-o', 'loop,ro', img, mnt]);
  try {
    const inos = new Map<string, bigint>();
    const subdirs = new Map<string, number>();
    for (const e of tree.entries()) if (e.type === 'dir' && e.path !== '') { const p = e.path.includes('/') ? e.path.slice(0, e.path.lastIndexOf('/')) : ''; subdirs.set(p, (subdirs.get(p) ?? 0) + 1); }
    subdirs.set('', (subdirs.get('') ?? 0) + (tree.has('lost+found') ? 0 : 1));
    const kids = new Map<string, string[]>();
    for (const e of tree.entries()) {
      if (e.path === '') continue;
      const i = e.path.lastIndexOf('/');
      const parent = i < 0 ? '' : e.path.slice(0, i);
      let list = kids.get(parent);
      if (!list) kids.set(parent, (list = []));
      list.push(e.path.slice(i + 1));
    }
    const names = new Map<string, number>();
    for (const e of tree.entries()) if (e.type === 'hardlink') names.set(e.target, (names.get(e.target) ?? 1) + 1);
    for (const e of tree.entries()) {
      const p = join(mnt, e.path);
      const st = await lstat(p, { bigint: true });
      const meta = inodeEntry(tree, e);
      const mode = statMode(meta);
      const d = (what: string): void => { diffs.push(`${e.path || '/'}: ${what}`); };
      if (Number(st.mode) !== mode) d(`mode ${st.mode.toString(8)} != ${mode.toString(8)}`);
      if (Number(st.uid) !== meta.uid || Number(st.gid) !== meta.gid) d(`owner ${st.uid}:${st.gid} != ${meta.uid}:${meta.gid}`);
      const ns = BigInt(meta.mtime) * 1_000_000_000n + BigInt(meta.mtimeNsec);
      if (st.mtimeNs !== ns) d(`mtime ${st.mtimeNs} != ${ns}`);
      const key = e.type === 'hardlink' ? e.target : e.path;
      const prev = inos.get(key);
      if (prev !== undefined && prev !== st.ino) d(`inode ${st.ino} != ${prev} (hard link)`);
      inos.set(key, st.ino);
      if ((mode & S_IFMT) === 0o100000) {
        const f = meta as FileEntry;
        if (Number(st.size) !== f.size) d(`size ${st.size} != ${f.size}`);
        if (Number(st.nlink) !== (names.get(f.path) ?? 1)) d(`nlink ${st.nlink} != ${names.get(f.path) ?? 1}`);
        const { sectors, treeSlack } = expectedDataSectors(f);
        const xattrSlack = f.xattrs?.size ? 8 : 0; // an xattr block, when they do not fit the inode
        if (Number(st.blocks) < sectors || Number(st.blocks) > sectors + xattrSlack + treeSlack) d(`allocated ${st.blocks} sectors, want ${sectors} (holes)`);
        if (e.type === 'file' && f.size <= 256 << 20) {
          const got = createHash('sha256').update(await readFile(p)).digest('hex');
          if (got !== (await sha256Of(f))) d('contents differ (kernel)');
        } else if (e.type === 'file' && f.data.kind === 'sparse') {
          // Too big to hash whole: compare every segment and the byte before and after it.
          const fh = await open(p, 'r');
          try {
            for (const seg of f.data.segments) {
              const from = Math.max(0, seg.offset - 1);
              const buf = Buffer.alloc(Math.min(f.size, seg.offset + seg.bytes.length + 1) - from);
              await fh.read(buf, 0, buf.length, from);
              const want = Buffer.alloc(buf.length);
              want.set(seg.bytes, seg.offset - from);
              if (Buffer.compare(buf, want) !== 0) d(`segment at ${seg.offset} differs (kernel)`);
            }
          } finally {
            await fh.close();
          }
        } else if (e.type === 'file') {
          d('too big for this readback: test bug');
        }
      } else if (e.type === 'symlink') {
        const got = await readlink(p, { encoding: 'buffer' });
        if (Buffer.compare(got, Buffer.from(e.target, 'utf8')) !== 0) d(`link target differs`);
      } else if (e.type === 'char' || e.type === 'block') {
        const rdev = Number(st.rdev);
        const major = (rdev >> 8) & 0xfff;
        const minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
        if (major !== e.major || minor !== e.minor) d(`device ${major}:${minor} != ${e.major}:${e.minor}`);
      } else if (e.type === 'dir') {
        const want = 2 + (subdirs.get(e.path) ?? 0);
        if (Number(st.nlink) !== (want > 65000 ? 1 : want)) d(`nlink ${st.nlink} != ${want}`);
        const listed = (await readdir(p)).sort();
        const expected = [...(kids.get(e.path) ?? [])];
        if (e.path === '' && !tree.has('lost+found')) expected.push('lost+found');
        expected.sort();
        if (listed.join('\0') !== expected.join('\0')) d(`lists ${listed.length} names, want ${expected.length}`);
      }
    }
  } finally {
    execFileSync('umount', [mnt]);
    await rm(mnt, { recursive: true, force: true });
  }
  return diffs;
}

export { writeFile };
