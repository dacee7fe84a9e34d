#!/usr/bin/env node
// Bench: the disk writers against the native tools on the same layouts, in one run.
//
//   pnpm build && node bench/disk.bench.mjs [--runs N]
//
// 1. FAT ESP of ~30 MB (kernel- and initrd-sized files + a few small ones): planFat + emitFat to a
//    file vs `truncate` + `mkfs.vfat` + `mmd` + `mcopy` into an image of the same size.
// 2. GPT assembly of a 1 GiB disk (40 MiB ESP + root taking the rest, no content): planDisk +
//    emitDisk written sparse vs `truncate` + `sgdisk -o -n ... -t ...` (sgdisk's wall time includes
//    a ~1 s pause it takes after syncing; see the note printed with the table).
// 3. UKI: planUki + emitUki vs `objcopy --add-section/--change-section-vma` (what ukify's
//    predecessors ran), when the stub is installed.
// Neither side fsyncs. Median of N runs, alternating which side goes first. Prints a markdown table.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const disk = new URL('../packages/disk/dist/index.js', import.meta.url);
const rootfs = new URL('../packages/rootfs/dist/index.js', import.meta.url);
if (!existsSync(disk) || !existsSync(rootfs)) {
  console.error('bench: run `pnpm build` first');
  process.exit(1);
}
const { planFat, emitFat, planDisk, emitDisk, planUki, emitUki, writeImage, ESP_TYPE_GUID, LINUX_ROOT_X86_64_TYPE_GUID } = await import(disk.href);
const { FileTree } = await import(rootfs.href);

