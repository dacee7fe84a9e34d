// A tiny test guest for the QEMU harness: Debian's cloud kernel and busybox-static, fetched with
// the host's apt (cached under os.tmpdir()/mkimage-test-cache), and an initramfs packed with the
// host's cpio (test only: the product writes its own). /init does what the kernel command line's
// `mode=` asks (the kernel hands unknown key=value parameters to init as environment variables).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CACHE = join(tmpdir(), 'mkimage-test-cache');

async function ensureDeb(pkg: string): Promise<string> {
  const dir = join(CACHE, 'debs');
  await mkdir(dir, { recursive: true });
  const find = async () => (await readdir(dir)).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  let deb = await find();
  if (!deb) {
    execFileSync('apt-get', ['download', pkg], { cwd: dir, stdio: 'pipe' });
    deb = await find();
    if (!deb) throw new Error(`apt-get download ${pkg} produced no .deb in ${dir}`);
  }
  const out = join(CACHE, 'x', deb.replace(/\.deb$/, ''));
  if (!existsSync(join(out, '.done'))) {
    await rm(out, { recursive: true, force: true });
    await mkdir(out, { recursive: true });
    execFileSync('dpkg-deb', ['-x', join(dir, deb), out]);
    await writeFile(join(out, '.done'), '');
  }
  return out;
}

/** The package behind the linux-image-cloud-amd64 metapackage (e.g. linux-image-6.1.0-56-cloud-amd64). */
function kernelPackage(): string {
  const deps = execFileSync('apt-cache', ['depends', 'linux-image-cloud-amd64'], { encoding: 'utf8' });
  const m = /Depends:\s*(linux-image-\S+-cloud-amd64)/.exec(deps);
  if (!m) throw new Error(`apt-cache depends linux-image-cloud-amd64 names no kernel package:\n${deps}`);
  return m[1]!;
}

/** In load order (DESIGN.md: networking on bookworm), then the block and fw_cfg drivers. */
const MODULES = ['virtio_ring', 'virtio_pci_modern_dev', 'virtio_pci_legacy_dev', 'virtio', 'virtio_pci',
  'failover', 'net_failover', 'virtio_net', 'virtio_blk', 'qemu_fw_cfg'];

const INIT = `#!/bin/busybox sh
bb=/bin/busybox
$bb mount -t proc proc /proc
$bb mount -t sysfs sys /sys
$bb mount -t devtmpfs dev /dev
for m in ${MODULES.join(' ')}; do $bb insmod /lib/modules/$m.ko || echo "insmod $m failed"; done
echo "MKIMAGE-TEST-INIT mode=$mode"
case "$mode" in
exit)
  echo MKIMAGE-TEST-EXITING
  # Let the serial port drain: the panic that follows PID 1's exit discards unsent tty output.
  $bb sleep 1
  exit 3 ;;
poweroff)
  echo MKIMAGE-TEST-POWEROFF
  $bb poweroff -f ;;
http)
  $bb ip link set lo up
  i=0; while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do $bb usleep 50000; i=$((i+1)); done
  $bb ip link set eth0 up
  $bb ip addr add 10.0.2.15/24 dev eth0
  $bb mkdir -p /www
  echo hello > /www/index.html
  $bb httpd -p 8080 -h /www
  echo MKIMAGE-TEST-HTTPD-UP
  exec $bb sleep 100000 ;;
devices)
  i=0; while [ ! -e /dev/vda ] || [ ! -e /dev/nvme0n1 ]; do $bb usleep 50000; i=$((i+1)); [ $i -gt 200 ] && break; done
  echo "VDA=$($bb head -c 16 /dev/vda)"
  echo "NVME=$($bb head -c 16 /dev/nvme0n1)"
  echo "FWCFG=$($bb cat /sys/firmware/qemu_fw_cfg/by_name/opt/mkimage/env/raw | $bb tr '\\n' '|')"
  echo "VENDOR=$($bb cat /sys/class/dmi/id/sys_vendor)"
  echo overwritten-by-guest | $bb dd of=/dev/vda conv=fsync 2>/dev/null
  echo overwritten-by-guest | $bb dd of=/dev/nvme0n1 conv=fsync 2>/dev/null
  echo "VDA-AFTER=$($bb head -c 20 /dev/vda)"
  echo MKIMAGE-TEST-DEVICES-DONE
  $bb poweroff -f ;;
*)
  echo MKIMAGE-TEST-MARKER
  exec $bb sleep 100000 ;;
esac
`;

export interface TestGuest {
  kernel: string;
  initrd: string;
}

/** Fetches (cached) and builds the guest; returns paths of the kernel and the initramfs. */
export async function testGuest(): Promise<TestGuest> {
  const kroot = await ensureDeb(kernelPackage());
  const bb = await ensureDeb('busybox-static');
  const kernel = join(kroot, 'boot', (await readdir(join(kroot, 'boot'))).find((f) => f.startsWith('vmlinuz-'))!);
  const modRoot = join(kroot, 'lib', 'modules', (await readdir(join(kroot, 'lib', 'modules')))[0]!);
  const found = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else {
        const name = e.name.replace(/\.ko$/, '').replace(/-/g, '_');
        if (e.name.endsWith('.ko') && MODULES.includes(name)) found.set(name, join(d, e.name));
      }
    }
  };
  await walk(modRoot);

  const stage = await mkdtemp(join(tmpdir(), 'mkimage-guest-'));
  try {
    for (const d of ['bin', 'dev', 'proc', 'sys', 'lib/modules']) await mkdir(join(stage, d), { recursive: true });
    await copyFile(join(bb, 'bin', 'busybox'), join(stage, 'bin', 'busybox'));
    for (const [name, path] of found) await copyFile(path, join(stage, 'lib', 'modules', `${name}.ko`));
    await writeFile(join(stage, 'init'), INIT);
    await chmod(join(stage, 'init'), 0o755);
    const initrd = join(CACHE, 'test-guest.cpio');
    const list = execFileSync('find', ['.'], { cwd: stage }).toString();
    execFileSync('sh', ['-c', `cpio -o -H newc --quiet > ${JSON.stringify(initrd)}`], { cwd: stage, input: list });
    return { kernel, initrd };
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

/** Kernel command line for `mode`: serial console, quiet, stop (not reboot) on panic. */
export function cmdline(mode: string): string {
  return `console=ttyS0 quiet panic=-1 mode=${mode}`;
}
