// What a build takes, with the defaults the CLI documents in --help.
import type { ProgressEvent } from '@mkimage/kernel-fetch';

export const FORMATS = ['initramfs', 'raw', 'ext4', 'qcow2', 'vhd'] as const;
export type Format = (typeof FORMATS)[number];

/** Formats this version writes; the others are planned (see the README). */
export const IMPLEMENTED_FORMATS: readonly Format[] = ['initramfs', 'raw', 'ext4', 'qcow2', 'vhd'];

/** The Debian package a bootable disk needs: the UKI's EFI stub (BIOS boot uses our own loader). */
export const EFI_STUB_PACKAGE = 'systemd-boot-efi';

/** The format an output name implies: .img/.raw (or - for stdout) raw, .qcow2, .vhd, .ext4; else an initramfs directory. */
export function formatFromOutput(output: string): Format {
  if (output === '-' || /\.(img|raw)$/i.test(output)) return 'raw';
  if (/\.qcow2$/i.test(output)) return 'qcow2';
  if (/\.vhd$/i.test(output)) return 'vhd';
  if (/\.ext4$/i.test(output)) return 'ext4';
  return 'initramfs';
}

export const COMPRESSIONS = ['gzip', 'none', 'zstd'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/** Drivers every image loads when the kernel has them as modules (built-ins are skipped). */
export const DEFAULT_MODULES = ['virtio_pci', 'virtio_net', 'virtio_blk', 'virtio_rng', 'ena', 'nvme', 'qemu_fw_cfg'];

export const DEFAULT_KERNEL_PACKAGE = 'linux-image-cloud-amd64';
export const DEFAULT_SUITE = 'bookworm';

/** The unprivileged account apps run as unless `user: 'root'`. */
export const APP_USER = { name: 'app', uid: 1000, gid: 1000, home: '/home/app' } as const;

/** Kernel command line: serial console (EC2 logs ttyS0), and a power-off when the app exits. */
export const BASE_CMDLINE = ['console=ttyS0', 'panic=-1', 'quiet'];

export interface BuildOptions {
  /** A runnable JAR (Main-Class in its manifest) or an x86-64 ELF executable. */
  app: string;
  /** Output: a directory for `initramfs`, a file otherwise. */
  output: string;
  /** Default: from the output's name (see formatFromOutput). */
  format?: Format;
  /** Environment baked into the image (defaults that boot-time configuration may override). */
  env?: Record<string, string> | ReadonlyArray<[string, string]>;
  /** Arguments for the app, passed verbatim (never through the kernel command line). */
  appArgs?: string[];
  /** Options for the JVM (already split into words). */
  javaOpts?: string[];
  /** Debian suite (default bookworm; trixie works too). */
  suite?: string;
  mirror?: string;
  securityMirror?: string;
  cacheDir?: string;
  offline?: boolean;
  /** mkimage.lock to pin package versions (default: beside the app). */
  lockFile?: string;
  updateLock?: boolean;
  /** Debian package with the UKI's EFI stub (usr/lib/systemd/boot/efi/linuxx64.efi.stub); default systemd-boot-efi. */
  efiStubPackage?: string;
  /** Kernel package (default linux-image-cloud-amd64). */
  kernelPackage?: string;
  /** Extra kernel modules to load at boot (their dependencies are added). */
  modules?: string[];
  /** Run the app as root instead of the unprivileged `app` user. */
  user?: 'app' | 'root';
  compress?: Compression;
  /** A local JDK home to jlink from instead of Debian's OpenJDK. */
  jdk?: string;
  /** Disk size in bytes for raw/qcow2/vhd (the root partition takes the rest); default: fit. */
  sizeBytes?: number;
  /** Timestamp for every file (SOURCE_DATE_EPOCH); default 0. */
  epoch?: number;
  /**
   * Measure mkimage's own overhead for the summary (default true). It compresses the init stage a
   * second time; a caller that shows no summary (`mkimage -q` without --report) skips that work.
   */
  measureOverhead?: boolean;
  onProgress?: (event: BuildEvent) => void;
}

export type BuildStep = 'inspect' | 'resolve' | 'download' | 'kernel' | 'runtime' | 'libraries' | 'assemble' | 'write';

export type BuildEvent =
  | { type: 'step'; step: BuildStep; status: 'start' }
  | { type: 'step'; step: BuildStep; status: 'end'; ms: number }
  | { type: 'detail'; step: BuildStep; message: string }
  | { type: 'download'; progress: ProgressEvent }
  | { type: 'warning'; message: string };

export interface BuildPart { name: string; path: string; bytes: number; sha256?: string; detail?: string }

export interface BuildResult {
  output: string;
  format: Format;
  /**
   * The image's identity: SHA256 of the output file, or for an initramfs directory of the
   * `sha256  name` lines of vmlinuz, initrd.img and cmdline. Same inputs, same digest.
   */
  digest: string;
  /** What the output holds (vmlinuz, initrd.img, cmdline, or the image file). */
  parts: BuildPart[];
  /** A disk image's partitions. */
  partitions: Array<{ name: string; partUuid: string; offset: number; size: number; holds: string }>;
  /** What the initramfs holds, grouped (kernel modules, init stage, runtime, libraries, app). */
  contents: Array<{ group: string; bytes: number; files: number }>;
  /**
   * mkimage's own overhead (init stage and system files), compressed as stored in the image;
   * undefined when the build was asked not to measure it (`measureOverhead: false`).
   */
  overheadBytes?: number;
  timings: Array<{ step: BuildStep; ms: number }>;
  packages: Array<{ name: string; version: string; sha256: string }>;
  kernelRelease: string;
  cmdline: string;
}