const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : dflt; };
const RUNS = arg('--runs', 5);
const work = mkdtempSync(join(tmpdir(), 'mkimage-disk-bench-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
const sh = (cmd, args) => execFileSync(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** Incompressible-looking bytes, generated once. */
function blob(name, size) {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(name).digest();
  for (let i = 0; i < size; i += 32) { block.copy(out, i); block = createHash('sha256').update(block).digest(); }
  const p = join(work, name);
  writeFileSync(p, out);
  return p;
}

async function compare(name, ours, native) {
  const a = [];
  const b = [];
  for (let i = 0; i < RUNS; i++) {
    for (const side of i % 2 ? ['native', 'ours'] : ['ours', 'native']) {
      const t0 = performance.now();
      if (side === 'ours') await ours(i); else native(i);
      (side === 'ours' ? a : b).push((performance.now() - t0) / 1000);
    }
  }
  return { name, ours: median(a), native: median(b) };
}

const rows = [];

// 1. FAT
const files = [
  ['vmlinuz', blob('vmlinuz', 14_200_000)],
  ['initrd.img', blob('initrd', 14_000_000)],
  ['EFI/BOOT/BOOTX64.EFI', blob('bootx64', 1_500_000)],
  ['syslinux.cfg', blob('cfg', 300)],
  ['loader/entries/mkimage.conf', blob('entry', 200)],
];
const tree = new FileTree({ mtime: 1700000000 });
for (const [p, host] of files) tree.hostFile(p, host, statSync(host).size);
const fatSize = planFat(tree, { label: 'ESP' }).sizeBytes;
// mkfs.vfat + mcopy need more room than our 'fit' size (different cluster/reserved choices and
// mcopy's allocation): find the smallest whole MiB they accept, outside the timing.
let nativeFatSize = Math.ceil(fatSize / 2 ** 20) * 2 ** 20;
for (;; nativeFatSize += 2 ** 20) {
  const probe = join(work, 'probe.fat');
  try {
    sh('truncate', ['-s', String(nativeFatSize), probe]);
    sh('mkfs.vfat', ['-n', 'ESP', probe]);
    for (const d of ['EFI', 'EFI/BOOT', 'loader', 'loader/entries']) sh('mmd', ['-i', probe, `::/${d}`]);
    for (const [p, host] of files) sh('mcopy', ['-i', probe, host, `::/${p}`]);
    break;
  } catch { /* too small: next MiB */ } finally { rmSync(probe, { force: true }); }
}
rows.push(await compare(`FAT ESP, ${files.length} files (ours ${(fatSize / 2 ** 20).toFixed(2)} MiB fit, native ${nativeFatSize / 2 ** 20} MiB)`, async (i) => {
  const out = join(work, `ours-${i}.fat`);
  await writeImage(out, emitFat(planFat(tree, { label: 'ESP', epoch: 1700000000, hiddenSectors: 2048 })), { fsync: false });
  rmSync(out);
}, (i) => {
  const out = join(work, `native-${i}.fat`);
  sh('truncate', ['-s', String(nativeFatSize), out]);
  sh('mkfs.vfat', ['-n', 'ESP', '-h', '2048', out]);
  for (const d of ['EFI', 'EFI/BOOT', 'loader', 'loader/entries']) sh('mmd', ['-i', out, `::/${d}`]);
  for (const [p, host] of files) sh('mcopy', ['-i', out, host, `::/${p}`]);
  rmSync(out);
}));

// 2. GPT
const GIB = 2 ** 30;
rows.push(await compare('GPT 1 GiB, 2 partitions (sparse)', async (i) => {
  const out = join(work, `ours-${i}.img`);
  const plan = planDisk({
    seed: 'bench', sizeBytes: GIB,
    partitions: [
      { name: 'ESP', typeGuid: ESP_TYPE_GUID, size: 40 << 20 },
      { name: 'root', typeGuid: LINUX_ROOT_X86_64_TYPE_GUID, size: 1 << 20, grow: true },
    ],
  });
  await writeImage(out, emitDisk(plan), { fsync: false });
  rmSync(out);
}, (i) => {
  const out = join(work, `native-${i}.img`);
  sh('truncate', ['-s', String(GIB), out]);
  sh('sgdisk', ['-o', '-n', '1:2048:+40M', '-t', '1:ef00', '-c', '1:ESP', '-n', '2:0:0', '-t', '2:8304', '-c', '2:root', out]);
  rmSync(out);
}));

// 3. UKI (optional)
const STUB = process.env.MKIMAGE_EFI_STUB ?? '/usr/lib/systemd/boot/efi/linuxx64.efi.stub';
if (existsSync(STUB)) {
  const stub = readFileSync(STUB);
  const kernel = files[0][1];
  const initrd = files[1][1];
  const cmdline = join(work, 'cmdline');
  writeFileSync(cmdline, 'console=ttyS0 ro');
  const { createReadStream } = await import('node:fs');
  const section = (name, path) => ({ name, size: statSync(path).size, open: () => createReadStream(path) });
  rows.push(await compare('UKI (stub + 14 MB kernel + 14 MB initrd)', async (i) => {
    const out = join(work, `ours-${i}.efi`);
    const plan = planUki({ stub, sections: [section('.cmdline', cmdline), section('.initrd', initrd), section('.linux', kernel)] });
    await writeImage(out, emitUki(plan), { sparse: false, fsync: false });
    rmSync(out);
  }, (i) => {
    const out = join(work, `native-${i}.efi`);
    // Same VMAs as ours, so the work is the same.
    const plan = planUki({ stub, sections: [section('.cmdline', cmdline), section('.initrd', initrd), section('.linux', kernel)] });
    const args = [];
    for (const [s, p] of plan.sections.map((s, k) => [s, [cmdline, initrd, kernel][k]])) {
      args.push('--add-section', `${s.name}=${p}`, '--change-section-vma', `${s.name}=0x${s.virtualAddress.toString(16)}`);
    }
    sh('objcopy', [...args, STUB, out]);
    rmSync(out);
  }));
}

console.log(`\n| task | ours (s) | native (s) | native / ours |`);
console.log(`|---|---|---|---|`);
for (const r of rows) console.log(`| ${r.name} | ${r.ours.toFixed(3)} | ${r.native.toFixed(3)} | ${(r.native / r.ours).toFixed(2)}x |`);
console.log(`\nmedian of ${RUNS} runs; native = truncate + mkfs.vfat + mmd + mcopy / truncate + sgdisk / objcopy`);
console.log('note: sgdisk syncs and then sleeps about 1 s before asking the kernel to re-read the table (its');
console.log('user+sys CPU is a few ms), so the GPT ratio measures that pause more than the work.');
