#!/usr/bin/env node
// Benchmark: our initramfs writer (directory import + cpio newc + parallel gzip -6 + atomic write)
// against `find . | cpio -o -H newc | gzip -6` on the same trees, in one run.
//
//   pnpm build && node bench/cpio.bench.mjs [--runs N] [--small-files N]
//
// Trees: a jlinked JRE (java.base + jdk.httpserver, from a JDK under /usr/lib/jvm when one has
// jlink; otherwise ~35 MB of shared libraries copied from /usr/lib/x86_64-linux-gnu) and 100,000
// small generated files. Our side runs in a child process so its peak RSS (maxRSS) is its own.
// Targets (issue 3): >= 1.5x faster, output <= 1.01x the size, peak RSS < 200 MB.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const rootfs = join(here, '..', 'packages', 'rootfs', 'dist', 'index.js');

// ---- child mode: build one initramfs and report time + peak RSS ----
if (process.argv[2] === '--child') {
  const [, , , dir, out] = process.argv;
  const t0 = performance.now();
  const { treeFromDirectory, cpioStream, compressInitramfs, writeAtomically } = await import(rootfs);
  const tree = treeFromDirectory(dir, { uid: 0, gid: 0 });
  tree.clampTimes(0);
  const res = await writeAtomically(out, compressInitramfs(cpioStream(tree), 'gzip'));
  process.stdout.write(JSON.stringify({ ms: performance.now() - t0, bytes: res.bytes, entries: tree.size, maxRssKiB: process.resourceUsage().maxRSS }));
  process.exit(0);
}

if (!existsSync(rootfs)) {
  console.error('bench: packages/rootfs/dist is missing; run `pnpm build` first');
  process.exit(1);
}
const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : dflt; };
const RUNS = arg('--runs', 2);
const SMALL = arg('--small-files', 100_000);
const work = mkdtempSync(join(tmpdir(), 'cpio-bench-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

function jre() {
  const dest = join(work, 'jre');
  const jdks = existsSync('/usr/lib/jvm') ? readdirSync('/usr/lib/jvm').map((d) => join('/usr/lib/jvm', d)).filter((d) => existsSync(join(d, 'bin/jlink')) && existsSync(join(d, 'jmods'))) : [];
  if (jdks.length) {
    const jdk = jdks.sort()[0];
    execFileSync(join(jdk, 'bin/jlink'), ['--add-modules', 'java.base,jdk.httpserver', '--strip-debug', '--no-man-pages', '--no-header-files', '--compress=2', '--output', dest], { stdio: 'ignore' });
    return { dest, label: `jlinked JRE (${jdk.split('/').pop()})` };
  }
  // No JDK: ~35 MB of real shared libraries (realistic compressibility).
  mkdirSync(dest);
  let total = 0;
  let n = 0;
  const src = '/usr/lib/x86_64-linux-gnu';
  for (const name of readdirSync(src).sort()) {
    const p = join(src, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st?.isFile() || st.size > 8 << 20) continue;
    copyFileSync(p, join(dest, `${n++}-${name}`));
    total += st.size;
    if (total > 35 << 20 || n >= 600) break;
  }
  return { dest, label: `${n} libraries from ${src}` };
}

function smallFiles(count) {
  const dest = join(work, 'small');
  let s = 12345;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const words = Array.from({ length: 500 }, (_, i) => `w${(i * 2654435761 >>> 0).toString(36)}`);
  for (let d = 0; d < count / 100; d++) {
    const dir = join(dest, `d${String(d).padStart(4, '0')}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < 100; f++) {
      let text = '';
      const size = Math.floor(rnd() * 2048);
      while (text.length < size) text += words[Math.floor(rnd() * words.length)] + (rnd() < 0.1 ? '\n' : ' ');
      writeFileSync(join(dir, `f${f}.txt`), text.slice(0, size));
    }
  }
  return { dest, label: `${count.toLocaleString('en')} small files` };
}

const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** Runs argv; returns wall ms and, with /usr/bin/time, CPU seconds (user+sys, all threads and children). */
function run(argv, opts = {}) {
  const t0 = performance.now();
  const r = TIME
    ? spawnSync(TIME, ['-f', 'TIME %U %S %M', ...argv], { encoding: 'utf8', ...opts })
    : spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', ...opts });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
  const m = /TIME ([\d.]+) ([\d.]+) (\d+)\s*$/.exec(r.stderr ?? '');
  return { ms, cpu: m ? Number(m[1]) + Number(m[2]) : NaN, stdout: r.stdout };
}

function bench({ dest, label }) {
  const refOut = join(work, 'ref.gz');
  const ourOut = join(work, 'ours.gz');
  const count = Number(execFileSync('sh', ['-c', 'find . | wc -l'], { cwd: dest }).toString());
  const best = { ref: Infinity, ours: Infinity, inproc: Infinity, refCpu: Infinity, ourCpu: Infinity, rss: 0 };
  for (let i = 0; i < RUNS; i++) {
    const a = run(['sh', '-c', `find . | cpio -o -H newc --quiet | gzip -6 > '${refOut}'`], { cwd: dest });
    best.ref = Math.min(best.ref, a.ms);
    best.refCpu = Math.min(best.refCpu, a.cpu);
    const b = run([process.execPath, fileURLToPath(import.meta.url), '--child', dest, ourOut]);
    const rep = JSON.parse(b.stdout);
    best.ours = Math.min(best.ours, b.ms);
    best.ourCpu = Math.min(best.ourCpu, b.cpu);
    best.inproc = Math.min(best.inproc, rep.ms);
    best.rss = Math.max(best.rss, rep.maxRssKiB);
  }
  // Sanity: both archives list the same number of entries (GNU cpio reads ours through zcat).
  const listed = Number(execFileSync('sh', ['-c', `zcat '${ourOut}' | cpio -it --quiet | wc -l`]).toString());
  if (listed !== count) throw new Error(`our archive lists ${listed} entries, the tree has ${count}`);
  const refSize = statSync(refOut).size;
  const ourSize = statSync(ourOut).size;
  return { label, count, ...best, speedup: best.ref / best.ours, refSize, ourSize, ratio: ourSize / refSize, rssMB: best.rss / 1024 };
}

const trees = [];
process.stderr.write('preparing trees...\n');
trees.push(jre());
trees.push(smallFiles(SMALL));
const rows = [];
for (const t of trees) {
  process.stderr.write(`benchmarking ${t.label}...\n`);
  rows.push(bench(t));
}
const mb = (n) => (n / 1e6).toFixed(2);
const os = await import('node:os');
console.log(`\ncpio newc + gzip -6, best of ${RUNS} runs, warm cache, ${process.version}, ${os.availableParallelism()} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log('| tree | entries | find\\|cpio\\|gzip -6 wall (cpu) | ours wall (cpu) | ours in-process | speedup, wall (target >= 1.5) | ref MB | ours MB | size ratio (target <= 1.01) | our peak RSS MB (target < 200) |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
const s = (ms) => (ms / 1000).toFixed(2);
for (const r of rows) {
  console.log(`| ${r.label} | ${r.count} | ${s(r.ref)} s (${r.refCpu.toFixed(2)} s) | ${s(r.ours)} s (${r.ourCpu.toFixed(2)} s) | ${s(r.inproc)} s | ${r.speedup.toFixed(2)}x | ${mb(r.refSize)} | ${mb(r.ourSize)} | ${r.ratio.toFixed(4)} | ${r.rssMB.toFixed(0)} |`);
}
console.log('wall = elapsed time of the whole command (ours includes node start-up); cpu = user+sys of all its processes and threads.');
