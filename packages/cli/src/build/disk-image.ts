// The bootable disk: GPT with an EFI system partition (FAT) and a read-only ext4 root.
//
//   ESP  EFI/BOOT/BOOTX64.EFI  UKI: systemd's EFI stub + .osrel .cmdline .initrd .linux   (UEFI)
//   root ext4 from our writer: the app, its runtime and libraries, /etc
//   MBR  + LBA 34..: our BIOS loader, which reads the UKI's .linux and .initrd sectors     (BIOS)
//
// The kernel and initramfs are stored once, inside the UKI: the FAT writer lays each file out
// contiguously, so their absolute sectors are known when the disk is planned.
// The small initramfs (init stage + modules) finds the root by PARTUUID, which is derived from the
// content seed, so it is known before any size is.
import { open, readFile } from 'node:fs/promises';
import { FileTree, compressInitramfs, cpioStream, emitExt4Chunks, planExt4, type Compression, type Ext4Layout } from '@mkimage/rootfs';
import {
  ESP_TYPE_GUID, LINUX_ROOT_X86_64_TYPE_GUID, biosLoader, emitDisk, emitFat, emitUki, emitVhdFixed, fatFileOffset,
  fromOffsetChunks, planDisk, planFat, planUki, qcow2, ukiSections, writeImage,
  type DiskOptions, type PartitionSpec, type UkiPlan, type WriteResult,
} from '@mkimage/disk';
import { readAt } from '../app/file-io.js';
import { BuildError } from './errors.js';
import type { Format } from './options.js';

export interface DiskParts {
  /** The root file system tree (no init stage). */
  root: FileTree;
  /**
   * The small initramfs (init stage + modules), compressed, made for the root partition's PARTUUID
   * `rootPartUuid(seed)`. A promise, so the caller can start it early and let it run alongside.
   */
  initrd: { rootPartUuid: string; bytes: Uint8Array | Promise<Uint8Array> };
  vmlinuz: string;
  /** linuxx64.efi.stub from Debian's systemd-boot-efi. */
  efiStub: string;
  cmdline: string;
  osRelease: string;
  compress: Compression;
  epoch: number;
  /** Derives disk, partition and file system identities; the same inputs give the same image. */
  seed: string;
  /** Total disk size in bytes; undefined: as small as the content allows. */
  sizeBytes?: number;
  label: string;
}

export interface DiskResult {
  bytes: number;
  sha256: string;
  partitions: Array<{ name: string; partUuid: string; offset: number; size: number; holds: string }>;
  initrdBytes: number;
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts);
}

/**
 * The root partition's PARTUUID for a content seed. It derives from the seed and the partition's
 * type and place alone, not from any size, so it is known before the trees are complete.
 */
export function rootPartUuid(seed: string): string {
  const part = (name: string, typeGuid: string): PartitionSpec => ({ name, typeGuid, size: 1 << 20 });
  return planDisk({ seed, partitions: [part('ESP', ESP_TYPE_GUID), part('root', LINUX_ROOT_X86_64_TYPE_GUID)] }).partitions[1]!.partUuid.toLowerCase();
}

/** The compressed initramfs of a disk (a megabyte or so; held in memory). */
export function compressDiskInitrd(tree: FileTree, compress: Compression): Promise<Buffer> {
  // A few MiB (busybox, modules, init) on one worker thread: started before the runtime and library
  // steps, which leave the main thread idle on I/O much of the time, it is done before the write.
  return collect(compressInitramfs(cpioStream(tree), compress, { concurrency: 1 }));
}

/** An ext4 file system alone as the output file ('-': stdout), sparse, hashed as it is written. */
export function writeExt4Image(output: string, layout: Ext4Layout): Promise<WriteResult> {
  // A file write is done with each chunk before it asks for the next, so the emitter may refill
  // its buffers; stdout's stream queues chunks, so it gets fresh ones.
  const chunks = emitExt4Chunks(layout, { reuseBuffers: output !== '-' });
  return writeImage(output, fromOffsetChunks(chunks), { expectedBytes: layout.size });
}

