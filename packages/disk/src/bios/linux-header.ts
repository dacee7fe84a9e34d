// The Linux x86 boot protocol's setup header inside a bzImage (the kernel's
// Documentation/arch/x86/boot.rst, "The real-mode kernel header"). Offsets are from the start of the
// image (= the start of the real-mode code once loaded). Read at build time to check the kernel and
// size the loads; the loader writes the "write" fields at boot.
import { defineStruct } from '@mkimage/rootfs';
import { KernelFormatError } from '../errors.js';

/** "HdrS", the header magic (boot.rst: header field). */
export const LINUX_HDRS_MAGIC = 0x53726448;
/** boot_flag (boot.rst). */
export const LINUX_BOOT_FLAG = 0xaa55;
/** Oldest protocol we load: 2.10 brings init_size and pref_address, which place the initrd safely. */
export const LINUX_MIN_PROTOCOL = 0x020a;
/** setup_sects = 0 means 4 (boot.rst: "for backwards compatibility"). */
export const LINUX_SETUP_SECTS_DEFAULT = 4;
/** loadflags bits (boot.rst). */
export const LOADED_HIGH = 0x01;
export const CAN_USE_HEAP = 0x80;
/** type_of_loader 0xFF: "undefined" boot loader (boot.rst, boot loader IDs). */
export const LOADER_TYPE_UNDEFINED = 0xff;
/** Protected-mode code is loaded here for a bzImage (boot.rst: code32_start default). */
export const LINUX_PM_LOAD_ADDRESS = 0x100000;

/** The setup header fields we read or write (boot.rst, "The real-mode kernel header"). */
export const LinuxSetupHeader = defineStruct('Linux setup header', 0x268, [
  { name: 'setupSects', offset: 0x1f1, type: 'u8' },
  { name: 'bootFlag', offset: 0x1fe, type: 'u16' },
  { name: 'header', offset: 0x202, type: 'u32' },
  { name: 'version', offset: 0x206, type: 'u16' },
  { name: 'typeOfLoader', offset: 0x210, type: 'u8' },
  { name: 'loadflags', offset: 0x211, type: 'u8' },
  { name: 'code32Start', offset: 0x214, type: 'u32' },
  { name: 'ramdiskImage', offset: 0x218, type: 'u32' },
  { name: 'ramdiskSize', offset: 0x21c, type: 'u32' },
  { name: 'heapEndPtr', offset: 0x224, type: 'u16' },
  { name: 'cmdLinePtr', offset: 0x228, type: 'u32' },
  { name: 'initrdAddrMax', offset: 0x22c, type: 'u32' },
  { name: 'cmdlineSize', offset: 0x238, type: 'u32' },
  { name: 'prefAddress', offset: 0x258, type: 'u64' },
  { name: 'initSize', offset: 0x260, type: 'u32' },
] as const);

export interface KernelBootInfo {
  /** Bytes of real-mode code (boot sector + setup): (setup_sects + 1) x 512. */
  setupBytes: number;
  version: number;
  initrdAddrMax: number;
  cmdlineSize: number;
  prefAddress: number;
  initSize: number;
}

/** Checks a bzImage's setup header (its first bytes, at least 0x268) and returns what the loader needs. */
export function readKernelHeader(head: Uint8Array, size: number, file = 'kernel'): KernelBootInfo {
  const fail = (reason: string, what: string): never => {
    throw new KernelFormatError(`${file}: ${what}; the BIOS loader needs an x86 bzImage with boot protocol 2.10 or newer (Linux 2.6.31+)`, { file, reason });
  };
  if (head.length < LinuxSetupHeader.size) fail('short', `only ${head.length} bytes, too short for a Linux setup header`);
  const h = LinuxSetupHeader.decode(head);
  if (h.header !== LINUX_HDRS_MAGIC || h.bootFlag !== LINUX_BOOT_FLAG) fail('magic', 'no "HdrS" setup header');
  if (h.version < LINUX_MIN_PROTOCOL) fail('version', `boot protocol ${h.version >> 8}.${String(h.version & 0xff).padStart(2, '0')} is too old`);
  if (!(h.loadflags & LOADED_HIGH)) fail('zImage', 'a zImage (loaded low), not a bzImage');
  const setupBytes = ((h.setupSects || LINUX_SETUP_SECTS_DEFAULT) + 1) * 512;
  // The setup code, its heap and the command line share one 64 KiB segment (boot.rst memory layout).
  if (setupBytes > 0x8000) fail('setup size', `${setupBytes} bytes of real-mode setup code (at most 32 KiB fit below the heap)`);
  if (size <= setupBytes) fail('short', `${size} bytes hold no protected-mode kernel after ${setupBytes} bytes of setup code`);
  return {
    setupBytes, version: h.version, initrdAddrMax: h.initrdAddrMax, cmdlineSize: h.cmdlineSize,
    prefAddress: h.prefAddress, initSize: h.initSize,
  };
}
