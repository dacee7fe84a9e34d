// ELF64 on-disk structures and constants, named as in glibc's <elf.h> (also the System V gABI,
// "ELF-64 Object File Format" 1.5, and the x86-64 psABI). Only what the app inspector reads.
import { defineStruct } from '@mkimage/rootfs';

// e_ident indexes and values (elf.h "Fields in the e_ident array").
export const EI_NIDENT = 16;
export const ELFMAG = Uint8Array.of(0x7f, 0x45, 0x4c, 0x46); // "\177ELF", elf.h ELFMAG
export const EI_CLASS = 4;
export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;
export const EI_DATA = 5;
export const ELFDATA2LSB = 1;
export const ELFDATA2MSB = 2;
export const EI_VERSION = 6;
export const EV_CURRENT = 1;

// e_type (elf.h "Legal values for e_type").
export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const ET_CORE = 4;

// e_machine (elf.h "Legal values for e_machine"): x86-64 plus the ones a user is likely to hand us,
// so the error can say what the file is for.
export const EM_X86_64 = 62;
export const EM_NAMES: Readonly<Record<number, string>> = {
  2: 'sparc', // EM_SPARC
  3: 'i386', // EM_386
  8: 'mips', // EM_MIPS
  20: 'ppc', // EM_PPC
  21: 'ppc64', // EM_PPC64
  22: 's390x', // EM_S390
  40: 'arm', // EM_ARM
  43: 'sparc64', // EM_SPARCV9
  50: 'ia64', // EM_IA_64
  62: 'x86-64', // EM_X86_64
  183: 'aarch64', // EM_AARCH64
  243: 'riscv', // EM_RISCV
  258: 'loongarch', // EM_LOONGARCH
};

// Program header types (elf.h "Legal values for p_type").
export const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
export const PT_INTERP = 3;
/** elf.h: "Special value for e_phnum": the real count is in sh_info of section header 0. */
export const PN_XNUM = 0xffff;

// Dynamic section tags (elf.h "Legal values for d_tag").
export const DT_NULL = 0;
export const DT_NEEDED = 1;
export const DT_STRTAB = 5;
export const DT_STRSZ = 10;
export const DT_SONAME = 14;
export const DT_RPATH = 15;
export const DT_RUNPATH = 29;
export const DT_FLAGS_1 = 0x6ffffffb;
/** elf.h DF_1_PIE: "Object is a position-independent executable". */
export const DF_1_PIE = 0x08000000;

/** Elf64_Ehdr (elf.h), after the 16-byte e_ident. */
export const Elf64_Ehdr = defineStruct('Elf64_Ehdr', 64, [
  { name: 'e_type', offset: 16, type: 'u16' }, // object file type, ET_*
  { name: 'e_machine', offset: 18, type: 'u16' }, // architecture, EM_* (same offset in ELF32, so it is read for any class)
  { name: 'e_version', offset: 20, type: 'u32' }, // EV_CURRENT
  { name: 'e_entry', offset: 24, type: 'u64' }, // entry point virtual address
  { name: 'e_phoff', offset: 32, type: 'u64' }, // program header table file offset
  { name: 'e_shoff', offset: 40, type: 'u64' }, // section header table file offset
  { name: 'e_flags', offset: 48, type: 'u32' },
  { name: 'e_ehsize', offset: 52, type: 'u16' }, // this header's size, 64
  { name: 'e_phentsize', offset: 54, type: 'u16' }, // program header entry size, 56
  { name: 'e_phnum', offset: 56, type: 'u16' }, // program header count, or PN_XNUM
  { name: 'e_shentsize', offset: 58, type: 'u16' }, // section header entry size, 64
  { name: 'e_shnum', offset: 60, type: 'u16' },
  { name: 'e_shstrndx', offset: 62, type: 'u16' },
] as const);

/** Elf64_Phdr (elf.h). */
export const Elf64_Phdr = defineStruct('Elf64_Phdr', 56, [
  { name: 'p_type', offset: 0, type: 'u32' }, // PT_*
  { name: 'p_flags', offset: 4, type: 'u32' },
  { name: 'p_offset', offset: 8, type: 'u64' }, // segment file offset
  { name: 'p_vaddr', offset: 16, type: 'u64' }, // segment virtual address
  { name: 'p_paddr', offset: 24, type: 'u64' },
  { name: 'p_filesz', offset: 32, type: 'u64' }, // bytes in the file
  { name: 'p_memsz', offset: 40, type: 'u64' }, // bytes in memory
  { name: 'p_align', offset: 48, type: 'u64' },
] as const);

/** Elf64_Shdr (elf.h); only section 0 is read, for the PN_XNUM escape. */
export const Elf64_Shdr = defineStruct('Elf64_Shdr', 64, [
  { name: 'sh_name', offset: 0, type: 'u32' },
  { name: 'sh_type', offset: 4, type: 'u32' },
  { name: 'sh_info', offset: 44, type: 'u32' }, // for section 0: the real e_phnum when e_phnum == PN_XNUM
] as const);

/**
 * Elf64_Dyn (elf.h): Elf64_Sxword d_tag; union { d_val, d_ptr }. Split into 32-bit halves because
 * tags and values may use all 64 bits (e.g. DT_CHECKSUM) and only the small ones matter here.
 */
export const Elf64_Dyn = defineStruct('Elf64_Dyn', 16, [
  { name: 'd_tag_lo', offset: 0, type: 'u32' },
  { name: 'd_tag_hi', offset: 4, type: 'u32' },
  { name: 'd_val_lo', offset: 8, type: 'u32' },
  { name: 'd_val_hi', offset: 12, type: 'u32' },
] as const);
