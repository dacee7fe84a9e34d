// Bench: extract Debian's cloud kernel .deb with extractDeb vs `dpkg-deb -x`, same file, same run.
// Runnable alone (`pnpm build && node bench/deb-extract.bench.mjs`) or from bench/run.js via run().
// The .deb comes from the host's apt configuration (apt-get download into a temp dir); nothing
// is hard-coded. Prints one markdown table row: median of N runs each, the ratio, the median of the
// per-run ratios (each pair runs back to back, so it drifts less with other load on the machine), the
// ratio of the best runs (the least disturbed by other load: on a shared machine the closest to an idle
// one), and the CPU seconds each used (ours: all threads of this process; dpkg-deb: it and its
// children). With both tools keeping two cores busy, wall time follows CPU time. A second line splits
// ours: decoding data.tar.xz alone (xzDecompressFile, output discarded) and `xz -dc -T1` of the same
// member for scale, so the decoder's share of the extraction shows.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);

/** CPU seconds of waited-for children: proc(5) /proc/self/stat fields 16-17 (cutime, cstime), in clock ticks. */
function childCpu(ticksPerSecond) {
  const fields = readFileSync('/proc/self/stat', 'latin1').replace(/^.*\) /, '').split(' ');
  return (Number(fields[13]) + Number(fields[14])) / ticksPerSecond; // field N is at index N - 3 once "pid (comm) " is cut
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function run() {
  const { extractDeb, debTarMembers, planXzFileRegion, xzDecompressFile } = await import(new URL('../packages/kernel-fetch/dist/index.js', import.meta.url).href);
  const work = mkdtempSync(join(tmpdir(), 'mkimage-bench-deb-'));
  try {
    const deps = execFileSync('apt-cache', ['depends', 'linux-image-cloud-amd64']).toString();
    const pkg = /Depends: (linux-image-\S+-cloud-amd64)/.exec(deps)?.[1];
    if (!pkg) throw new Error('apt-cache knows no linux-image-cloud-amd64: configure a Debian mirror in apt sources');
    execFileSync('apt-get', ['download', pkg], { cwd: work, stdio: 'pipe' });
    const deb = join(work, readdirSync(work).find((n) => n.endsWith('.deb')));
    const ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString()) || 100;
    const ours = [];
    const dpkg = [];
    const oursCpu = [];
    const dpkgCpu = [];
    for (let i = 0; i < RUNS; i++) {
      // Alternate the order so neither tool always gets the warmer page cache.
      for (const which of i % 2 ? ['dpkg', 'ours'] : ['ours', 'dpkg']) {
        const out = join(work, `out-${which}-${i}`);
        const c0 = process.cpuUsage();
        const k0 = childCpu(ticks);
        const t0 = performance.now();
        if (which === 'ours') await extractDeb(deb, out, { verified: true }); // apt-get download checked its SHA256 against the signed index, as Archive.download does
        else execFileSync('dpkg-deb', ['-x', deb, out]);
        (which === 'ours' ? ours : dpkg).push((performance.now() - t0) / 1000);
        if (which === 'ours') {
          const c = process.cpuUsage(c0);
          oursCpu.push((c.user + c.system) / 1e6);
        } else dpkgCpu.push(childCpu(ticks) - k0);
        rmSync(out, { recursive: true, force: true });
      }
    }
    // Decoding alone: the data.tar.xz member's blocks through the workers, output dropped.
    let member;
    for await (const m of debTarMembers(deb)) {
      if (m.kind === 'data') member = { offset: m.member.offset, size: m.member.header.size, xz: m.compression === 'xz' };
      m.member.body.resume?.();
    }
    const decode = [];
    const decodeCpu = [];
    const native = [];
    if (member?.xz) {
      const plan = await planXzFileRegion(deb, member.offset, member.size);
      const xzFile = join(work, 'data.tar.xz');
      execFileSync('sh', ['-c', 'ar p "$1" data.tar.xz > "$2"', 'sh', deb, xzFile]);
      for (let i = 0; i < RUNS && plan; i++) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        for await (const chunk of xzDecompressFile(deb, member.offset, plan, 'bench')) void chunk;
        decode.push((performance.now() - t0) / 1000);
        const c = process.cpuUsage(c0);
        decodeCpu.push((c.user + c.system) / 1e6);
        const t1 = performance.now();
        execFileSync('sh', ['-c', 'xz -dc -T1 "$1" > /dev/null', 'sh', xzFile]);
        native.push((performance.now() - t1) / 1000);
      }
    }
    const pairRatio = median(ours.map((o, i) => o / dpkg[i]));
    const bestRatio = Math.min(...ours) / Math.min(...dpkg);
    const row = { name: `extract ${pkg}.deb`, ours: median(ours), dpkg: median(dpkg), pairRatio, bestRatio, oursCpu: median(oursCpu), dpkgCpu: median(dpkgCpu) };
    console.log('| bench | extractDeb | dpkg-deb -x | ratio (ours/dpkg, lower is better) | median per-run ratio | best-run ratio | CPU s ours / dpkg |');
    console.log('|---|---|---|---|---|---|---|');
    console.log(
      `| ${row.name} | ${row.ours.toFixed(2)} s | ${row.dpkg.toFixed(2)} s | ${(row.ours / row.dpkg).toFixed(2)} | ${pairRatio.toFixed(2)} | ${bestRatio.toFixed(2)} | ${row.oursCpu.toFixed(2)} / ${row.dpkgCpu.toFixed(2)} |`,
    );
    console.log(`runs (s): extractDeb ${ours.map((x) => x.toFixed(2)).join(' ')}; dpkg-deb ${dpkg.map((x) => x.toFixed(2)).join(' ')}`);
    if (decode.length) {
      row.decode = median(decode);
      console.log(`decode data.tar.xz only (s): xzDecompressFile ${median(decode).toFixed(2)} wall, ${median(decodeCpu).toFixed(2)} CPU; xz -dc -T1 ${median(native).toFixed(2)} wall`);
    }
    return row;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
