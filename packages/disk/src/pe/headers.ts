// PE/COFF structures, as named in Microsoft's "PE Format" specification (learn.microsoft.com,
// "PE Format": MS-DOS stub, COFF File Header §"COFF File Header (Object and Image)", Optional
// Header §"Optional Header (Image Only)" for PE32+, Section Table §"Section Table (Section Headers)").
import { defineStruct } from '@mkimage/rootfs';

export const IMAGE_DOS_SIGNATURE = 0x5a4d; // "MZ"
/** Offset of e_lfanew, the file offset of the PE signature (PE spec, "MS-DOS Stub (Image Only)"). */
export const DOS_E_LFANEW_OFFSET = 0x3c;
export const PE_SIGNATURE = 0x00004550; // "PE\0\0"
export const IMAGE_NT_OPTIONAL_HDR64_MAGIC = 0x20b; // PE32+
export const IMAGE_NT_OPTIONAL_HDR32_MAGIC = 0x10b;
export const IMAGE_FILE_MACHINE_AMD64 = 0x8664;
export const IMAGE_DIRECTORY_ENTRY_SECURITY = 4;
/** Section characteristics (PE spec, "Section Flags"). */
export const IMAGE_SCN_CNT_CODE = 0x00000020;
export const IMAGE_SCN_CNT_INITIALIZED_DATA = 0x00000040;
export const IMAGE_SCN_MEM_READ = 0x40000000;
/** A section name is at most 8 bytes in an image (longer names need a string table images lack). */
export const IMAGE_SIZEOF_SHORT_NAME = 8;

export const CoffHeader = defineStruct('COFF file header', 20, [
  { name: 'machine', offset: 0, type: 'u16' },
  { name: 'numberOfSections', offset: 2, type: 'u16' },
  { name: 'timeDateStamp', offset: 4, type: 'u32' },
  { name: 'pointerToSymbolTable', offset: 8, type: 'u32' },
  { name: 'numberOfSymbols', offset: 12, type: 'u32' },
  { name: 'sizeOfOptionalHeader', offset: 16, type: 'u16' },
  { name: 'characteristics', offset: 18, type: 'u16' },
] as const);

/** PE32+ optional header up to the data directories (which start at offset 112). */
export const OptionalHeader64 = defineStruct('PE32+ optional header', 112, [
  { name: 'magic', offset: 0, type: 'u16' },
  { name: 'majorLinkerVersion', offset: 2, type: 'u8' },
  { name: 'minorLinkerVersion', offset: 3, type: 'u8' },
  { name: 'sizeOfCode', offset: 4, type: 'u32' },
  { name: 'sizeOfInitializedData', offset: 8, type: 'u32' },
  { name: 'sizeOfUninitializedData', offset: 12, type: 'u32' },
  { name: 'addressOfEntryPoint', offset: 16, type: 'u32' },
  { name: 'baseOfCode', offset: 20, type: 'u32' },
  { name: 'imageBase', offset: 24, type: 'u64n' },
  { name: 'sectionAlignment', offset: 32, type: 'u32' },
  { name: 'fileAlignment', offset: 36, type: 'u32' },
  { name: 'majorOperatingSystemVersion', offset: 40, type: 'u16' },
  { name: 'minorOperatingSystemVersion', offset: 42, type: 'u16' },
  { name: 'majorImageVersion', offset: 44, type: 'u16' },
  { name: 'minorImageVersion', offset: 46, type: 'u16' },
  { name: 'majorSubsystemVersion', offset: 48, type: 'u16' },
  { name: 'minorSubsystemVersion', offset: 50, type: 'u16' },
  { name: 'win32VersionValue', offset: 52, type: 'u32' },
  { name: 'sizeOfImage', offset: 56, type: 'u32' },
  { name: 'sizeOfHeaders', offset: 60, type: 'u32' },
  { name: 'checkSum', offset: 64, type: 'u32' },
  { name: 'subsystem', offset: 68, type: 'u16' },
  { name: 'dllCharacteristics', offset: 70, type: 'u16' },
  { name: 'sizeOfStackReserve', offset: 72, type: 'u64n' },
  { name: 'sizeOfStackCommit', offset: 80, type: 'u64n' },
  { name: 'sizeOfHeapReserve', offset: 88, type: 'u64n' },
  { name: 'sizeOfHeapCommit', offset: 96, type: 'u64n' },
  { name: 'loaderFlags', offset: 104, type: 'u32' },
  { name: 'numberOfRvaAndSizes', offset: 108, type: 'u32' },
] as const);
export const DATA_DIRECTORIES_OFFSET = 112;

export const DataDirectory = defineStruct('data directory', 8, [
  { name: 'virtualAddress', offset: 0, type: 'u32' },
  { name: 'size', offset: 4, type: 'u32' },
] as const);

export const SectionHeader = defineStruct('section header', 40, [
  { name: 'name', offset: 0, type: 'bytes', size: IMAGE_SIZEOF_SHORT_NAME },
  { name: 'virtualSize', offset: 8, type: 'u32' },
  { name: 'virtualAddress', offset: 12, type: 'u32' },
  { name: 'sizeOfRawData', offset: 16, type: 'u32' },
  { name: 'pointerToRawData', offset: 20, type: 'u32' },
  { name: 'pointerToRelocations', offset: 24, type: 'u32' },
  { name: 'pointerToLinenumbers', offset: 28, type: 'u32' },
  { name: 'numberOfRelocations', offset: 32, type: 'u16' },
  { name: 'numberOfLinenumbers', offset: 34, type: 'u16' },
  { name: 'characteristics', offset: 36, type: 'u32' },
] as const);