export async function writeDiskImage(output: string, format: Extract<Format, 'raw' | 'qcow2' | 'vhd'>, p: DiskParts): Promise<DiskResult> {
  // Root file system, planned from sizes (its UUID and hash seed derive from its content). With
  // --size it is planned again below to fill the root partition.
  let ext4 = planExt4(p.root, { epoch: p.epoch, label: 'root', size: 'fit' });
  const rootSpec = (): PartitionSpec => ({
    name: 'root', typeGuid: LINUX_ROOT_X86_64_TYPE_GUID, size: ext4.size,
    content: () => fromOffsetChunks(emitExt4Chunks(ext4)),
  });
  const layout = (esp: PartitionSpec): DiskOptions => ({ seed: p.seed, partitions: [esp, rootSpec()] });
  const rootUuid = planDisk(layout({ name: 'ESP', typeGuid: ESP_TYPE_GUID, size: 1 << 20 })).partitions[1]!.partUuid.toLowerCase();
  if (rootUuid !== p.initrd.rootPartUuid) {
    throw new BuildError('E_INTERNAL', `the initramfs was made for root PARTUUID ${p.initrd.rootPartUuid}, but the disk's root is ${rootUuid}`);
  }
  const initrd = await p.initrd.bytes;

  // UEFI: the Unified Kernel Image.
  const uki = planUki({
    stub: await readFile(p.efiStub),
    sections: await ukiSections({ osrel: p.osRelease, cmdline: p.cmdline, initrd, linux: { path: p.vmlinuz } }),
  });
  const esp = new FileTree({ mtime: p.epoch });
  esp.fileFrom(UKI_PATH, uki.size, { kind: 'stream', open: () => emitUki(uki) });
  const fatOptions = { label: 'ESP', epoch: p.epoch };
  const fat = planFat(esp, fatOptions);       // hiddenSectors does not move anything
  const espSpec: PartitionSpec = {
    name: 'ESP', typeGuid: ESP_TYPE_GUID, size: fat.sizeBytes,
    content: (part) => emitFat(planFat(esp, { ...fatOptions, hiddenSectors: part.firstLba })),
  };

  // BIOS: our loader reads the UKI's .linux and .initrd by sector: ESP start + the UKI's place in
  // the FAT + the section's place in the PE file.
  const espOffset = planDisk(layout(espSpec)).partitions[0]!.offset;
  const ukiOffset = espOffset + fatFileOffset(fat, UKI_PATH);
  const loader = biosLoader({
    kernelHead: await readHead(p.vmlinuz, 1024), kernelName: p.vmlinuz,
    kernel: sectionExtent(uki, '.linux', ukiOffset), initrd: sectionExtent(uki, '.initrd', ukiOffset),
    cmdline: p.cmdline,
  });
  const bootCode = loader.bootCode;
  const bootArea = loader.stage2;
  const fit = planDisk({ ...layout(espSpec), bootCode, bootArea, sizeBytes: 'fit' });
  if (p.sizeBytes !== undefined && p.sizeBytes > fit.sizeBytes) {
    // A bigger disk: the root file system takes the rest (whole 4 KiB blocks).
    const rootSize = Math.floor((ext4.size + p.sizeBytes - fit.sizeBytes) / 4096) * 4096;
    ext4 = planExt4(p.root, { epoch: p.epoch, label: 'root', size: rootSize });
  }
  const disk = p.sizeBytes === undefined ? fit : planDisk({ ...layout(espSpec), bootCode, bootArea, sizeBytes: p.sizeBytes });
  if (disk.partitions[0]!.offset !== espOffset) {
    throw new BuildError('E_INTERNAL', `the ESP moved from ${espOffset} to ${disk.partitions[0]!.offset} after the BIOS loader was made`);
  }

  const written = format === 'raw'
    ? await writeImage(output, emitDisk(disk), { expectedBytes: disk.sizeBytes })
    : await writeContainer(output, format, disk.sizeBytes, () => emitDisk(disk));
  return {
    ...written,
    initrdBytes: initrd.length,
    partitions: disk.partitions.map((part, i) => ({
      name: part.name, partUuid: part.partUuid, offset: part.firstLba * 512, size: part.size,
      holds: i === 0 ? 'FAT: UKI (EFI/BOOT/BOOTX64.EFI), also read by the BIOS loader' : 'ext4: the app, its runtime and libraries',
    })),
  };
}

const UKI_PATH = 'EFI/BOOT/BOOTX64.EFI';

/** Where a UKI section's bytes lie on the disk, given the UKI file's disk offset. */
function sectionExtent(uki: UkiPlan, name: string, ukiOffset: number): { offset: number; size: number } {
  const s = uki.sections.find((x) => x.name === name);
  if (!s) throw new BuildError('E_INTERNAL', `the UKI has no ${name} section`);
  return { offset: ukiOffset + s.fileOffset, size: s.size };
}

async function readHead(path: string, bytes: number): Promise<Uint8Array> {
  const f = await open(path, 'r');
  try {
    return await readAt(f, 0, bytes);
  } finally {
    await f.close();
  }
}

async function writeContainer(output: string, format: 'qcow2' | 'vhd', size: number, open: () => AsyncIterable<Uint8Array>): Promise<WriteResult> {
  if (format === 'qcow2') {
    const { chunks } = await qcow2({ size, open });
    return writeImage(output, chunks, { sparse: false });
  }
  return writeImage(output, emitVhdFixed({ size, open }), { expectedBytes: size });
}
