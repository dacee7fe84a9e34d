// The headline command, end to end: `mkimage app.jar -o app.img` gives one raw GPT disk that the
// independent tools accept (sgdisk, fdisk, fsck.fat, e2fsck, objdump, qemu-img) and that boots to
// the app answering HTTP with OVMF (virtio-blk and NVMe) and with SeaBIOS.
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from '../src/build/build.js';
import { bootAndWait, copyOvmfVars, findOvmf, qemuArgs, type Firmware } from '../src/qemu/index.js';
import { helloJar, liveSkipReason, tempDir } from './helpers/live.js';

const skip = (await liveSkipReason()) ?? false;
if (skip) t.comment(`skipping disk image tests: ${skip}`);

const BOOT_TIMEOUT_MS = 150_000;
const run = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

interface Partition { node: string; start: number; size: number; type: string; uuid: string; name: string; attrs?: string }

function partitions(img: string): Partition[] {
  return JSON.parse(run('sfdisk', ['--json', img])).partitiontable.partitions as Partition[];
}

/** Copies a partition out of the disk image (sectors of 512 bytes) for the file system checkers. */
function extract(img: string, p: Partition, to: string): string {
  run('dd', [`if=${img}`, `of=${to}`, 'bs=512', `skip=${p.start}`, `count=${p.size}`, 'status=none']);
  return to;
}

async function bootDisk(t: Test, img: string, fw: 'uefi' | 'bios', bus: 'virtio' | 'nvme'): Promise<number> {
  let firmware: Firmware = 'seabios';
  let cleanup = async (): Promise<void> => {};
  if (fw === 'uefi') {
    const ovmf = await findOvmf();
    if (ovmf.kind === 'pflash') {
      const vars = await copyOvmfVars(ovmf);
      cleanup = () => vars.cleanup();
      firmware = { pflash: { code: ovmf.code, vars: vars.path } };
    } else firmware = { bios: ovmf.path };
  }
  try {
    const booted = await bootAndWait({
      args: ({ hostPort }) => qemuArgs({
        machine: fw === 'uefi' ? 'q35' : 'pc', memoryMiB: 512, cpus: 2, firmware,
        disks: [{ file: img, bus }], net: { hostfwd: [{ hostPort: hostPort!, guestPort: 8080 }] },
      }),
      ready: { httpPort: 8080, path: '/', body: 'hello' },
      timeoutMs: BOOT_TIMEOUT_MS, retries: 2,
    });
    await booted.stop();
    t.match(booted.console(), /mkimage-init: up in/, 'the init stage ran from the small initramfs');
    return booted.timings.firstHttp200Ms ?? booted.timings.readyMs;
  } finally {
    await cleanup();
  }
}

