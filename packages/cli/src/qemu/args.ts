// Builds a qemu-system-x86_64 command line from typed options. Pure: no files are touched, so the
// caller (or test) sees exactly what will run. QEMU option values escape ',' as ',,'.
import { QemuOptionError } from './errors.js';
import type { Accel } from './find.js';

export interface DiskOption {
  /** A disk image on the host (raw unless `format` says otherwise). */
  file: string;
  /** QEMU's image format name: raw (default), qcow2, or vpc (VHD). */
  format?: 'raw' | 'qcow2' | 'vpc';
  /** virtio-blk-pci (default) or nvme (EC2 Nitro's disk). */
  bus?: 'virtio' | 'nvme';
  /**
   * 'snapshot' (default): guest writes go to a temporary overlay, the image never changes (its
   * digest stays the same after `mkimage run`); 'readonly': writes fail in the guest (virtio only).
   */
  mode?: 'snapshot' | 'readonly';
  /**
   * Boot order; the first disk gets bootindex=0 unless given (OVMF tries the network first otherwise),
   * except with direct kernel boot, where the kernel holds bootindex 0.
   */
  bootindex?: number;
  /** NVMe serial (required by QEMU for nvme); default derived from the index. */
  serial?: string;
}

export type Firmware =
  | 'seabios'
  /** OVMF split images: code read-only, `vars` a per-run writable copy of the template. */
  | { pflash: { code: string; vars: string } }
  /** A combined firmware image with -bios (e.g. OVMF.fd). */
  | { bios: string };

export interface PortForward {
  hostPort: number;
  guestPort: number;
  /** Default 127.0.0.1: never expose the guest on other interfaces by accident. */
  hostAddr?: string;
  proto?: 'tcp' | 'udp';
}

export interface GuestForward {
  /** An address inside the user network (see `net`), e.g. 169.254.169.254. */
  guestAddr: string;
  guestPort: number;
  /** Command run per connection, talking over its stdin/stdout (`cmd:` form). */
  cmd: string;
}

export interface QemuOptions {
  accel?: Accel;
  /**
   * TCG only: every vCPU on one host thread ('single', the default) or one thread each ('multi').
   * Multi-threaded TCG now and then let a booted app's JVM die of SIGSEGV at the first instruction
   * of freshly JIT-compiled code (2 of ~37 hello boots; none in ~40 single-threaded ones): the JIT
   * rewriting code that another vCPU's translation raced with. The price: on an idle 2-core host
   * multi-threaded TCG reaches the first HTTP 200 about 0.75-1.7 s sooner (bench/run.bench.mjs);
   * on a busy one they were even (9.8 vs 9.4 s). A smoke test that fails now and then costs more.
   */
  tcgThreads?: 'single' | 'multi';
  /** q35 (default), pc (i440fx, SeaBIOS's classic), or microvm (direct kernel boot only). */
  machine?: 'q35' | 'pc' | 'microvm';
  memoryMiB?: number;
  cpus?: number;
  /** Direct kernel boot. */
  kernel?: { kernel: string; initrd?: string; append?: string };
  disks?: DiskOption[];
  /** Default 'seabios' (QEMU's built-in BIOS). */
  firmware?: Firmware;
  /** User-mode networking with a virtio NIC (Debian's cloud kernel has no e1000). false: no NIC. */
  net?: false | { hostfwd?: PortForward[]; guestfwd?: GuestForward[]; /** e.g. 169.254.0.0/16 */ net?: string };
  /** -fw_cfg name=opt/...,file=...: values the guest reads from /sys/firmware/qemu_fw_cfg. */
  fwCfg?: { name: string; file: string }[];
  /** -smbios type=1 fields, e.g. { manufacturer: 'Amazon EC2' }. */
  smbios1?: Record<string, string>;
  /** Serial console: stdio (default; the harness captures it), a file, or none. */
  serial?: 'stdio' | 'none' | { file: string };
  /** Extra arguments appended verbatim. */
  extra?: string[];
}

/** QEMU's option value escaping: ',' separates sub-options, so a literal comma is doubled. */
export function qemuEscape(value: string): string {
  return value.replace(/,/g, ',,');
}

