import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { qemuArgs, qemuEscape } from '../src/qemu/args.js';
import { freePort, initExitStatus } from '../src/qemu/boot.js';
import { OvmfNotFoundError, QemuNotFoundError, QemuOptionError } from '../src/qemu/errors.js';
import { findOvmf, findQemu, kvmUsable } from '../src/qemu/find.js';

const dir = await mkdtemp(join(tmpdir(), 'mkimage-qargs-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

/** The value following `flag`, for each occurrence. */
const values = (args: string[], flag: string) => args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));

t.test('UEFI disk boot on NVMe with port forwards, fw_cfg and SMBIOS', async (t) => {
  const args = qemuArgs({
    accel: 'tcg', machine: 'q35', memoryMiB: 1024, cpus: 2,
    firmware: { pflash: { code: '/fw/CODE.fd', vars: '/run/VARS,1.fd' } },
    disks: [{ file: '/img/app.img', bus: 'nvme' }],
    net: { hostfwd: [{ hostPort: 18080, guestPort: 8080 }], guestfwd: [{ guestAddr: '169.254.169.254', guestPort: 80, cmd: 'node imds.js' }], net: '169.254.0.0/16' },
    fwCfg: [{ name: 'opt/mkimage/env', file: '/tmp/env' }],
    smbios1: { manufacturer: 'Amazon EC2' },
  });
  t.same(values(args, '-machine'), ['q35']);
  t.same(values(args, '-accel'), ['tcg,thread=single'], 'single-threaded TCG by default');
  t.same(values(qemuArgs({ tcgThreads: 'multi', net: false }), '-accel'), ['tcg,thread=multi']);
  t.same(values(qemuArgs({ accel: 'kvm', net: false }), '-accel'), ['kvm'], 'no TCG option for KVM');
  t.same(values(args, '-m'), ['1024']);
  t.same(values(args, '-drive'), [
    'if=pflash,format=raw,unit=0,readonly=on,file=/fw/CODE.fd',
    'if=pflash,format=raw,unit=1,file=/run/VARS,,1.fd',
    'if=none,id=disk0,format=raw,file=/img/app.img,snapshot=on',
  ]);
  t.same(values(args, '-device'), ['nvme,drive=disk0,serial=mkimage0,bootindex=0', 'virtio-net-pci,netdev=net0']);
  t.same(values(args, '-netdev'), ['user,id=net0,net=169.254.0.0/16,hostfwd=tcp:127.0.0.1:18080-:8080,guestfwd=tcp:169.254.169.254:80-cmd:node imds.js']);
  t.same(values(args, '-fw_cfg'), ['name=opt/mkimage/env,file=/tmp/env']);
  t.same(values(args, '-smbios'), ['type=1,manufacturer=Amazon EC2']);
  t.same(values(args, '-serial'), ['stdio']);
  for (const f of ['-nodefaults', '-no-reboot', '-display']) t.ok(args.includes(f), f);
  t.notOk(args.includes('-kernel'));
});

t.test('direct kernel boot, SeaBIOS, read-only virtio disk, console to a file, no NIC', async (t) => {
  const args = qemuArgs({
    machine: 'pc', kernel: { kernel: '/k/vmlinuz', initrd: '/k/initrd.img', append: 'console=ttyS0 panic=-1 quiet' },
    disks: [{ file: '/img/root.img', mode: 'readonly' }], net: false, serial: { file: '/tmp/console.log' },
  });
  t.same(values(args, '-kernel'), ['/k/vmlinuz']);
  t.same(values(args, '-initrd'), ['/k/initrd.img']);
  t.same(values(args, '-append'), ['console=ttyS0 panic=-1 quiet'], 'the command line stays one argument');
  t.same(values(args, '-drive'), ['if=none,id=disk0,format=raw,file=/img/root.img,readonly=on']);
  t.same(values(args, '-device'), ['virtio-blk-pci,drive=disk0'], 'no bootindex: -kernel holds bootindex 0');
  t.same(values(args, '-serial'), ['file:/tmp/console.log']);
  t.same(values(args, '-netdev'), []);
  t.notOk(args.includes('-bios') || args.some((a) => a.startsWith('if=pflash')), 'SeaBIOS is QEMU\'s default');
  t.same(values(qemuArgs({ firmware: { bios: '/usr/share/ovmf/OVMF.fd' } }), '-bios'), ['/usr/share/ovmf/OVMF.fd']);
  t.same(values(qemuArgs({ accel: 'kvm' }), '-cpu'), ['host']);
  t.same(values(qemuArgs({ machine: 'microvm', kernel: { kernel: '/k' } }), '-machine'), ['microvm,pit=on,rtc=on,pcie=on']);
});

