// biosLoader: our own two-stage BIOS boot loader for a GPT disk, generated at build time. Stage 1 in
// the MBR reads stage 2 from the sectors after the primary GPT entry array; stage 2 loads the Linux
// kernel and initrd from absolute sectors (the .linux and .initrd sections of the UKI on the ESP,
// which the FAT writer stores contiguously) by the x86 boot protocol. So the kernel is stored once
// and serves both firmwares.
import { InvalidOptionError, bug } from '../errors.js';
import { MBR_BOOT_CODE_SIZE } from '../gpt/mbr.js';
import { FIRST_USABLE_LBA } from '../gpt/plan.js';
import { readKernelHeader, LINUX_PM_LOAD_ADDRESS } from './linux-header.js';
import { assembleStage1 } from './stage1.js';
import { HEAP_END, READ_CHUNK_SECTORS, assembleStage2 } from './stage2.js';

export { Asm16, type Instruction } from './asm16.js';
export { assembleStage1, BOOT_SECTOR_ADDRESS } from './stage1.js';
export { EddPacket } from './common.js';
export { assembleStage2, Stage2Params, STAGE2_ADDRESS, STAGE2_MAGIC } from './stage2.js';
export { LinuxSetupHeader, readKernelHeader, LINUX_MIN_PROTOCOL } from './linux-header.js';
export type { KernelBootInfo } from './linux-header.js';

const SECTOR = 512;

/** A run of bytes on the disk: absolute byte offset (a multiple of 512) and length. */
export interface DiskExtent { offset: number; size: number }

export interface BiosLoaderOptions {
  /** The first bytes (at least 0x268; 1 KiB is plenty) of the bzImage, to check and size it. */
  kernelHead: Uint8Array;
  /** Where the bzImage's bytes lie on the disk. */
  kernel: DiskExtent;
  initrd: DiskExtent;
  /** The kernel command line (the UKI's .cmdline, so both firmwares boot alike). */
  cmdline: string;
  /** For messages. */
  kernelName?: string;
}

export interface BiosLoader {
  /** Stage 1: the MBR's 440 bytes of boot code (DiskOptions.bootCode). */
  bootCode: Uint8Array;
  /** Stage 2, whole sectors, to be stored at LBA 34 (DiskOptions.bootArea). */
  stage2: Uint8Array;
}

function lbaOf(what: string, e: DiskExtent): number {
  if (!(Number.isSafeInteger(e.offset) && e.offset >= 0 && e.offset % SECTOR === 0 && e.offset / SECTOR <= 0xffffffff)) {
    throw new InvalidOptionError(`BIOS loader: the ${what} starts at byte ${e.offset}, which is not a sector boundary below 2 TiB`, { option: what, value: e.offset });
  }
  if (!(Number.isSafeInteger(e.size) && e.size > 0 && e.size < 0xfffff000)) {
    throw new InvalidOptionError(`BIOS loader: the ${what} is ${e.size} bytes; it must be 1 byte to 4 GiB`, { option: what, value: e.size });
  }
  return e.offset / SECTOR;
}

export function biosLoader(o: BiosLoaderOptions): BiosLoader {
  const name = o.kernelName ?? 'kernel';
  const k = readKernelHeader(o.kernelHead, o.kernel.size, name);
  const kernelLba = lbaOf('kernel', o.kernel);
  const initrdLba = lbaOf('initrd', o.initrd);
  const cmdline = Buffer.from(`${o.cmdline}\0`, 'latin1');
  // cmdline_size excludes the NUL (boot.rst); the copy lands between X + HEAP_END and X + 64 KiB.
  const maxCmdline = Math.min(k.cmdlineSize || 255, 0x10000 - HEAP_END - 1);
  if (cmdline.length - 1 > maxCmdline || /[^\x20-\x7e]/.test(o.cmdline)) {
    throw new InvalidOptionError(`BIOS loader: the kernel command line must be printable ASCII of at most ${maxCmdline} bytes (${name} limit); it is ${cmdline.length - 1}`, { option: 'cmdline', value: o.cmdline.length });
  }
  const setupSectors = k.setupBytes / SECTOR;
  const kernelBytes = o.kernel.size - k.setupBytes;
  const initrdSectors = Math.ceil(o.initrd.size / SECTOR);
  // The initrd must stay clear of where the kernel decompresses itself: pref_address .. + init_size.
  const initrdMin = Math.max(k.prefAddress, LINUX_PM_LOAD_ADDRESS) + Math.max(k.initSize, kernelBytes);
  const initrdLimit = Math.min(k.initrdAddrMax + 1, 0xfffff000);
  if (initrdMin >= 0xffffffff) throw new InvalidOptionError(`BIOS loader: ${name} wants ${initrdMin} bytes below its initrd, over 4 GiB`, { option: 'kernel', value: initrdMin });

  const stage2 = assembleStage2({
    setupLba: kernelLba, setupSectors,
    kernelLba: kernelLba + setupSectors, kernelSectors: Math.ceil(kernelBytes / SECTOR),
    initrdLba, initrdSectors, initrdSize: o.initrd.size, initrdLoadBytes: initrdSectors * SECTOR,
    initrdMin, initrdLimit,
  }, cmdline);
  const stage2Sectors = stage2.bytes.length / SECTOR;
  bug(stage2Sectors <= READ_CHUNK_SECTORS, `stage 2 is ${stage2Sectors} sectors, more than one read`);
  const stage1 = assembleStage1({ stage2Lba: FIRST_USABLE_LBA, stage2Sectors }).assemble();
  bug(stage1.length <= MBR_BOOT_CODE_SIZE, `stage 1 is ${stage1.length} bytes, over the MBR's ${MBR_BOOT_CODE_SIZE}`);
  const bootCode = new Uint8Array(MBR_BOOT_CODE_SIZE);
  bootCode.set(stage1);
  return { bootCode, stage2: stage2.bytes };
}
