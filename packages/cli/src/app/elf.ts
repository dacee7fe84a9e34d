// Reads what mkimage needs to know about an ELF file from its headers: architecture, static or
// dynamic, the interpreter (PT_INTERP), and from PT_DYNAMIC the DT_NEEDED, DT_SONAME and
// DT_RUNPATH/DT_RPATH strings. Reads by position from a file handle; never loads the whole file.
import { open, type FileHandle } from 'node:fs/promises';
import { ElfArchError, ElfFormatError } from './errors.js';
import {
  DF_1_PIE, DT_FLAGS_1, DT_NEEDED, DT_NULL, DT_RPATH, DT_RUNPATH, DT_SONAME, DT_STRSZ, DT_STRTAB,
  EI_CLASS, EI_DATA, EI_NIDENT, EI_VERSION, ELFCLASS32, ELFCLASS64, ELFDATA2LSB, ELFMAG, EM_NAMES,
  EM_X86_64, ET_CORE, ET_DYN, ET_EXEC, ET_REL, EV_CURRENT, Elf64_Dyn, Elf64_Ehdr, Elf64_Phdr, Elf64_Shdr,
  PN_XNUM, PT_DYNAMIC, PT_INTERP, PT_LOAD,
} from './elf-structs.js';
import { readAt, readCString } from './file-io.js';

export interface ElfInfo {
  /** The file that was read. */
  path: string;
  /** Always 'x86-64' (anything else is rejected with ElfArchError). */
  machine: 'x86-64';
  /** ET_EXEC: fixed-address executable; ET_DYN: shared object or position-independent executable. */
  type: 'exec' | 'dyn';
  /** DF_1_PIE is set in DT_FLAGS_1 (a PIE, as opposed to a plain shared library). */
  pie: boolean;
  /** No PT_INTERP and no DT_NEEDED: runs without the dynamic loader or any library. */
  static: boolean;
  /** PT_INTERP, e.g. /lib64/ld-linux-x86-64.so.2. */
  interpreter?: string;
  /** DT_NEEDED sonames in the order the file lists them. */
  needed: string[];
  /** DT_SONAME. */
  soname?: string;
  /** DT_RUNPATH split on ':', or DT_RPATH when there is no DT_RUNPATH (ld.so ignores RPATH then). */
  runpath?: string[];
  /** Which tag `runpath` came from. */
  runpathTag?: 'DT_RUNPATH' | 'DT_RPATH';
  /** e_entry; 0 for most shared libraries. */
  entry: number;
}

/** Sanity bounds so a corrupt header cannot make us allocate or loop without end. */
const MAX_PHNUM = 65536;
const MAX_DYNAMIC_BYTES = 1 << 20;
const MAX_INTERP_BYTES = 4096;
const MAX_STRING_BYTES = 64 * 1024;

const ET_NAMES: Record<number, string> = { [ET_REL]: 'a relocatable object (.o)', [ET_CORE]: 'a core dump' };

/** True when the bytes start with the ELF magic. */
export function isElfMagic(head: Uint8Array): boolean {
  return head.length >= 4 && ELFMAG.every((b, i) => head[i] === b);
}

/** Inspects the ELF file at `path`. Throws ElfFormatError, ElfArchError, or the fs error (ENOENT...). */
export async function inspectElf(path: string): Promise<ElfInfo> {
  const fh = await open(path, 'r');
  try {
    return await inspectElfHandle(fh, path);
  } finally {
    await fh.close();
  }
}

interface Phdr { p_type: number; p_offset: number; p_vaddr: number; p_filesz: number }

