// planDisk: every LBA of a GPT disk from the partition sizes alone (no content is read).
//
// Layout (UEFI spec §5.3.1): LBA 0 protective MBR, LBA 1 primary header, LBA 2.. entry array,
// partitions aligned to `alignment` (1 MiB), then the backup entry array and the backup header in
// the last LBA.
import { alignUp } from '../chunks.js';
import { InvalidOptionError, TooSmallError } from '../errors.js';
import { derivePartitionGuid, deriveGuid, normalizeGuid } from '../guid.js';
import { GPT_NUMBER_OF_PARTITION_ENTRIES, GPT_PARTITION_NAME_CHARS, GPT_SIZE_OF_PARTITION_ENTRY } from './header.js';
import { MBR_BOOT_CODE_SIZE } from './mbr.js';

export const SECTOR_SIZE = 512;
export const DEFAULT_ALIGNMENT = 1 << 20;
/** Sectors taken by one entry array: 128 x 128 bytes / 512 = 32. */
export const ENTRY_ARRAY_SECTORS = (GPT_NUMBER_OF_PARTITION_ENTRIES * GPT_SIZE_OF_PARTITION_ENTRY) / SECTOR_SIZE;

/** The first LBA after the primary header and entry array (UEFI spec §5.3.1): 2 + 32 = 34. */
export const FIRST_USABLE_LBA = 2 + ENTRY_ARRAY_SECTORS;

/** What a partition's content callback is told: where it landed. */
export interface PlannedPartition {
  /** 1-based partition number (sda1, nvme0n1p1, ...). */
  number: number;
  name: string;
  typeGuid: string;
  /** The unique partition GUID, i.e. the PARTUUID the kernel shows (lower-case in /dev/disk/by-partuuid). */
  partUuid: string;
  firstLba: number;
  /** Inclusive, as GPT stores it. */
  lastLba: number;
  /** Byte offset of the first sector on the disk. */
  offset: number;
  /** Size in bytes (lastLba - firstLba + 1 sectors). */
  size: number;
  attributes: bigint;
}

export interface PartitionSpec {
  name: string;
  typeGuid: string;
  /** Bytes; rounded up to whole sectors. With `grow`, the minimum size. */
  size: number;
  /** GPT attribute bits (see GPT_ATTR_*). */
  attributes?: bigint;
  /** This partition takes the disk's space left over when `sizeBytes` is larger than needed (one at most). */
  grow?: boolean;
  /** Fixed PARTUUID instead of the derived one. */
  partUuid?: string;
  /** The partition's bytes: at most `size`; the rest is zero-filled. Omitted: all zeros. */
  content?: (p: PlannedPartition) => AsyncIterable<Uint8Array>;
}

export interface DiskOptions {
  partitions: readonly PartitionSpec[];
  /** Total size in bytes (a multiple of 512), or 'fit' (default): the smallest 1 MiB multiple that holds everything. */
  sizeBytes?: number | 'fit';
  /** Up to 440 bytes of MBR boot code (e.g. biosLoader().bootCode, or syslinux gptmbr.bin). */
  bootCode?: Uint8Array;
  /**
   * Bytes stored from LBA 34, right after the primary entry array, in the gap before the first
   * partition (a BIOS loader's second stage, as GRUB keeps core.img after an MBR). It must end before
   * the first partition; GPT tools ignore the gap.
   */
  bootArea?: Uint8Array;
  /** Mark the protective MBR record active (some BIOSes want it with gptmbr.bin). Default false, as UEFI asks. */
  mbrActive?: boolean;
  /** Key of every derived GUID: derive it from the image content for stable, distinct ids. */
  seed: Uint8Array | string;
  /** Fixed disk GUID instead of the derived one. */
  diskGuid?: string;
  /** Partition start alignment in bytes (a multiple of 512). Default 1 MiB. */
  alignment?: number;
}

export interface DiskPlan {
  sizeBytes: number;
  sectorSize: number;
  diskGuid: string;
  partitions: Array<PlannedPartition & { content?: PartitionSpec['content'] }>;
  firstUsableLba: number;
  lastUsableLba: number;
  primaryEntriesLba: number;
  backupEntriesLba: number;
  backupHeaderLba: number;
  bootCode?: Uint8Array;
  bootArea?: Uint8Array;
  mbrActive: boolean;
}

const DISK_GUID_MESSAGE = Buffer.from('mkimage GPT disk GUID', 'ascii');

