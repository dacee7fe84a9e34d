// GPT header (UEFI spec §5.3.2, Table 5-5) and partition entry (§5.3.3, Table 5-6).
import { crc32 } from '../crc32.js';
import { defineStruct } from '@mkimage/rootfs';
import { guidField } from '../guid.js';

export const GPT_HEADER_SIGNATURE = 'EFI PART'; // UEFI spec Table 5-5
export const GPT_REVISION = 0x00010000; // 1.0
export const GPT_HEADER_SIZE = 92; // UEFI spec §5.3.2
/** Entries in the array: the minimum the spec asks space for (16 KiB, §5.3.2). */
export const GPT_NUMBER_OF_PARTITION_ENTRIES = 128;
export const GPT_SIZE_OF_PARTITION_ENTRY = 128;
/** Characters of the UTF-16LE partition name (36 x 2 = 72 bytes, Table 5-6). */
export const GPT_PARTITION_NAME_CHARS = 36;

export const GptHeader = defineStruct('GPT header', GPT_HEADER_SIZE, [
  { name: 'signature', offset: 0, type: 'bytes', size: 8 },
  { name: 'revision', offset: 8, type: 'u32' },
  { name: 'headerSize', offset: 12, type: 'u32' },
  { name: 'headerCrc32', offset: 16, type: 'u32' },
  { name: 'reserved', offset: 20, type: 'u32' },
  { name: 'myLba', offset: 24, type: 'u64' },
  { name: 'alternateLba', offset: 32, type: 'u64' },
  { name: 'firstUsableLba', offset: 40, type: 'u64' },
  { name: 'lastUsableLba', offset: 48, type: 'u64' },
  { name: 'diskGuid', offset: 56, type: guidField },
  { name: 'partitionEntryLba', offset: 72, type: 'u64' },
  { name: 'numberOfPartitionEntries', offset: 80, type: 'u32' },
  { name: 'sizeOfPartitionEntry', offset: 84, type: 'u32' },
  { name: 'partitionEntryArrayCrc32', offset: 88, type: 'u32' },
] as const);

export const GptEntry = defineStruct('GPT partition entry', GPT_SIZE_OF_PARTITION_ENTRY, [
  { name: 'partitionTypeGuid', offset: 0, type: guidField },
  { name: 'uniquePartitionGuid', offset: 16, type: guidField },
  { name: 'startingLba', offset: 32, type: 'u64' },
  { name: 'endingLba', offset: 40, type: 'u64' }, // inclusive
  { name: 'attributes', offset: 48, type: 'u64n' },
  { name: 'partitionName', offset: 56, type: 'bytes', size: GPT_PARTITION_NAME_CHARS * 2 },
] as const);

export interface EntryValues {
  typeGuid: string;
  partUuid: string;
  firstLba: number;
  lastLba: number;
  attributes: bigint;
  name: string;
}

/** The whole entry array (unused slots zero). */
export function encodeEntryArray(entries: readonly EntryValues[]): Uint8Array {
  const buf = new Uint8Array(GPT_NUMBER_OF_PARTITION_ENTRIES * GPT_SIZE_OF_PARTITION_ENTRY);
  entries.forEach((e, i) => {
    GptEntry.encode({
      partitionTypeGuid: e.typeGuid,
      uniquePartitionGuid: e.partUuid,
      startingLba: e.firstLba,
      endingLba: e.lastLba,
      attributes: e.attributes,
      partitionName: Buffer.from(e.name, 'utf16le'),
    }, buf, i * GPT_SIZE_OF_PARTITION_ENTRY);
  });
  return buf;
}

export interface HeaderValues {
  myLba: number;
  alternateLba: number;
  firstUsableLba: number;
  lastUsableLba: number;
  diskGuid: string;
  partitionEntryLba: number;
  entryArrayCrc32: number;
}

/** One 512-byte sector holding the header with its CRC (computed over the 92 header bytes, CRC field zero). */
export function encodeHeaderSector(h: HeaderValues, sectorSize: number): Uint8Array {
  const sector = new Uint8Array(sectorSize);
  GptHeader.encode({
    signature: Buffer.from(GPT_HEADER_SIGNATURE, 'ascii'),
    revision: GPT_REVISION,
    headerSize: GPT_HEADER_SIZE,
    headerCrc32: 0,
    myLba: h.myLba,
    alternateLba: h.alternateLba,
    firstUsableLba: h.firstUsableLba,
    lastUsableLba: h.lastUsableLba,
    diskGuid: h.diskGuid,
    partitionEntryLba: h.partitionEntryLba,
    numberOfPartitionEntries: GPT_NUMBER_OF_PARTITION_ENTRIES,
    sizeOfPartitionEntry: GPT_SIZE_OF_PARTITION_ENTRY,
    partitionEntryArrayCrc32: h.entryArrayCrc32,
  }, sector);
  const crc = crc32(sector.subarray(0, GPT_HEADER_SIZE));
  new DataView(sector.buffer).setUint32(GptHeader.offsetOf('headerCrc32'), crc, true);
  return sector;
}
