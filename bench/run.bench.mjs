#!/usr/bin/env node
// Bench: `mkimage run` against booting the same image with a hand-written QEMU command line.
//
//   pnpm build && node bench/run.bench.mjs [--runs N] [--image DIR]
//
// Builds the hello sample as an initramfs directory (or takes --image), then boots it N times each:
//   hand        qemu-system-x86_64 with the options a user would type (same machine, accelerator
//               options, env file over fw_cfg, port forward), spawned directly;
//   hand-mttcg  under TCG, the same with multi-threaded TCG (QEMU's own default), for what
//               mkimage run's single-threaded TCG costs in boot time;
//   cli         `node packages/cli/dist/bundle/mkimage.js run DIR -e ... -p ...` (node start, module loading,
//               image/QEMU/port checks, env file, then the same QEMU);
//   runImage()  the library call inside this process (no node start, no CLI modules).
// Clock: spawn (or call) to the first HTTP 200 from the app, polled every 20 ms on the forwarded
// port; each boot is ended with GET /exit/0. Runs alternate the order. Also measured without the
// boot's noise: for cli, spawn to the "mkimage run: ..." line it prints right after starting QEMU;
// for runImage(), its own prepareMs. Target: overhead < 100 ms.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';

const cliDist = new URL('../packages/cli/dist/index.js', import.meta.url);
const mainJs = new URL('../packages/cli/dist/bundle/mkimage.js', import.meta.url).pathname;
const { build, runImage, findQemu, freePort } = await import(cliDist.href);

const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : dflt; };
const RUNS = Number(arg('--runs', 3));
const work = mkdtempSync(join(tmpdir(), 'mkimage-run-bench-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const delay = (ms) => new Promise((r) => setTimeout(r, ms));

let image = arg('--image');
if (!image) {
  const jar = (await new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [new URL('../fixtures/hello/build.mjs', import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('close', (code) => (code === 0 ? resolve(out.trim().split('\n').pop()) : reject(new Error(`fixtures/hello/build.mjs exited ${code}`))));
  }));
  image = join(work, 'hello');
  const t0 = performance.now();
  await build({ app: jar, output: image, format: 'initramfs', lockFile: join(work, 'mkimage.lock') });
  console.log(`built ${image} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
const qemu = await findQemu();
const cmdline = readFileSync(join(image, 'cmdline'), 'utf8').trim();
const envFile = join(work, 'hand.env');
writeFileSync(envFile, 'GREETING="bench"\n', { mode: 0o600 });

/** Polls GET / every 20 ms until 200; resolves with performance.now() at that answer. */
async function first200(port, stillRunning) {
  for (;;) {
    if (!stillRunning()) throw new Error('the machine ended before answering');
    const ok = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.status === 200, () => false);
    if (ok) return performance.now();
    await delay(20);
  }
}

async function stopApp(port) {
  await fetch(`http://127.0.0.1:${port}/exit/0`).catch(() => undefined);
}

function spawnTimed(cmd, args) {
  const t0 = performance.now();
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let running = true;
  let startedLineAt;
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d) => {
    err += d;
    if (startedLineAt === undefined && /mkimage run: /.test(err)) startedLineAt = performance.now();
  });
  const done = new Promise((r) => child.on('close', (code) => { running = false; r(code); }));
  return { t0, child, done, running: () => running, startedLineAt: () => startedLineAt, stderr: () => err };
}

/** The -accel value mkimage run passes (single-threaded TCG), or QEMU's default for TCG. */
const accelArg = (mttcg) => (qemu.accel === 'tcg' ? `tcg,thread=${mttcg ? 'multi' : 'single'}` : qemu.accel);

async function hand(mttcg = false) {
  const port = await freePort();
  // The command line a user would write for this image (README: direct kernel boot).
  const p = spawnTimed(qemu.binary, [
    '-machine', 'pc', '-accel', accelArg(mttcg), '-m', '512', '-smp', '2',
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    '-kernel', join(image, 'vmlinuz'), '-initrd', join(image, 'initrd.img'), '-append', cmdline,
    '-netdev', `user,id=net0,hostfwd=tcp:127.0.0.1:${port}-:8080`, '-device', 'virtio-net-pci,netdev=net0',
    '-fw_cfg', `name=opt/mkimage/env,file=${envFile}`,
    '-serial', 'stdio', '-monitor', 'none',
  ]);
  const at = await first200(port, p.running);
  await stopApp(port);
  await p.done;
  return { ms: at - p.t0 };
}

async function cli() {
  const port = await freePort();
  const p = spawnTimed(process.execPath, [mainJs, 'run', image, '-e', 'GREETING=bench', '-p', `${port}:8080`]);
  const at = await first200(port, p.running);
  await stopApp(port);
  const code = await p.done;
  if (code !== 0) throw new Error(`mkimage run exited ${code}: ${p.stderr()}`);
  return { ms: at - p.t0, prepMs: p.startedLineAt() - p.t0 };
}

async function lib() {
  const port = await freePort();
  let running = true;
  const t0 = performance.now();
  const done = runImage({ image, env: { GREETING: 'bench' }, ports: [{ hostPort: port, guestPort: 8080 }], qemu, onConsole: () => {} })
    .finally(() => { running = false; });
  const at = await first200(port, () => running);
  await stopApp(port);
  const r = await done;
  return { ms: at - t0, prepMs: r.timings.prepareMs };
}

const sides = { hand, cli, lib, 'hand-mttcg': () => hand(true) };
const results = { hand: [], cli: [], lib: [], 'hand-mttcg': [] };
const order = ['hand', 'cli', 'lib', ...(qemu.accel === 'tcg' ? ['hand-mttcg'] : [])];
for (let i = 0; i < RUNS; i++) {
  const o = order.slice(i % order.length).concat(order.slice(0, i % order.length));
  for (const s of o) {
    const r = await sides[s]();
    results[s].push(r);
    console.log(`run ${i + 1} ${s}: first HTTP 200 after ${(r.ms / 1000).toFixed(2)} s${r.prepMs !== undefined ? `, QEMU started after ${r.prepMs.toFixed(0)} ms` : ''}`);
  }
}

const h = median(results.hand.map((r) => r.ms));
const row = (name, rs) => {
  const m = median(rs.map((r) => r.ms));
  const prep = rs[0].prepMs === undefined ? '-' : `${median(rs.map((r) => r.prepMs)).toFixed(0)} ms`;
  return `| ${name} | ${(m / 1000).toFixed(2)} s | ${rs.map((r) => (r.ms / 1000).toFixed(2)).join(', ')} | ${name === 'hand-written qemu' ? '-' : `${(m - h).toFixed(0)} ms`} | ${prep} |`;
};
console.log(`\nmkimage run vs a hand-written QEMU command line: ${image}, accel ${qemu.accel}, ${RUNS} runs each, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
console.log('| how | first HTTP 200 (median) | runs | overhead vs hand (median diff) | spawn/call -> QEMU started (median) |');
console.log('|---|---|---|---|---|');
console.log(row('hand-written qemu', results.hand));
console.log(row('mkimage run (CLI)', results.cli));
console.log(row('runImage() (library)', results.lib));
if (results['hand-mttcg'].length) console.log(row('hand-written, multi-threaded TCG', results['hand-mttcg']));
console.log('Target: overhead < 100 ms. Under TCG the boot itself varies by more than that between runs; the last column is the overhead without that noise.');
if (results['hand-mttcg'].length) console.log('The multi-threaded TCG row is what mkimage run gives up for reliability (--tcg-threads multi restores it): with it, the JVM of a booted app now and then crashed.');