/** The argv (without the binary) for `opts`. Throws QemuOptionError for impossible combinations. */
export function qemuArgs(opts: QemuOptions): string[] {
  const machine = opts.machine ?? 'q35';
  const firmware = opts.firmware ?? 'seabios';
  const args: string[] = [];
  const fail = (option: string, msg: string) => new QemuOptionError(option, msg);

  // 1. Machine, accelerator, size. -nodefaults: no default NIC, VGA, CD-ROM or floppy, so the
  //    devices are exactly the ones below (and OVMF has nothing else to try booting first).
  if (machine === 'microvm') {
    if (!opts.kernel) throw fail('machine', 'microvm has no firmware boot path; give a kernel');
    if (firmware !== 'seabios') throw fail('firmware', 'microvm boots a kernel directly, without OVMF');
    // pit=on: the Debian kernel calibrates its clock with the PIT; pcie=on: virtio-*-pci devices.
    args.push('-machine', 'microvm,pit=on,rtc=on,pcie=on');
  } else {
    args.push('-machine', machine);
  }
  const accel = opts.accel ?? 'tcg';
  args.push('-accel', accel === 'tcg' ? `tcg,thread=${opts.tcgThreads ?? 'single'}` : accel);
  if (opts.accel === 'kvm') args.push('-cpu', 'host');
  const mem = opts.memoryMiB ?? 512;
  const cpus = opts.cpus ?? 2;
  if (!Number.isInteger(mem) || mem < 64) throw fail('memoryMiB', `${mem} MiB; give at least 64`);
  if (!Number.isInteger(cpus) || cpus < 1) throw fail('cpus', `${cpus}; give 1 or more`);
  args.push('-m', String(mem), '-smp', String(cpus));
  args.push('-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot');

  // 2. Firmware.
  if (firmware !== 'seabios') {
    if ('pflash' in firmware) {
      args.push('-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${qemuEscape(firmware.pflash.code)}`);
      args.push('-drive', `if=pflash,format=raw,unit=1,file=${qemuEscape(firmware.pflash.vars)}`);
    } else {
      args.push('-bios', firmware.bios);
    }
  }

  // 3. Direct kernel boot.
  if (opts.kernel) {
    args.push('-kernel', opts.kernel.kernel);
    if (opts.kernel.initrd) args.push('-initrd', opts.kernel.initrd);
    if (opts.kernel.append !== undefined) args.push('-append', opts.kernel.append);
  }

  // 4. Disks: a drive without a bus, then the device carrying boot order.
  (opts.disks ?? []).forEach((disk, i) => {
    const bus = disk.bus ?? 'virtio';
    const mode = disk.mode ?? 'snapshot';
    if (mode === 'readonly' && bus === 'nvme') throw fail(`disks[${i}]`, 'QEMU cannot attach a read-only drive to NVMe; use mode snapshot');
    const id = `disk${i}`;
    args.push('-drive', `if=none,id=${id},format=${disk.format ?? 'raw'},file=${qemuEscape(disk.file)},${mode === 'snapshot' ? 'snapshot=on' : 'readonly=on'}`);
    // With -kernel, QEMU's linuxboot option ROM takes bootindex 0 itself.
    const bootindex = disk.bootindex ?? (i === 0 && !opts.kernel ? 0 : undefined);
    const boot = bootindex === undefined ? '' : `,bootindex=${bootindex}`;
    if (bus === 'nvme') args.push('-device', `nvme,drive=${id},serial=${qemuEscape(disk.serial ?? `mkimage${i}`)}${boot}`);
    else args.push('-device', `virtio-blk-pci,drive=${id}${boot}`);
  });

  // 5. Network: user-mode, virtio-net. -netdev/-device rather than -nic: it works on microvm too.
  if (opts.net !== false) {
    const net = opts.net ?? {};
    let netdev = 'user,id=net0';
    if (net.net) netdev += `,net=${net.net}`;
    for (const f of net.hostfwd ?? []) {
      for (const [k, v] of [['hostPort', f.hostPort], ['guestPort', f.guestPort]] as const) {
        if (!Number.isInteger(v) || v < 1 || v > 65535) throw fail(`hostfwd.${k}`, `${v} is not a TCP/UDP port`);
      }
      netdev += `,hostfwd=${f.proto ?? 'tcp'}:${f.hostAddr ?? '127.0.0.1'}:${f.hostPort}-:${f.guestPort}`;
    }
    for (const g of net.guestfwd ?? []) netdev += `,guestfwd=tcp:${g.guestAddr}:${g.guestPort}-cmd:${qemuEscape(g.cmd)}`;
    args.push('-netdev', netdev, '-device', 'virtio-net-pci,netdev=net0');
  }

  // 6. Configuration channels: fw_cfg files and SMBIOS.
  for (const f of opts.fwCfg ?? []) {
    if (!f.name.startsWith('opt/')) throw fail('fwCfg', `${f.name}: user fw_cfg names must start with "opt/"`);
    args.push('-fw_cfg', `name=${qemuEscape(f.name)},file=${qemuEscape(f.file)}`);
  }
  if (opts.smbios1 && Object.keys(opts.smbios1).length > 0) {
    args.push('-smbios', `type=1,${Object.entries(opts.smbios1).map(([k, v]) => `${k}=${qemuEscape(v)}`).join(',')}`);
  }

  // 7. Console.
  const serial = opts.serial ?? 'stdio';
  if (serial === 'stdio') args.push('-serial', 'stdio', '-monitor', 'none');
  else if (serial === 'none') args.push('-serial', 'none', '-monitor', 'none');
  else args.push('-serial', `file:${serial.file}`, '-monitor', 'none');

  args.push(...(opts.extra ?? []));
  return args;
}