t.test('QEMU itself accepts the generated command lines (-S: parsed, devices built, never run)', async (t) => {
  const img = join(dir, 'disk,1.img');
  await writeFile(img, Buffer.alloc(1 << 20));
  const env = join(dir, 'env');
  await writeFile(env, 'A=1\n');
  const qemu = await findQemu({ accel: 'tcg' });
  for (const opts of [
    { disks: [{ file: img, bus: 'nvme' as const }], net: { hostfwd: [{ hostPort: await freePort(), guestPort: 80 }] }, fwCfg: [{ name: 'opt/mkimage/env', file: env }], smbios1: { manufacturer: 'Amazon EC2' } },
    { machine: 'pc' as const, disks: [{ file: img, mode: 'readonly' as const }], net: false as const },
  ]) {
    // -S stops the CPUs; QEMU must still be running (options accepted) when the timeout's SIGTERM comes.
    const r = spawnSync(qemu.binary, [...qemuArgs({ ...opts, serial: 'none' }), '-S'], { timeout: 1500, encoding: 'utf8' });
    t.equal((r.error as NodeJS.ErrnoException | undefined)?.code, 'ETIMEDOUT', `${JSON.stringify(opts)} was still running (stderr: ${r.stderr.trim()})`);
    t.equal(r.stderr.replace(/^.*warning.*\n/gm, ''), '', 'no complaints');
  }
  // And a broken one is refused by QEMU (proves the check above can fail).
  const bad = spawnSync(qemu.binary, [...qemuArgs({ serial: 'none', net: false }), '-device', 'no-such-device', '-S'], { timeout: 1500, encoding: 'utf8' });
  t.equal(bad.status, 1);
  t.match(bad.stderr, /no-such-device/);
  t.equal(bad.error, undefined, 'exited by itself, before the timeout');
});

t.test('impossible options are refused with E_QEMU_OPTIONS', async (t) => {
  const cases: [Parameters<typeof qemuArgs>[0], RegExp][] = [
    [{ machine: 'microvm' }, /microvm has no firmware boot path/],
    [{ machine: 'microvm', kernel: { kernel: '/k' }, firmware: { bios: '/o' } }, /microvm boots a kernel directly/],
    [{ disks: [{ file: '/d', bus: 'nvme', mode: 'readonly' }] }, /read-only drive to NVMe/],
    [{ net: { hostfwd: [{ hostPort: 70000, guestPort: 80 }] } }, /hostfwd\.hostPort: 70000 is not a TCP\/UDP port/],
    [{ fwCfg: [{ name: 'mkimage/env', file: '/e' }] }, /must start with "opt\/"/],
    [{ memoryMiB: 16 }, /memoryMiB: 16 MiB/],
    [{ cpus: 0 }, /cpus: 0/],
  ];
  for (const [opts, re] of cases) {
    t.throws(() => qemuArgs(opts), QemuOptionError);
    t.throws(() => qemuArgs(opts), { code: 'E_QEMU_OPTIONS', message: re });
  }
  t.equal(qemuEscape('a,b,,c'), 'a,,b,,,,c');
});