export function planDisk(o: DiskOptions): DiskPlan {
  const alignment = o.alignment ?? DEFAULT_ALIGNMENT;
  if (!(Number.isSafeInteger(alignment) && alignment > 0 && alignment % SECTOR_SIZE === 0)) {
    throw new InvalidOptionError(`alignment ${alignment} is not a positive multiple of ${SECTOR_SIZE}`, { option: 'alignment', value: alignment });
  }
  if (o.partitions.length > GPT_NUMBER_OF_PARTITION_ENTRIES) {
    throw new InvalidOptionError(`${o.partitions.length} partitions: GPT holds at most ${GPT_NUMBER_OF_PARTITION_ENTRIES} here`, { option: 'partitions', value: o.partitions.length });
  }
  if (o.bootCode && o.bootCode.length > MBR_BOOT_CODE_SIZE) {
    throw new InvalidOptionError(`MBR boot code is ${o.bootCode.length} bytes; at most ${MBR_BOOT_CODE_SIZE} fit before the partition table`, { option: 'bootCode', value: o.bootCode.length });
  }
  const growers = o.partitions.filter((p) => p.grow);
  if (growers.length > 1) {
    throw new InvalidOptionError(`only one partition can grow; ${growers.map((p) => p.name).join(', ')} all ask to`, { option: 'grow', value: growers.length });
  }
  for (const p of o.partitions) {
    if (!(Number.isSafeInteger(p.size) && p.size > 0)) {
      throw new InvalidOptionError(`partition ${p.name}: size ${p.size} is not a positive whole number of bytes`, { option: 'size', value: p.size });
    }
    if (p.name.length > GPT_PARTITION_NAME_CHARS) {
      throw new InvalidOptionError(`partition name "${p.name}" is longer than ${GPT_PARTITION_NAME_CHARS} characters`, { option: 'name', value: p.name });
    }
  }

  const sectorsPerAlign = alignment / SECTOR_SIZE;
  const firstUsableLba = FIRST_USABLE_LBA;
  const minTail = ENTRY_ARRAY_SECTORS + 1; // backup array + backup header

  // Lay out with minimum sizes to learn the smallest disk.
  const sectorsOf = (p: PartitionSpec): number => Math.ceil(p.size / SECTOR_SIZE);
  const layout = (extra: number): Array<{ first: number; sectors: number }> => {
    let lba = firstUsableLba;
    return o.partitions.map((p) => {
      const first = alignUp(lba, sectorsPerAlign);
      const sectors = sectorsOf(p) + (p.grow ? extra : 0);
      lba = first + sectors;
      return { first, sectors };
    });
  };
  const minimal = layout(0);
  const endLba = minimal.length ? minimal[minimal.length - 1]!.first + minimal[minimal.length - 1]!.sectors : firstUsableLba;
  const neededBytes = alignUp((endLba + minTail) * SECTOR_SIZE, alignment);

  let sizeBytes: number;
  if (o.sizeBytes === undefined || o.sizeBytes === 'fit') {
    sizeBytes = neededBytes;
  } else {
    sizeBytes = o.sizeBytes;
    if (!(Number.isSafeInteger(sizeBytes) && sizeBytes > 0 && sizeBytes % SECTOR_SIZE === 0)) {
      throw new InvalidOptionError(`disk size ${sizeBytes} is not a positive multiple of ${SECTOR_SIZE} bytes`, { option: 'sizeBytes', value: sizeBytes });
    }
    const minExact = (endLba + minTail) * SECTOR_SIZE;
    if (sizeBytes < minExact) {
      throw new TooSmallError(
        `disk: the partitions need ${mib(minExact)} but the size asked for is ${mib(sizeBytes)}; ask for at least ${mib(neededBytes)}`,
        { what: 'disk', needed: minExact, available: sizeBytes });
    }
  }
  const totalSectors = sizeBytes / SECTOR_SIZE;
  const backupHeaderLba = totalSectors - 1;
  const backupEntriesLba = backupHeaderLba - ENTRY_ARRAY_SECTORS;
  const lastUsableLba = backupEntriesLba - 1;

  // The growing partition takes what is left after the others, up to the last usable LBA.
  const slack = lastUsableLba + 1 - endLba;
  const final = growers.length ? layout(slack) : minimal;

  const diskGuid = o.diskGuid ? normalizeGuid(o.diskGuid) : deriveGuid(o.seed, DISK_GUID_MESSAGE);
  const instances = new Map<string, number>();
  const partitions = o.partitions.map((p, i) => {
    const typeGuid = normalizeGuid(p.typeGuid);
    const instance = instances.get(typeGuid) ?? 0;
    instances.set(typeGuid, instance + 1);
    const { first, sectors } = final[i]!;
    return {
      number: i + 1,
      name: p.name,
      typeGuid,
      partUuid: p.partUuid ? normalizeGuid(p.partUuid) : derivePartitionGuid(o.seed, typeGuid, instance),
      firstLba: first,
      lastLba: first + sectors - 1,
      offset: first * SECTOR_SIZE,
      size: sectors * SECTOR_SIZE,
      attributes: p.attributes ?? 0n,
      ...(p.content ? { content: p.content } : {}),
    };
  });
  const gapEnd = partitions.length ? partitions[0]!.firstLba : lastUsableLba + 1;
  if (o.bootArea && o.bootArea.length > (gapEnd - firstUsableLba) * SECTOR_SIZE) {
    throw new InvalidOptionError(`the boot area is ${o.bootArea.length} bytes; only ${(gapEnd - firstUsableLba) * SECTOR_SIZE} fit between the GPT entry array and the first partition (raise the alignment)`,
      { option: 'bootArea', value: o.bootArea.length });
  }
  const uuids = new Set(partitions.map((p) => p.partUuid));
  if (uuids.size !== partitions.length) {
    throw new InvalidOptionError('two partitions have the same PARTUUID; give them distinct ones', { option: 'partUuid', value: [...uuids] });
  }
  return {
    sizeBytes, sectorSize: SECTOR_SIZE, diskGuid, partitions,
    firstUsableLba, lastUsableLba, primaryEntriesLba: 2, backupEntriesLba, backupHeaderLba,
    ...(o.bootCode ? { bootCode: o.bootCode } : {}),
    ...(o.bootArea ? { bootArea: o.bootArea } : {}),
    mbrActive: o.mbrActive ?? false,
  };
}

function mib(n: number): string {
  return `${(n / (1 << 20)).toFixed(2)} MiB (${n} bytes)`;
}
