// emitDisk: the bytes of a planned GPT disk, in ascending offset order.
import { exactly, padTo, zeros } from '../chunks.js';
import { bug } from '../errors.js';
import { crc32 } from '../crc32.js';
import { encodeEntryArray, encodeHeaderSector } from './header.js';
import { encodeProtectiveMbr } from './mbr.js';
import type { DiskPlan } from './plan.js';

/** The GPT structures of a plan: MBR sector, primary and backup header sectors, entry array. */
export function gptStructures(plan: DiskPlan): { mbr: Uint8Array; primary: Uint8Array; backup: Uint8Array; entries: Uint8Array } {
  const ss = plan.sectorSize;
  const entries = encodeEntryArray(plan.partitions);
  const entryArrayCrc32 = crc32(entries);
  const common = { firstUsableLba: plan.firstUsableLba, lastUsableLba: plan.lastUsableLba, diskGuid: plan.diskGuid, entryArrayCrc32 };
  return {
    mbr: encodeProtectiveMbr({ diskSectors: plan.sizeBytes / ss, ...(plan.bootCode ? { bootCode: plan.bootCode } : {}), active: plan.mbrActive }),
    // Primary and backup differ only in MyLBA/AlternateLBA and where the array is (UEFI spec §5.3.2).
    primary: encodeHeaderSector({ ...common, myLba: 1, alternateLba: plan.backupHeaderLba, partitionEntryLba: plan.primaryEntriesLba }, ss),
    backup: encodeHeaderSector({ ...common, myLba: plan.backupHeaderLba, alternateLba: 1, partitionEntryLba: plan.backupEntriesLba }, ss),
    entries,
  };
}

export function emitDisk(plan: DiskPlan): AsyncIterable<Uint8Array> {
  return exactly('disk image', plan.sizeBytes, emitSteps(plan), true);
}

async function* emitSteps(plan: DiskPlan): AsyncGenerator<Uint8Array> {
  const ss = plan.sectorSize;
  const g = gptStructures(plan);
  let pos = 0;
  // (1) LBA 0: protective MBR. (2) LBA 1: primary header. (3) LBA 2..33: primary entry array.
  yield g.mbr;
  yield g.primary;
  yield g.entries;
  pos = (plan.primaryEntriesLba * ss) + g.entries.length;
  // (4) The boot area (a BIOS loader's stage 2) in the gap after the entry array.
  if (plan.bootArea) {
    yield plan.bootArea;
    pos += plan.bootArea.length;
  }
  // (5) Partitions in LBA order, zero gaps before each (alignment).
  for (const p of plan.partitions) {
    bug(p.offset >= pos, `partition ${p.number} starts at ${p.offset}, before ${pos}`);
    yield* zeros(p.offset - pos);
    if (p.content) yield* padTo(`partition ${p.number} (${p.name})`, p.size, p.content(p));
    else yield* zeros(p.size);
    pos = p.offset + p.size;
  }
  // (6) Zeros up to the backup entry array, (7) backup array, (8) backup header in the last LBA.
  const backupAt = plan.backupEntriesLba * ss;
  bug(backupAt >= pos, `backup entry array at ${backupAt} overlaps data ending at ${pos}`);
  yield* zeros(backupAt - pos);
  yield g.entries;
  yield g.backup;
}