t.test('findQemu: PATH search, the package hint, accelerator choice', async (t) => {
  const bin = join(dir, 'bin');
  await mkdir(bin, { recursive: true });
  const err = await findQemu({ path: bin }).catch((e: unknown) => e);
  t.type(err, QemuNotFoundError);
  t.match((err as Error).message, /^qemu-system-x86_64 not found on PATH; install QEMU \(Debian\/Ubuntu: apt-get install qemu-system-x86\)$/);
  await writeFile(join(bin, 'qemu-system-x86_64'), '#!/bin/sh\n');
  await chmod(join(bin, 'qemu-system-x86_64'), 0o755);
  const found = await findQemu({ path: bin, accel: 'tcg' });
  t.equal(found.binary, join(bin, 'qemu-system-x86_64'));
  t.equal(found.accel, 'tcg');

  // KVM: a device that opens plus a hardware module; kvm_pvm alone does not count.
  const dev = join(dir, 'kvm');
  await writeFile(dev, '');
  const sys = join(dir, 'sys');
  await mkdir(join(sys, 'kvm_pvm'), { recursive: true });
  t.same(await kvmUsable({ devKvm: dev, sysModule: sys }), { usable: false, reason: `${dev} is kvm_pvm (runs only PVM guests), using TCG` });
  await mkdir(join(sys, 'kvm_intel'));
  t.equal((await kvmUsable({ devKvm: dev, sysModule: sys })).usable, true);
  t.equal((await findQemu({ path: bin, devKvm: dev, sysModule: sys })).accel, 'kvm');
  t.equal((await kvmUsable({ devKvm: join(dir, 'no-kvm'), sysModule: sys })).usable, false);
  t.match((await findQemu({ path: bin, devKvm: join(dir, 'no-kvm'), sysModule: sys })).accelReason, /ENOENT, using TCG/);
});

t.test('findOvmf: firmware descriptors first, Secure Boot variants skipped, then known paths, then the hint', async (t) => {
  const fw = join(dir, 'fw');
  const desc = join(dir, 'desc');
  await mkdir(fw, { recursive: true });
  await mkdir(desc, { recursive: true });
  for (const f of ['CODE.secboot.fd', 'VARS.ms.fd', 'CODE.fd', 'VARS.fd', 'OVMF.fd']) await writeFile(join(fw, f), 'x');
  const descriptor = (code: string, vars: string, features: string[]) => JSON.stringify({
    'interface-types': ['uefi'], mapping: { device: 'flash', executable: { filename: join(fw, code), format: 'raw' }, 'nvram-template': { filename: join(fw, vars) } },
    targets: [{ architecture: 'x86_64', machines: ['pc-q35-*'] }], features,
  });
  await writeFile(join(desc, '40-secure.json'), descriptor('CODE.secboot.fd', 'VARS.ms.fd', ['secure-boot', 'enrolled-keys', 'requires-smm']));
  await writeFile(join(desc, '50-broken.json'), '{ not json');
  await writeFile(join(desc, '60-plain.json'), descriptor('CODE.fd', 'VARS.fd', ['acpi-s3']));
  const o = await findOvmf({ descriptorDirs: [desc], fallbacks: [] });
  t.same(o, { kind: 'pflash', code: join(fw, 'CODE.fd'), varsTemplate: join(fw, 'VARS.fd'), source: join(desc, '60-plain.json') });

  const fb = await findOvmf({ descriptorDirs: [join(dir, 'none')], fallbacks: [{ kind: 'bios', file: join(fw, 'OVMF.fd'), source: 'test' }] });
  t.same(fb, { kind: 'bios', file: join(fw, 'OVMF.fd'), source: 'test' });

  const err = await findOvmf({ descriptorDirs: [join(dir, 'none')], fallbacks: [{ kind: 'bios', file: join(dir, 'missing.fd'), source: 'x' }] }).catch((e: unknown) => e);
  t.type(err, OvmfNotFoundError);
  t.match((err as Error).message, /no OVMF UEFI firmware found \(looked in .*missing\.fd\); install it \(Debian\/Ubuntu: apt-get install ovmf\) or boot with BIOS/);

  // The host's own: Debian's ovmf package via QEMU's descriptors.
  const host = await findOvmf();
  t.equal(host.kind, 'pflash');
});

t.test('initExitStatus decodes the kernel panic line (a wait status)', async (t) => {
  t.same(initExitStatus('[ 1.2] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000300\n'), { code: 3 });
  t.same(initExitStatus('Attempted to kill init! exitcode=0x00000000'), { code: 0 });
  t.same(initExitStatus('Attempted to kill init! exitcode=0x00000009'), { signal: 9 });
  t.equal(initExitStatus('reboot: Power down'), undefined);
});
