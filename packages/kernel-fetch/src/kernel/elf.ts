// Just enough ELF64 to find a section by name: System V gABI, "ELF Header" and "Sections".
// Little-endian only (x86-64 modules). One field table per structure drives decoding.

/** e_ident: ELFMAG "\x7fELF", EI_CLASS == ELFCLASS64 (2), EI_DATA == ELFDATA2LSB (1). */
export const ELFMAG = Uint8Array.of(0x7f, 0x45, 0x4c, 0x46);
export const EI_CLASS = 4;
export const ELFCLASS64 = 2;
export const EI_DATA = 5;
export const ELFDATA2LSB = 1;
/** sh_type SHT_NOBITS: the section occupies no file space (.bss). */
export const SHT_NOBITS = 8;

type Width = 2 | 4 | 8;
interface Field<K extends string> {
  key: K;
  offset: number;
  width: Width;
}

/** Elf64_Ehdr: the fields we use. */
export const ELF64_EHDR_SIZE = 64;
export const ELF64_EHDR: ReadonlyArray<Field<'e_shoff' | 'e_shentsize' | 'e_shnum' | 'e_shstrndx'>> = [
  { key: 'e_shoff', offset: 0x28, width: 8 }, // section header table file offset
  { key: 'e_shentsize', offset: 0x3a, width: 2 }, // section header entry size (64)
  { key: 'e_shnum', offset: 0x3c, width: 2 }, // number of section headers
  { key: 'e_shstrndx', offset: 0x3e, width: 2 }, // index of the section-name string table
];

/** Elf64_Shdr (64 bytes): the fields we use. */
export const ELF64_SHDR_SIZE = 64;
export const ELF64_SHDR: ReadonlyArray<Field<'sh_name' | 'sh_type' | 'sh_offset' | 'sh_size'>> = [
  { key: 'sh_name', offset: 0, width: 4 }, // offset of the name in .shstrtab
  { key: 'sh_type', offset: 4, width: 4 },
  { key: 'sh_offset', offset: 24, width: 8 }, // file offset of the contents
  { key: 'sh_size', offset: 32, width: 8 },
];

function decode<K extends string>(view: DataView, base: number, fields: ReadonlyArray<Field<K>>): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const f of fields) {
    const at = base + f.offset;
    out[f.key] = f.width === 2 ? view.getUint16(at, true) : f.width === 4 ? view.getUint32(at, true) : Number(view.getBigUint64(at, true));
  }
  return out;
}

export interface ElfSection {
  name: string;
  type: number;
  offset: number;
  size: number;
}

/** All sections of an ELF64 LE file; a reason string when the bytes are not one. */
export function elfSections(bytes: Uint8Array): ElfSection[] | string {
  if (bytes.length < ELF64_EHDR_SIZE || !ELFMAG.every((b, i) => bytes[i] === b)) return 'not an ELF file';
  if (bytes[EI_CLASS] !== ELFCLASS64 || bytes[EI_DATA] !== ELFDATA2LSB) return 'not a 64-bit little-endian ELF file';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const eh = decode(view, 0, ELF64_EHDR);
  if (eh.e_shentsize !== ELF64_SHDR_SIZE) return `unexpected section header size ${eh.e_shentsize}`;
  if (eh.e_shoff + eh.e_shnum * ELF64_SHDR_SIZE > bytes.length) return 'section header table beyond the end of the file (truncated?)';
  if (eh.e_shstrndx >= eh.e_shnum) return 'bad section-name table index';
  const headers = Array.from({ length: eh.e_shnum }, (_, i) => decode(view, eh.e_shoff + i * ELF64_SHDR_SIZE, ELF64_SHDR));
  const strtab = headers[eh.e_shstrndx]!;
  if (strtab.sh_offset + strtab.sh_size > bytes.length) return 'section-name table beyond the end of the file';
  const names = bytes.subarray(strtab.sh_offset, strtab.sh_offset + strtab.sh_size);
  const out: ElfSection[] = [];
  for (const h of headers) {
    const end = names.indexOf(0, h.sh_name);
    const name = Buffer.from(names.subarray(h.sh_name, end < 0 ? names.length : end)).toString('latin1');
    if (h.sh_type !== SHT_NOBITS && h.sh_offset + h.sh_size > bytes.length) return `section ${name} beyond the end of the file (truncated?)`;
    out.push({ name, type: h.sh_type, offset: h.sh_offset, size: h.sh_size });
  }
  return out;
}
