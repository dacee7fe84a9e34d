// The hello app.img from a warm cache: `mkimage hello.jar -o app.img` end to end, against the same
// image assembled with native tools (mkfs.ext4 -d, cpio | gzip -6, objcopy, mkfs.vfat + mcopy +
// syslinux, sgdisk, dd) from the same staged trees; for BIOS the native layout needs the kernel and
// initramfs as files beside the UKI (syslinux cannot read the UKI), ours boots them from the UKI. Then boot to first HTTP 200 under TCG for the
// initramfs, UEFI and BIOS paths. Run after `pnpm build`: node bench/image.bench.mjs
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'packages/cli/dist/bundle/mkimage.js');
const { bootAndWait, qemuArgs, findOvmf, copyOvmfVars } = await import(join(root, 'packages/cli/dist/index.js'));
const work = mkdtempSync(join(tmpdir(), 'mkimage-image-bench-'));
const sh = (script, opts = {}) => execFileSync('/bin/bash', ['-euo', 'pipefail', '-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (fn) => { const t = process.hrtime.bigint(); fn(); return Number(process.hrtime.bigint() - t) / 1e9; };
const RUNS = 5;

try {
  const jar = execFileSync(process.execPath, [join(root, 'fixtures/hello/build.mjs')], { encoding: 'utf8' }).trim().split('\n').pop();
  const lock = join(work, 'mkimage.lock');
  const build = (out, extra = []) => {
    const r = spawnSync(process.execPath, [main, jar, '-q', '--lock', lock, '-o', out, ...extra], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
  };
  build(join(work, 'warm.img')); // fills the cache (downloads, jlink, jdeps)

  // Ours, warm: the whole command, node start-up included.
  const ours = join(work, 'ours.img');
  build(ours); // timed below, interleaved with the native pipelines

  // Stage the same trees for the native tools (not timed): the root file system, the small
  // initramfs, the ESP's files, and the boot pieces from the Debian packages in mkimage's cache.
  const parts = JSON.parse(sh(`sfdisk --json ${ours}`)).partitiontable.partitions;
  const [esp, rootPart] = parts;
  sh(`dd if=${ours} of=${work}/esp.fat bs=512 skip=${esp.start} count=${esp.size} status=none
      dd if=${ours} of=${work}/root.ext4 bs=512 skip=${rootPart.start} count=${rootPart.size} status=none
      mkdir -p ${work}/rootdir ${work}/initrddir ${work}/espfiles
      debugfs -R 'rdump / ${work}/rootdir' ${work}/root.ext4 2>/dev/null
      mcopy -s -i ${work}/esp.fat ::EFI ${work}/espfiles/`);
  // Our ESP holds only the UKI (our BIOS loader reads its sections); the native layout keeps the
  // kernel and initramfs as files for syslinux, as the native tools must.
  const uki = join(work, 'espfiles/EFI/BOOT/BOOTX64.EFI');
  sh(`objcopy -O binary --only-section=.osrel ${uki} ${work}/osrel; objcopy -O binary --only-section=.cmdline ${uki} ${work}/cmdline
      objcopy --dump-section .linux=${work}/espfiles/vmlinuz --dump-section .initrd=${work}/initrd.img ${uki} ${work}/uki.tmp
      cd ${work}/initrddir && zcat ../initrd.img 2>/dev/null | cpio -idm --quiet 2>/dev/null || true`);
  const cmdlineText = readFileSync(join(work, 'cmdline'), 'utf8').replace(/\0+$/, '');
  writeFileSync(join(work, 'espfiles/syslinux.cfg'), `DEFAULT linux\nPROMPT 0\nTIMEOUT 0\nSERIAL 0 115200\nLABEL linux\n  LINUX /vmlinuz\n  INITRD /initrd.img\n  APPEND ${cmdlineText}\n`);
  const cache = process.env.XDG_CACHE_HOME ? join(process.env.XDG_CACHE_HOME, 'mkimage') : join(process.env.HOME ?? '/root', '.cache/mkimage');
  const find = (name) => sh(`find ${cache} -path '*${name}' -type f | head -n1`).trim();
  const stub = find('systemd/boot/efi/linuxx64.efi.stub');
  const syslinux = find('usr/bin/syslinux');
  const gptmbr = find('SYSLINUX/gptmbr.bin');
  const MiB = 1 << 20;
  // Native layouts: `bios` adds syslinux and the kernel and initramfs again as ESP files (the same
  // boot paths as ours); without it, UEFI only, a strict subset of the work mkimage does.
  const nativeLayout = (bios) => {
    const espBytes = Math.ceil((statSync(uki).size + (bios ? statSync(join(work, 'espfiles/vmlinuz')).size + statSync(join(work, 'initrd.img')).size : 0) + 2 * MiB) / MiB) * MiB;
    const rootBytes = rootPart.size * 512;
    const nEsp = { start: 2048, size: espBytes / 512 };
    const nRoot = { start: nEsp.start + nEsp.size, size: rootPart.size };
    const diskBytes = Math.ceil(((nRoot.start + nRoot.size) * 512 + 33 * 512) / MiB) * MiB;
    return `cd ${work}; rm -f n-*
    (cd initrddir && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -6) > n-initrd.img
    objcopy --add-section .osrel=osrel --change-section-vma .osrel=0x20000 \\
      --add-section .cmdline=cmdline --change-section-vma .cmdline=0x30000 \\
      --add-section .initrd=n-initrd.img --change-section-vma .initrd=0x3000000 \\
      --add-section .linux=espfiles/vmlinuz --change-section-vma .linux=0x2000000 ${stub} n-BOOTX64.EFI
    mkfs.ext4 -q -F -d rootdir -L root -O ^has_journal n-root.ext4 ${Math.floor(rootBytes / 1024)}k
    truncate -s ${espBytes} n-esp.fat; mkfs.vfat -n ESP n-esp.fat >/dev/null
    mmd -i n-esp.fat ::EFI ::EFI/BOOT; mcopy -i n-esp.fat n-BOOTX64.EFI ::EFI/BOOT/BOOTX64.EFI
    ${bios ? `mcopy -i n-esp.fat espfiles/vmlinuz n-initrd.img espfiles/syslinux.cfg ::
    ${syslinux} --install n-esp.fat` : ''}
    truncate -s ${diskBytes} n-disk.img
    sgdisk -q -n 1:${nEsp.start}:+${nEsp.size} -t 1:ef00 ${bios ? '-A 1:set:2' : ''} -n 2:${nRoot.start}:+${nRoot.size} -t 2:8304 n-disk.img
    dd if=n-esp.fat of=n-disk.img bs=1M seek=${nEsp.start * 512} oflag=seek_bytes conv=notrunc,sparse status=none
    dd if=n-root.ext4 of=n-disk.img bs=1M seek=${nRoot.start * 512} oflag=seek_bytes conv=notrunc,sparse status=none
    ${bios ? `dd if=${gptmbr} of=n-disk.img bs=440 count=1 conv=notrunc status=none` : ''}`;
  };
  const native = nativeLayout(true);
  const nativeUefi = nativeLayout(false);
  const nativeTimes = [];
  const nativeUefiTimes = [];
  const oursTimes = [];
  for (let i = 0; i < RUNS; i++) { // interleaved, so all see the same load
    oursTimes.push(time(() => build(ours)));
    nativeUefiTimes.push(time(() => sh(nativeUefi)));
    nativeTimes.push(time(() => sh(native)));
  }
  const alloc = (f) => statSync(f).blocks * 512;
  const nativeImg = join(work, 'n-disk.img');
  sh(nativeUefi);
  const nativeUefiAlloc = alloc(nativeImg);
  sh(native); // the full native image stays for the size rows and sgdisk -v
  const mib = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const rows = [
    [`hello app.img, warm cache (median of ${RUNS})`, `${median(oursTimes).toFixed(2)} s`, `${median(nativeTimes).toFixed(2)} s`, `${(median(nativeTimes) / median(oursTimes)).toFixed(2)}x faster`],
    ['… against native UEFI-only (no BIOS path, no kernel copy)', `${median(oursTimes).toFixed(2)} s`, `${median(nativeUefiTimes).toFixed(2)} s`, `${(median(nativeUefiTimes) / median(oursTimes)).toFixed(2)}x faster`],
    ['image size (apparent)', mib(statSync(ours).size), mib(statSync(nativeImg).size), `${(statSync(ours).size / statSync(nativeImg).size).toFixed(3)}`],
    ['image size (allocated)', mib(alloc(ours)), mib(alloc(nativeImg)), `${(alloc(ours) / alloc(nativeImg)).toFixed(3)}`],
    ['image size (allocated), against native UEFI-only', mib(alloc(ours)), mib(nativeUefiAlloc), `${(alloc(ours) / nativeUefiAlloc).toFixed(3)}`],
  ];

  // Boot to first HTTP 200 under TCG (the machine's only load should be this).
  const boot = async (args) => {
    const b = await bootAndWait({ args, ready: { httpPort: 8080, path: '/', body: 'hello' }, timeoutMs: 180_000, retries: 2 });
    await b.stop();
    return b.timings.firstHttp200Ms / 1000;
  };
  const dir = join(work, 'initramfs');
  build(dir, ['--format', 'initramfs']);
  const append = readFileSync(join(dir, 'cmdline'), 'utf8').trim();
  const direct = await boot(({ hostPort }) => qemuArgs({ machine: 'pc', memoryMiB: 512, cpus: 2, kernel: { kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.img'), append }, net: { hostfwd: [{ hostPort, guestPort: 8080 }] } }));
  const bios = await boot(({ hostPort }) => qemuArgs({ machine: 'pc', memoryMiB: 512, cpus: 2, disks: [{ file: ours }], net: { hostfwd: [{ hostPort, guestPort: 8080 }] } }));
  const ovmf = await findOvmf();
  const vars = ovmf.kind === 'pflash' ? await copyOvmfVars(ovmf) : undefined;
  const firmware = vars ? { pflash: { code: ovmf.code, vars: vars.path } } : { bios: ovmf.path };
  const uefi = await boot(({ hostPort }) => qemuArgs({ machine: 'q35', memoryMiB: 512, cpus: 2, firmware, disks: [{ file: ours, bus: 'nvme' }], net: { hostfwd: [{ hostPort, guestPort: 8080 }] } }));
  await vars?.cleanup();
  const designRef = { direct: 5.6, bios: 5.25, uefi: 8.8 }; // shared/DESIGN.md, prototype with native tools
  rows.push(
    ['first HTTP 200, initramfs (direct kernel)', `${direct.toFixed(1)} s`, `${designRef.direct} s (prototype)`, `${(designRef.direct / direct).toFixed(2)}`],
    ['first HTTP 200, SeaBIOS + our loader, virtio', `${bios.toFixed(1)} s`, `${designRef.bios} s (prototype)`, `${(designRef.bios / bios).toFixed(2)}`],
    ['first HTTP 200, OVMF + UKI, NVMe', `${uefi.toFixed(1)} s`, `${designRef.uefi} s (prototype)`, `${(designRef.uefi / uefi).toFixed(2)}`],
  );
  console.log('| what | mkimage | native tools | ratio |\n|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  console.log(`\nsgdisk -v on the native image: ${sh(`sgdisk -v ${nativeImg} | grep -c 'No problems' || true`).trim() === '1' ? 'ok' : 'problems'}; ours: ${sh(`sgdisk -v ${ours} | grep -c 'No problems' || true`).trim() === '1' ? 'ok' : 'problems'}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