t.test('app.img: valid for the independent tools, boots with UEFI (virtio, NVMe) and BIOS', { skip }, async (t) => {
  const { dir, cleanup } = await tempDir('mkimage-disk-');
  t.teardown(cleanup);
  const jar = await helloJar();
  const img = join(dir, 'app.img');
  const result = await build({ app: jar, output: img, format: 'raw', lockFile: join(dir, 'mkimage.lock') });
  t.equal(result.parts[0]!.bytes, statSync(img).size, 'the reported size is the file size');
  t.ok(statSync(img).blocks * 512 < statSync(img).size, 'sparse: holes stay holes');
  t.comment(`image ${statSync(img).size} bytes (${statSync(img).blocks * 512} allocated); ${result.parts.map((p) => `${p.name.trim()} ${p.bytes}`).join(', ')}`);

  // GPT: both tools agree it is sound (our BIOS loader's stage 2 lies in the gap after the entry array).
  t.match(run('sgdisk', ['-v', img]), /No problems found/);
  t.match(run('fdisk', ['-l', img]), /Disklabel type: gpt/);
  const [esp, root] = partitions(img);
  t.equal(esp!.type, 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', 'partition 1 is the EFI system partition');
  t.equal(root!.type, '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709', 'partition 2 is an x86-64 Linux root');
  t.equal(esp!.start % 2048, 0, 'aligned to 1 MiB');

  // ESP: FAT clean; the UKI has its sections where they belong.
  const espImg = extract(img, esp!, join(dir, 'esp.fat'));
  t.doesNotThrow(() => run('fsck.fat', ['-n', espImg]), 'fsck.fat -n: clean');
  const uki = join(dir, 'BOOTX64.EFI');
  run('mcopy', ['-i', espImg, '::EFI/BOOT/BOOTX64.EFI', uki]);
  const sections = run('objdump', ['-h', uki]);
  for (const s of ['.osrel', '.cmdline', '.initrd', '.linux']) t.match(sections, new RegExp(`\\s${s.replace('.', '\\.')}\\s`), `UKI has ${s}`);
  run('objcopy', ['-O', 'binary', '--only-section=.cmdline', uki, join(dir, 'cmdline')]);
  t.match(readFileSync(join(dir, 'cmdline'), 'utf8'), /console=ttyS0/);
  // The kernel is stored once: the ESP holds only the UKI (the BIOS loader reads its sections).
  t.same(run('mdir', ['-a', '-b', '-i', espImg, '::']).trim().split('\n'), ['::/EFI/'], 'the ESP root holds only EFI/');
  t.same(run('mdir', ['-a', '-b', '-i', espImg, '::EFI/BOOT']).trim().split('\n'), ['::/EFI/BOOT/BOOTX64.EFI'], 'EFI/BOOT holds only the UKI');
  const ukiBytes = statSync(uki).size;
  t.ok(esp!.size * 512 < ukiBytes + (1 << 20), `the ESP (${esp!.size * 512} bytes) is the UKI (${ukiBytes}) plus under 1 MiB of FAT`);
  const rootUsed = Number(/Block count:\s+(\d+)/.exec(run('dumpe2fs', ['-h', extract(img, root!, join(dir, 'root0.ext4'))]))![1]) * 4096;
  const allocated = statSync(img).blocks * 512;
  t.ok(allocated < ukiBytes + rootUsed + (2 << 20), `allocated ${allocated} bytes: the UKI, the root file system (${rootUsed}) and under 2 MiB more`);
  // The MBR and stage 2 are ours (packages/disk/src/bios): the only BIOS path, no syslinux.
  const head = Buffer.alloc(40 * 512);
  const fd = openSync(img, 'r');
  readSync(fd, head, 0, head.length, 0);
  closeSync(fd);
  t.equal(head.readUInt16LE(510), 0xaa55, 'MBR signature');
  t.ok(head.subarray(34 * 512).includes(Buffer.from('MKL2')), 'stage 2 at LBA 34');

  // Root: e2fsck clean, read-only app tree inside.
  const rootImg = extract(img, root!, join(dir, 'root.ext4'));
  t.doesNotThrow(() => run('e2fsck', ['-fn', rootImg]), 'e2fsck -fn: clean');
  t.match(run('debugfs', ['-R', 'ls -l /app', rootImg]), /app\.jar/);
  t.notMatch(run('debugfs', ['-R', 'ls /', rootImg]), /\.mkimage|\binit\b/, 'no init stage on the root');

  const times: Record<string, number> = {};
  times['UEFI virtio-blk'] = await bootDisk(t, img, 'uefi', 'virtio');
  times['UEFI NVMe'] = await bootDisk(t, img, 'uefi', 'nvme');
  times['BIOS virtio-blk'] = await bootDisk(t, img, 'bios', 'virtio');
  t.comment(`first HTTP 200 (TCG): ${Object.entries(times).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', ')}`);
});

t.test('qcow2 and vhd containers hold the same disk as the raw image', { skip }, async (t) => {
  const { dir, cleanup } = await tempDir('mkimage-containers-');
  t.teardown(cleanup);
  const jar = await helloJar();
  const lockFile = join(dir, 'mkimage.lock');
  const raw = join(dir, 'app.img');
  await build({ app: jar, output: raw, format: 'raw', lockFile });
  for (const [format, ext, fmt] of [['qcow2', 'qcow2', 'qcow2'], ['vhd', 'vhd', 'vpc']] as const) {
    const out = join(dir, `app.${ext}`);
    await build({ app: jar, output: out, format, lockFile });
    if (format === 'qcow2') t.match(run('qemu-img', ['check', out]), /No errors were found/, 'qemu-img check: clean');
    t.match(run('qemu-img', ['compare', '-f', fmt, '-F', 'raw', out, raw]), /Images are identical/, `${format} equals the raw image`);
  }
});

t.test('bad inputs for a disk: too big for --size, unwritable output, a missing EFI stub package', { skip }, async (t) => {
  const { dir, cleanup } = await tempDir('mkimage-disk-bad-');
  t.teardown(cleanup);
  const jar = await helloJar();
  const small = join(dir, 'small.img');
  await t.rejects(build({ app: jar, output: small, format: 'raw', sizeBytes: 16 << 20, lockFile: join(dir, 'l') }), { code: 'E_TOO_SMALL' });
  t.notOk(existsSync(small), 'nothing at the output');
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  await t.rejects(build({ app: jar, output: join(file, 'app.img'), lockFile: join(dir, 'l') }), { code: 'E_OUTPUT' });
  const noStub = join(dir, 'nostub.img');
  await t.rejects(build({ app: jar, output: noStub, efiStubPackage: 'systemd-boot-efi-not-in-debian', lockFile: join(dir, 'l') }),
    { code: 'E_NOT_FOUND', message: /systemd-boot-efi-not-in-debian/ });
  t.notOk(existsSync(noStub), 'nothing at the output');
});

t.test('a dynamically linked ELF app (Debian\'s webfsd) gets a disk image that boots', { skip }, async (t) => {
  const { dir, cleanup } = await tempDir('mkimage-disk-elf-');
  t.teardown(cleanup);
  const { openArchive } = await import('@mkimage/kernel-fetch');
  const archive = await openArchive({ suite: 'bookworm' });
  const [webfs] = await archive.resolve(['webfs']);
  const app = join(await archive.unpack(webfs!), 'usr/bin/webfsd');
  const img = join(dir, 'webfs.img');
  await build({ app, output: img, appArgs: ['-F', '-p', '8080', '-r', '/app'], lockFile: join(dir, 'mkimage.lock') });
  run('e2fsck', ['-fn', extract(img, partitions(img)[1]!, join(dir, 'root.ext4'))]);
  const booted = await bootAndWait({
    args: ({ hostPort }) => qemuArgs({ machine: 'pc', memoryMiB: 256, cpus: 2, disks: [{ file: img }], net: { hostfwd: [{ hostPort: hostPort!, guestPort: 8080 }] } }),
    ready: { httpPort: 8080, path: '/', body: /href="webfsd"/ },
    timeoutMs: BOOT_TIMEOUT_MS, retries: 2, consoleFile: join(dir, 'console.log'),
  });
  await booted.stop();
  t.comment(`webfsd disk (SeaBIOS): first HTTP 200 after ${booted.timings.firstHttp200Ms} ms`);
  t.match(booted.readyValue, /href="webfsd"/, 'serves its listing from the read-only root');
});
