// Locating QEMU, its accelerator and the OVMF firmware on the host.
import { constants } from 'node:fs';
import { access, open, readdir, readFile, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { OvmfNotFoundError, QemuNotFoundError } from './errors.js';

export type Accel = 'kvm' | 'tcg';

export interface QemuInstall {
  binary: string;
  accel: Accel;
  /** Why this accelerator: shown by `mkimage run` and in test logs. */
  accelReason: string;
}

export interface FindQemuOptions {
  /** Binary name or path; default qemu-system-x86_64. */
  binary?: string;
  /** 'auto' (default) picks KVM when usable, else TCG. */
  accel?: Accel | 'auto';
  /** The PATH to search; default process.env.PATH. */
  path?: string;
  /** For tests: where /dev/kvm and /sys/module are. */
  devKvm?: string;
  sysModule?: string;
}

/** Finds the QEMU binary and picks the accelerator. Throws QemuNotFoundError with the package hint. */
export async function findQemu(opts: FindQemuOptions = {}): Promise<QemuInstall> {
  const name = opts.binary ?? 'qemu-system-x86_64';
  const dirs = name.includes('/') ? [''] : (opts.path ?? process.env.PATH ?? '').split(delimiter).filter(Boolean);
  let binary: string | undefined;
  for (const d of dirs) {
    const candidate = d ? join(d, name) : name;
    if (await access(candidate, constants.X_OK).then(() => true, () => false) && (await stat(candidate)).isFile()) {
      binary = candidate;
      break;
    }
  }
  if (!binary) throw new QemuNotFoundError(name, dirs);
  if (opts.accel === 'kvm' || opts.accel === 'tcg') return { binary, accel: opts.accel, accelReason: 'requested' };
  const kvm = await kvmUsable(opts);
  return { binary, accel: kvm.usable ? 'kvm' : 'tcg', accelReason: kvm.reason };
}

/**
 * KVM is usable when /dev/kvm opens read-write and a hardware virtualisation module (kvm_intel,
 * kvm_amd) backs it. Some hosts expose /dev/kvm through kvm_pvm (pagetable-based, for nested
 * setups without VT-x): it only runs guests built for PVM, and a stock Debian kernel hangs there.
 */
export async function kvmUsable(opts: { devKvm?: string; sysModule?: string } = {}): Promise<{ usable: boolean; reason: string }> {
  const dev = opts.devKvm ?? '/dev/kvm';
  const sys = opts.sysModule ?? '/sys/module';
  try {
    const fh = await open(dev, 'r+');
    await fh.close();
  } catch (err) {
    return { usable: false, reason: `${dev}: ${(err as NodeJS.ErrnoException).code ?? 'unusable'}, using TCG` };
  }
  for (const mod of ['kvm_intel', 'kvm_amd']) {
    if (await stat(join(sys, mod)).then(() => true, () => false)) return { usable: true, reason: `${dev} backed by ${mod}` };
  }
  if (await stat(join(sys, 'kvm_pvm')).then(() => true, () => false)) {
    return { usable: false, reason: `${dev} is kvm_pvm (runs only PVM guests), using TCG` };
  }
  return { usable: false, reason: `${dev} has no kvm_intel/kvm_amd module, using TCG` };
}

export type Ovmf =
  /** Split firmware: read-only code plus a variable store template that each run must copy. */
  | { kind: 'pflash'; code: string; varsTemplate: string; source: string }
  /** A single image given with -bios (variables do not persist). */
  | { kind: 'bios'; file: string; source: string };

export interface FindOvmfOptions {
  /** QEMU firmware descriptor directories (docs/interop/firmware.json), in priority order. */
  descriptorDirs?: string[];
  /** Fallback files when no descriptor matches. */
  fallbacks?: Ovmf[];
}

/** Where Debian's qemu-system-data / ovmf put the descriptors (highest priority first). */
export const FIRMWARE_DESCRIPTOR_DIRS = ['/etc/qemu/firmware', '/usr/share/qemu/firmware'];
/** Debian's ovmf package layout (bookworm): 4M images first, then the 2M ones, then the combined image. */
export const OVMF_FALLBACKS: Ovmf[] = [
  { kind: 'pflash', code: '/usr/share/OVMF/OVMF_CODE_4M.fd', varsTemplate: '/usr/share/OVMF/OVMF_VARS_4M.fd', source: 'ovmf package' },
  { kind: 'pflash', code: '/usr/share/OVMF/OVMF_CODE.fd', varsTemplate: '/usr/share/OVMF/OVMF_VARS.fd', source: 'ovmf package' },
  { kind: 'bios', file: '/usr/share/ovmf/OVMF.fd', source: 'ovmf package' },
  { kind: 'bios', file: '/usr/share/qemu/OVMF.fd', source: 'qemu' },
];

interface FirmwareDescriptor {
  'interface-types'?: string[];
  mapping?: { device?: string; executable?: { filename?: string; format?: string }; 'nvram-template'?: { filename?: string }; filename?: string };
  targets?: { architecture?: string; machines?: string[] }[];
  features?: string[];
}

/**
 * Finds OVMF for x86-64 without Secure Boot enforcement: first through QEMU's firmware descriptors
 * (files sorted by name across the directories, as QEMU and libvirt do), then Debian's known paths.
 */
export async function findOvmf(opts: FindOvmfOptions = {}): Promise<Ovmf> {
  const dirs = opts.descriptorDirs ?? FIRMWARE_DESCRIPTOR_DIRS;
  const files = new Map<string, string>(); // basename -> path; earlier dirs override later ones
  for (const d of [...dirs].reverse()) {
    for (const f of (await readdir(d).catch(() => [] as string[])).filter((f) => f.endsWith('.json'))) files.set(f, join(d, f));
  }
  const exists = (p: string) => access(p, constants.R_OK).then(() => true, () => false);
  for (const name of [...files.keys()].sort()) {
    const path = files.get(name)!;
    let desc: FirmwareDescriptor;
    try {
      desc = JSON.parse(await readFile(path, 'utf8')) as FirmwareDescriptor;
    } catch {
      continue; // a broken descriptor is skipped, as QEMU tools do
    }
    const features = desc.features ?? [];
    if (!desc['interface-types']?.includes('uefi')) continue;
    if (!desc.targets?.some((t) => t.architecture === 'x86_64')) continue;
    if (features.includes('secure-boot') || features.includes('enrolled-keys') || features.includes('requires-smm')) continue;
    const m = desc.mapping;
    if (m?.device === 'flash' && m.executable?.filename && m['nvram-template']?.filename && (m.executable.format ?? 'raw') === 'raw') {
      const code = m.executable.filename;
      const varsTemplate = m['nvram-template'].filename;
      if (await exists(code) && await exists(varsTemplate)) return { kind: 'pflash', code, varsTemplate, source: path };
    } else if (m?.device === 'memory' && m.filename && await exists(m.filename)) {
      return { kind: 'bios', file: m.filename, source: path };
    }
  }
  const fallbacks = opts.fallbacks ?? OVMF_FALLBACKS;
  for (const f of fallbacks) {
    if (f.kind === 'pflash' ? (await exists(f.code) && await exists(f.varsTemplate)) : await exists(f.file)) return f;
  }
  throw new OvmfNotFoundError([...dirs, ...fallbacks.map((f) => (f.kind === 'pflash' ? f.code : f.file))]);
}
