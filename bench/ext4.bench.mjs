#!/usr/bin/env node
// Benchmark: our ext4 writer (directory import + plan + emit + sparse write) against
// `mkfs.ext4 -d` and `genext2fs` on the same trees, in one run.
//
//   pnpm build && node bench/ext4.bench.mjs [--runs N] [--small-files N] [--gib N]
//
// Trees: the host JDK (/usr/lib/jvm/java-17-openjdk-amd64, a JRE-like tree of shared libraries
// and modules); 100,000 small files with one 20,000-entry directory; 1 GiB apparent of large files
// half data, half holes. Every tool runs as a child process under /usr/bin/time for its peak RSS;
// all write an image of the same size (the one our 'fit' picks) to the same temp directory, each run
// into a new file (none may reuse blocks another left allocated), ours and mkfs.ext4 taking turns.
// Targets (issue 4): faster than mkfs.ext4 -d on the 100k and 1 GiB trees, within 2x on the JDK;
// our peak RSS < 150 MB on the 100k tree. "Ours" is the command users run, `mkimage fs DIR -o
// IMG` (which also hashes the image it writes). "library MiB" is the peak RSS of a plain node
// process calling treeFromDirectory, planExt4 and emitExt4Chunks with default options and node's
// default heap flags, as an embedding tool would without tuning.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, linkSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const rootfs = join(here, '..', 'packages', 'rootfs', 'dist', 'index.js');
const cli = join(here, '..', 'packages', 'cli', 'dist', 'bundle', 'mkimage.js');

// ---- child mode: build one image, print time, size, blocks ----
if (process.argv[2] === '--child') {
  const [, , , dir, out] = process.argv;
  const t0 = performance.now();
  const { treeFromDirectory, planExt4, emitExt4Chunks } = await import(rootfs);
  const tree = treeFromDirectory(dir, { uid: 0, gid: 0 });
  const layout = planExt4(tree, { epoch: 0 });
  const fd = openSync(out, 'w');
  for await (const c of emitExt4Chunks(layout)) if (c.bytes) writeSync(fd, c.bytes, 0, c.bytes.length, c.offset); // zero runs: seek
  ftruncateSync(fd, layout.size);
  closeSync(fd);
  process.stdout.write(JSON.stringify({ ms: performance.now() - t0, size: layout.size }));
  process.exit(0);
}