export async function inspectElfHandle(fh: FileHandle, path: string): Promise<ElfInfo> {
  const fileSize = (await fh.stat()).size;
  const bad = (reason: string) => new ElfFormatError(path, reason);

  // 1. e_ident and the header. e_machine sits at the same offset in ELF32 and ELF64, so we can name
  //    the architecture of any ELF before insisting on ELFCLASS64.
  const ident = await readAt(fh, 0, Elf64_Ehdr.size);
  if (!isElfMagic(ident)) throw bad('no ELF magic (\\177ELF) at offset 0');
  if (ident.length < 20) throw bad(`file is ${fileSize} bytes, shorter than the ELF header`);
  const elfClass = ident[EI_CLASS]!;
  const elfData = ident[EI_DATA]!;
  if (elfData !== ELFDATA2LSB && elfData !== 2) throw bad(`unknown EI_DATA ${elfData}`);
  const machineNum = elfData === ELFDATA2LSB ? ident.readUInt16LE(18) : ident.readUInt16BE(18);
  const machine = EM_NAMES[machineNum] ?? `machine ${machineNum}`;
  const archData = { machine, elfClass, elfData };
  if (machineNum !== EM_X86_64) throw new ElfArchError(path, machine, archData);
  if (elfClass === ELFCLASS32) throw new ElfArchError(path, 'x86-64 with 32-bit pointers (x32, ELFCLASS32)', archData);
  if (elfClass !== ELFCLASS64) throw bad(`unknown EI_CLASS ${elfClass}`);
  if (elfData !== ELFDATA2LSB) throw new ElfArchError(path, 'a big-endian machine', archData);
  if (ident[EI_VERSION] !== EV_CURRENT) throw bad(`EI_VERSION is ${ident[EI_VERSION]}, want ${EV_CURRENT}`);
  if (ident.length < Elf64_Ehdr.size) throw bad(`file is ${fileSize} bytes, shorter than the 64-byte ELF64 header`);
  const eh = Elf64_Ehdr.decode(ident);
  if (eh.e_type !== ET_EXEC && eh.e_type !== ET_DYN) {
    throw bad(`it is ${ET_NAMES[eh.e_type] ?? `of e_type ${eh.e_type}`}, not an executable or shared library`);
  }
  if (eh.e_ehsize !== 0 && eh.e_ehsize < Elf64_Ehdr.size) throw bad(`e_ehsize ${eh.e_ehsize} < ${Elf64_Ehdr.size}`);

  // 2. Program headers (PN_XNUM: the count lives in section header 0).
  let phnum = eh.e_phnum;
  if (phnum === PN_XNUM) {
    if (eh.e_shoff + Elf64_Shdr.size > fileSize) throw bad(`e_phnum is PN_XNUM but section header 0 (at ${eh.e_shoff}) is past the end`);
    const sh0 = await readAt(fh, eh.e_shoff, Elf64_Shdr.size);
    if (sh0.length < Elf64_Shdr.size) throw bad('e_phnum is PN_XNUM but section header 0 is past the end');
    phnum = Elf64_Shdr.decode(sh0).sh_info;
  }
  if (phnum === 0) throw bad('no program headers');
  if (phnum > MAX_PHNUM) throw bad(`${phnum} program headers`);
  if (eh.e_phentsize < Elf64_Phdr.size) throw bad(`e_phentsize ${eh.e_phentsize} < ${Elf64_Phdr.size}`);
  const phBytes = phnum * eh.e_phentsize;
  if (eh.e_phoff + phBytes > fileSize) {
    throw bad(`program headers end at byte ${eh.e_phoff + phBytes}, file has ${fileSize} (truncated?)`);
  }
  const phBuf = await readAt(fh, eh.e_phoff, phBytes);
  const phdrs: Phdr[] = [];
  for (let i = 0; i < phnum; i++) phdrs.push(Elf64_Phdr.decode(phBuf, i * eh.e_phentsize));
  const inFile = (p: Phdr, what: string) => {
    if (p.p_offset + p.p_filesz > fileSize) {
      throw bad(`${what} segment ends at byte ${p.p_offset + p.p_filesz}, file has ${fileSize} (truncated?)`);
    }
  };

  // 3. PT_INTERP: the loader path, NUL-terminated.
  let interpreter: string | undefined;
  const interp = phdrs.find((p) => p.p_type === PT_INTERP);
  if (interp) {
    inFile(interp, 'PT_INTERP');
    if (interp.p_filesz === 0 || interp.p_filesz > MAX_INTERP_BYTES) throw bad(`PT_INTERP of ${interp.p_filesz} bytes`);
    const raw = await readAt(fh, interp.p_offset, interp.p_filesz);
    const nul = raw.indexOf(0);
    interpreter = raw.subarray(0, nul < 0 ? raw.length : nul).toString('utf8');
    if (!interpreter) throw bad('empty PT_INTERP');
  }

  // 4. PT_DYNAMIC: tags up to DT_NULL; string values are offsets into DT_STRTAB, an address that a
  //    PT_LOAD segment maps back to a file offset.
  const needed: string[] = [];
  let soname: string | undefined;
  let runpath: string[] | undefined;
  let runpathTag: ElfInfo['runpathTag'];
  let pie = false;
  const dyn = phdrs.find((p) => p.p_type === PT_DYNAMIC);
  if (dyn) {
    inFile(dyn, 'PT_DYNAMIC');
    if (dyn.p_filesz > MAX_DYNAMIC_BYTES) throw bad(`PT_DYNAMIC of ${dyn.p_filesz} bytes`);
    const dynBuf = await readAt(fh, dyn.p_offset, dyn.p_filesz);
    const strOffsets: { tag: number; off: number }[] = [];
    let strtab: number | undefined;
    let strsz: number | undefined;
    for (let at = 0; at + Elf64_Dyn.size <= dynBuf.length; at += Elf64_Dyn.size) {
      const d = Elf64_Dyn.decode(dynBuf, at);
      if (d.d_tag_hi !== 0) continue; // no tag we read has high bits
      const tag = d.d_tag_lo;
      if (tag === DT_NULL) break;
      const val = d.d_val_hi * 2 ** 32 + d.d_val_lo;
      if (tag === DT_STRTAB) strtab = val;
      else if (tag === DT_STRSZ) strsz = val;
      else if (tag === DT_FLAGS_1) pie = (d.d_val_lo & DF_1_PIE) !== 0;
      else if (tag === DT_NEEDED || tag === DT_SONAME || tag === DT_RPATH || tag === DT_RUNPATH) strOffsets.push({ tag, off: val });
    }
    if (strOffsets.length > 0) {
      if (strtab === undefined) throw bad('PT_DYNAMIC has string entries but no DT_STRTAB');
      const strtabOffset = vaddrToOffset(phdrs, strtab);
      if (strtabOffset === undefined) throw bad(`DT_STRTAB address 0x${strtab.toString(16)} is in no PT_LOAD segment`);
      if (strtabOffset >= fileSize) throw bad(`DT_STRTAB maps to byte ${strtabOffset}, file has ${fileSize} (truncated?)`);
      const limit = Math.min(strsz ?? Infinity, fileSize - strtabOffset);
      const str = async (off: number) => {
        if (off >= limit) throw bad(`dynamic string offset ${off} is past DT_STRSZ ${limit}`);
        const s = await readCString(fh, strtabOffset + off, Math.min(limit - off, MAX_STRING_BYTES));
        if (s === undefined) throw bad(`unterminated dynamic string at DT_STRTAB+${off}`);
        return s;
      };
      let rpath: string[] | undefined;
      for (const { tag, off } of strOffsets) {
        const s = await str(off);
        if (tag === DT_NEEDED) needed.push(s);
        else if (tag === DT_SONAME) soname = s;
        else if (tag === DT_RUNPATH) runpath = s.split(':');
        else rpath = s.split(':');
      }
      if (runpath) runpathTag = 'DT_RUNPATH';
      else if (rpath) [runpath, runpathTag] = [rpath, 'DT_RPATH'];
    }
  }

  const info: ElfInfo = {
    path,
    machine: 'x86-64',
    type: eh.e_type === ET_EXEC ? 'exec' : 'dyn',
    pie,
    static: interpreter === undefined && needed.length === 0,
    needed,
    entry: eh.e_entry,
  };
  if (interpreter !== undefined) info.interpreter = interpreter;
  if (soname !== undefined) info.soname = soname;
  if (runpath !== undefined) [info.runpath, info.runpathTag] = [runpath, runpathTag];
  return info;
}

/** Maps a virtual address to a file offset through the PT_LOAD segment whose file image holds it. */
function vaddrToOffset(phdrs: readonly Phdr[], addr: number): number | undefined {
  for (const p of phdrs) {
    if (p.p_type === PT_LOAD && addr >= p.p_vaddr && addr < p.p_vaddr + p.p_filesz) return p.p_offset + (addr - p.p_vaddr);
  }
  return undefined;
}

/** True when the ELF can be started as a program (not just loaded as a library). */
export function isExecutable(info: ElfInfo): boolean {
  if (info.type === 'exec') return true;
  // ET_DYN: a PIE has an interpreter (dynamic PIE) or DF_1_PIE (static PIE). Plain libraries have
  // neither (libc.so.6 has PT_INTERP and does run: it prints its version).
  return info.interpreter !== undefined || info.pie;
}
