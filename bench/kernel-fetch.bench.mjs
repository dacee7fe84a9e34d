// Warm-cache resolve of the cloud kernel + busybox-static + openjdk-17-jdk-headless closure against
// bookworm (+ -updates, -security). Target: well under 1 s. Needs a mirror (MKIMAGE_DEBIAN_MIRROR or
// apt sources) and `pnpm build`. Cache: MKIMAGE_BENCH_CACHE_DIR, else the user cache.
// "in-process" times a fresh openArchive + resolve (InRelease freshness checks + cached parsed
// indexes); "--offline" is the same with no request; "process" is a whole new node process.
import { spawnSync } from 'node:child_process';
import { openArchive, resolveKernel } from '../packages/kernel-fetch/dist/index.js';

const cacheDir = process.env.MKIMAGE_BENCH_CACHE_DIR || undefined;
const ROOTS = ['busybox-static', 'openjdk-17-jdk-headless'];

async function once(offline) {
  const t0 = performance.now();
  const archive = await openArchive({ cacheDir, offline });
  const k = await resolveKernel(archive);
  const pkgs = await archive.resolve([k.package.name, ...ROOTS], { closure: true });
  return { ms: performance.now() - t0, n: pkgs.length, kernel: `${k.package.name} ${k.version}` };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

let warm;
try {
  warm = await once(false); // fills the cache when cold (not timed)
} catch (err) {
  console.log(`kernel-fetch resolve bench skipped: ${err.message}`);
  process.exit(0);
}
const rows = [];
for (const offline of [false, true]) {
  const times = [];
  for (let i = 0; i < 5; i++) times.push((await once(offline)).ms);
  rows.push([offline ? 'in-process, --offline' : 'in-process, freshness check', median(times)]);
}
const script = `import('${new URL('../packages/kernel-fetch/dist/index.js', import.meta.url).href}').then(async (m) => {
  const a = await m.openArchive({ cacheDir: ${JSON.stringify(cacheDir)} });
  const k = await m.resolveKernel(a);
  await a.resolve([k.package.name, ...${JSON.stringify(ROOTS)}], { closure: true });
})`;
const proc = [];
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('child failed');
  proc.push(performance.now() - t0);
}
rows.push(['new node process (startup + imports)', median(proc)]);

console.log(`kernel ${warm.kernel}; closure of kernel + ${ROOTS.join(' + ')}: ${warm.n} packages`);
console.log('| bench | median time | target |');
console.log('|---|---|---|');
for (const [name, ms] of rows) console.log(`| warm resolve, ${name} | ${(ms / 1000).toFixed(3)} s | < 1 s |`);