if (!existsSync(rootfs) || !existsSync(cli)) {
  console.error('bench: packages/rootfs/dist is missing; run `pnpm build` first');
  process.exit(1);
}
const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : dflt; };
const RUNS = arg('--runs', 2);
const FLAT_GIB = arg('--flat-gib', 4);
const SMALL = arg('--small-files', 100_000);
const GIB = arg('--gib', 1);
const work = mkdtempSync(join(tmpdir(), 'ext4-bench-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

function smallFiles() {
  const dest = join(work, 'small');
  const big = Math.min(20_000, SMALL);
  mkdirSync(join(dest, 'big'), { recursive: true });
  let n = 0;
  for (; n < big; n++) writeFileSync(join(dest, 'big', `file-${n}.txt`), `content of file ${n}\n`.repeat(1 + (n % 7)));
  for (let d = 0; n < SMALL; d++) {
    const sub = join(dest, `d${d}`);
    mkdirSync(sub);
    for (let i = 0; i < 200 && n < SMALL; i++, n++) writeFileSync(join(sub, `f${i}`), `small ${n}\n`.repeat(1 + (n % 13)));
  }
  return { dest, label: `${SMALL.toLocaleString('en')} small files (one dir of ${big.toLocaleString('en')})` };
}

function holes() {
  const dest = join(work, 'holes');
  mkdirSync(dest);
  const files = 8 * GIB;
  const chunk = Buffer.alloc(1 << 20);
  for (let f = 0; f < files; f++) {
    const fd = openSync(join(dest, `blob-${f}.bin`), 'w');
    // 128 MiB apparent: 16 MiB data, 16 MiB hole, four times.
    for (let r = 0; r < 4; r++) {
      for (let m = 0; m < 16; m++) {
        chunk.fill((f * 31 + r * 7 + m) & 0xff);
        writeSync(fd, chunk, 0, chunk.length, (r * 32 + m) * (1 << 20));
      }
    }
    ftruncateSync(fd, 128 << 20);
    closeSync(fd);
  }
  return { dest, label: `${GIB} GiB apparent in ${files} files, half holes` };
}

/** `gib` GiB of written data (no holes) in 256 MiB files, and a second directory that hard-links
 *  the first GiB of it: the same kind of tree at 1 GiB and at `gib` GiB, for the memory-flatness row. */
function dataTrees(gib) {
  const big = join(work, 'data-big');
  const one = join(work, 'data-1');
  mkdirSync(big);
  mkdirSync(one);
  const chunk = Buffer.alloc(1 << 20);
  for (let f = 0; f < gib * 4; f++) {
    const path = join(big, `data-${f}.bin`);
    const fd = openSync(path, 'w');
    for (let m = 0; m < 256; m++) { chunk.fill((f * 13 + m) & 0xff); writeSync(fd, chunk); }
    closeSync(fd);
    if (f < 4) linkSync(path, join(one, `data-${f}.bin`));
  }
  return { one, big };
}

function timed(cmd, args) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr.slice(-2000)}`);
  const [secs, kib] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { secs, mib: kib / 1024, stdout: r.stdout, stderr: r.stderr };
}

/** Size and inode count of an ext4 image, from its superblock (ext4 disk layout: at byte 1024,
 *  s_inodes_count at +0, s_blocks_count_lo at +4, s_log_block_size at +24, s_blocks_count_hi at +0x150). */
function superblock(img) {
  const fd = openSync(img, 'r');
  const sb = Buffer.alloc(1024);
  readSync(fd, sb, 0, 1024, 1024);
  closeSync(fd);
  const blocks = sb.readUInt32LE(4) + sb.readUInt32LE(0x150) * 2 ** 32;
  return { inodes: sb.readUInt32LE(0), size: blocks * (1024 << sb.readUInt32LE(24)) };
}

function best(fn) {
  let b;
  for (let i = 0; i < RUNS; i++) {
    const r = fn();
    if (!b || r.secs < b.secs) b = r;
  }
  return b;
}

const jdk = '/usr/lib/jvm/java-17-openjdk-amd64';
const trees = [];
if (existsSync(jdk)) trees.push({ dest: jdk, label: 'host JDK 17 (JRE-like)' });
else console.log(`(no ${jdk}: skipping the JRE-like tree)`);
trees.push(smallFiles(), holes());
const haveGenext2fs = spawnSync('genext2fs', ['--help']).error === undefined;
const rows = [];
for (const t of trees) {
  const img = join(work, 'out.img');
  // Every run writes a new file: overwriting the blocks an earlier run left allocated would spare
  // one tool the allocation (mkfs.ext4 writes into an existing file in place; ours renames a new
  // file over it).
  const fresh = () => rmSync(img, { force: true });
  const oursRun = () => {
    fresh();
    const r = timed(process.execPath, [cli, 'fs', t.dest, '-o', img]);
    return { ...r, info: superblock(img), entries: Number(/, (\d+) entries,/.exec(r.stderr)?.[1]) };
  };
  // The first run plans the size and inode count mkfs.ext4 gets; then ours and mkfs.ext4 take
  // turns, so that both meet the same writeback state of the disk (a 1 GiB image leaves plenty).
  let ours = oursRun();
  const ok = spawnSync('e2fsck', ['-fn', img]).status === 0;
  const library = timed(process.execPath, [fileURLToPath(import.meta.url), '--child', t.dest, img]);
  if (JSON.parse(library.stdout).size !== ours.info.size) throw new Error('the library and the CLI planned different sizes');
  const blocks = ours.info.size / 4096;
  const mkfsRun = () => {
    fresh();
    return timed('mkfs.ext4', ['-q', '-F', '-b', '4096', '-N', String(ours.info.inodes), '-E', 'root_owner=0:0', '-d', t.dest, img, String(blocks)]);
  };
  let mkfs;
  for (let i = 0; i < RUNS; i++) {
    const m = mkfsRun();
    if (!mkfs || m.secs < mkfs.secs) mkfs = m;
    if (i === RUNS - 1) break;
    const o = oursRun();
    if (o.secs < ours.secs) ours = o;
  }
  const gen = haveGenext2fs ? best(() => {
    fresh();
    return timed('genext2fs', ['-B', '4096', '-b', String(blocks), '-N', String(ours.info.inodes), '-d', t.dest, img]);
  }) : undefined;
  rows.push({ t, ours, library, ok, mkfs, gen });
  rmSync(img, { force: true });
}

const f = (n, d = 2) => n.toFixed(d);
console.log(`\next4 writer vs native tools (best of ${RUNS}, warm cache, peak RSS from /usr/bin/time)\n`);
console.log('| tree | entries | image | ours s | ours MiB | library MiB | e2fsck | mkfs.ext4 -d s | MiB | ours/mkfs time | genext2fs s | MiB | ours/genext2fs time |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const { t, ours, library, ok, mkfs, gen } of rows) {
  console.log(`| ${t.label} | ${ours.entries} | ${f(ours.info.size / 2 ** 20, 0)} MiB | ${f(ours.secs)} | ${f(ours.mib, 0)} | ${f(library.mib, 0)} | ${ok ? 'clean' : 'ERRORS'} | ${f(mkfs.secs)} | ${f(mkfs.mib, 0)} | ${f(ours.secs / mkfs.secs)}x | ${gen ? f(gen.secs) : '-'} | ${gen ? f(gen.mib, 0) : '-'} | ${gen ? f(ours.secs / gen.secs) + 'x' : '-'} |`);
}

// Memory must stay flat as file data grows (issue 4): the same command on 1 GiB and on FLAT_GIB GiB.
if (FLAT_GIB > 1) {
  const { one, big } = dataTrees(FLAT_GIB);
  const img = join(work, 'out.img');
  const at1 = timed(process.execPath, [cli, 'fs', one, '-o', img]);
  rmSync(img, { force: true });
  const atN = timed(process.execPath, [cli, 'fs', big, '-o', img]);
  rmSync(img, { force: true });
  console.log(`\nmkimage fs peak RSS as file data grows (written data, no holes): 1 GiB ${f(at1.mib, 0)} MiB (${f(at1.secs)} s), ${FLAT_GIB} GiB ${f(atN.mib, 0)} MiB (${f(atN.secs)} s): ratio ${f(atN.mib / at1.mib)} (flat: ~1.00)`);
}
