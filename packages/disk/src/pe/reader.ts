// Reads the headers of a PE32+ image held in memory (the EFI stub is ~100 KB).
import { PeFormatError } from '../errors.js';
import type { StructValues } from '@mkimage/rootfs';
import {
  CoffHeader, DATA_DIRECTORIES_OFFSET, DOS_E_LFANEW_OFFSET, DataDirectory, IMAGE_DOS_SIGNATURE, IMAGE_FILE_MACHINE_AMD64,
  IMAGE_NT_OPTIONAL_HDR64_MAGIC, OptionalHeader64, PE_SIGNATURE, SectionHeader,
} from './headers.js';

export type Section = StructValues<typeof SectionHeader.fields> & { nameText: string; headerOffset: number };

export interface PeImage {
  file: string;
  bytes: Uint8Array;
  coffOffset: number;
  coff: StructValues<typeof CoffHeader.fields>;
  optOffset: number;
  opt: StructValues<typeof OptionalHeader64.fields>;
  dataDirectories: Array<StructValues<typeof DataDirectory.fields>>;
  sectionTableOffset: number;
  sections: Section[];
}

export function readPe(bytes: Uint8Array, file: string): PeImage {
  const fail = (reason: string): never => {
    throw new PeFormatError(`${file}: not a usable PE/COFF image (${reason}); is it the EFI stub from systemd-boot-efi (linuxx64.efi.stub)?`, { file, reason });
  };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 0x40 || dv.getUint16(0, true) !== IMAGE_DOS_SIGNATURE) fail('no MZ signature');
  const peOff = dv.getUint32(DOS_E_LFANEW_OFFSET, true);
  if (peOff + 4 + CoffHeader.size > bytes.length || dv.getUint32(peOff, true) !== PE_SIGNATURE) fail('no PE signature at e_lfanew');
  const coffOffset = peOff + 4;
  const coff = CoffHeader.decode(bytes, coffOffset);
  if (coff.machine !== IMAGE_FILE_MACHINE_AMD64) fail(`machine 0x${coff.machine.toString(16)} is not x86-64 (0x8664)`);
  const optOffset = coffOffset + CoffHeader.size;
  if (coff.sizeOfOptionalHeader < OptionalHeader64.size || optOffset + coff.sizeOfOptionalHeader > bytes.length) fail('optional header truncated');
  const opt = OptionalHeader64.decode(bytes, optOffset);
  if (opt.magic !== IMAGE_NT_OPTIONAL_HDR64_MAGIC) fail(`optional header magic 0x${opt.magic.toString(16)} is not PE32+`);
  const pow2 = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;
  if (!pow2(opt.fileAlignment) || !pow2(opt.sectionAlignment)) fail('alignments are not powers of two');
  const dataDirectories = [];
  for (let i = 0; i < opt.numberOfRvaAndSizes; i++) {
    const at = optOffset + DATA_DIRECTORIES_OFFSET + i * DataDirectory.size;
    if (at + DataDirectory.size > optOffset + coff.sizeOfOptionalHeader) fail('data directories overflow the optional header');
    dataDirectories.push(DataDirectory.decode(bytes, at));
  }
  const sectionTableOffset = optOffset + coff.sizeOfOptionalHeader;
  const sections: Section[] = [];
  for (let i = 0; i < coff.numberOfSections; i++) {
    const at = sectionTableOffset + i * SectionHeader.size;
    if (at + SectionHeader.size > bytes.length) fail('section table truncated');
    const s = SectionHeader.decode(bytes, at);
    if (s.sizeOfRawData && s.pointerToRawData + s.sizeOfRawData > bytes.length) fail(`section ${i} data lies past the end of the file`);
    const nameText = Buffer.from(s.name).toString('latin1').replace(/\0+$/, '');
    sections.push({ ...s, nameText, headerOffset: at });
  }
  return { file, bytes, coffOffset, coff, optOffset, opt, dataDirectories, sectionTableOffset, sections };
}
