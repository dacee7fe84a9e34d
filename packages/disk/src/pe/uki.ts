// planUki / emitUki: a Unified Kernel Image from systemd's EFI stub plus our sections, laid out as
// systemd's ukify does (src/ukify/ukify.py, pe_add_sections):
// - new section headers go in the stub's header space after its section table;
// - each new section's file offset is the end of the file so far rounded up to FileAlignment, its raw
//   size its length rounded up to FileAlignment;
// - its virtual address follows the previous section's end rounded up to SectionAlignment;
// - .linux is marked code, the others initialized data, all readable;
// - SizeOfInitializedData grows by each new section's virtual size, SizeOfImage covers the last
//   section, TimeDateStamp is zeroed (reproducible) and CheckSum is 0 (as ukify writes) unless
//   `checksum: 'pe'` asks for the ImageHlp value (that reads every section twice).
import { exactly, zeros } from '../chunks.js';
import { InvalidOptionError, PeFormatError, bug } from '../errors.js';
import { asciiField } from '@mkimage/rootfs';
import { PeChecksum } from './checksum.js';
import {
  CoffHeader, IMAGE_DIRECTORY_ENTRY_SECURITY, IMAGE_SCN_CNT_CODE, IMAGE_SCN_CNT_INITIALIZED_DATA, IMAGE_SCN_MEM_READ,
  IMAGE_SIZEOF_SHORT_NAME, OptionalHeader64, SectionHeader,
} from './headers.js';
import { readPe, type PeImage } from './reader.js';

export interface UkiSectionInput {
  /** ".linux", ".initrd", ".cmdline", ".osrel", ".uname", ... (ASCII, at most 8 characters). */
  name: string;
  size: number;
  /** The bytes; called once per emit (twice with checksum 'pe'). */
  open: () => AsyncIterable<Uint8Array>;
  /** VirtualSize when larger than the data (ukify gives .linux the kernel's own SizeOfImage). */
  virtualSize?: number;
}

export interface UkiOptions {
  /** The stub's bytes (linuxx64.efi.stub). */
  stub: Uint8Array;
  /** Name used in error messages. */
  stubName?: string;
  sections: readonly UkiSectionInput[];
  checksum?: 'zero' | 'pe';
}

export interface PlannedSection {
  name: string;
  size: number;
  virtualSize: number;
  virtualAddress: number;
  fileOffset: number;
  rawSize: number;
  characteristics: number;
  open: () => AsyncIterable<Uint8Array>;
}

export interface UkiPlan {
  size: number;
  /** Patched stub headers (SizeOfHeaders bytes), CheckSum still 0. */
  headers: Uint8Array;
  /** Stub bytes after the headers, verbatim, padded to FileAlignment. */
  stubBody: Uint8Array;
  sections: PlannedSection[];
  checksum: 'zero' | 'pe';
  checkSumOffset: number;
  sizeOfImage: number;
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** ukify's order: .osrel .cmdline .dtb .uname .splash .pcrpkey .initrd .ucode, then .linux last. */
export const UKI_SECTION_ORDER = ['.osrel', '.cmdline', '.dtb', '.uname', '.splash', '.pcrpkey', '.initrd', '.ucode', '.linux'];

export function planUki(o: UkiOptions): UkiPlan {
  const file = o.stubName ?? 'EFI stub';
  const pe: PeImage = readPe(o.stub, file);
  const { opt } = pe;
  const FA = opt.fileAlignment;
  const SA = opt.sectionAlignment;
  const sec = pe.dataDirectories[IMAGE_DIRECTORY_ENTRY_SECURITY];
  if (sec && sec.virtualAddress !== 0) {
    throw new PeFormatError(`${file}: the stub is signed; adding sections would break the signature (use the unsigned stub)`, { file, reason: 'signed' });
  }
  for (const s of pe.sections) {
    if (s.sizeOfRawData && (s.pointerToRawData % FA || s.sizeOfRawData % FA)) {
      throw new PeFormatError(`${file}: section ${s.nameText} is not aligned to FileAlignment ${FA}`, { file, reason: 'unaligned section' });
    }
  }
  const names = new Set(pe.sections.map((s) => s.nameText));
  for (const s of o.sections) {
    if (!/^[\x21-\x7e]{1,8}$/.test(s.name)) {
      throw new InvalidOptionError(`UKI section name "${s.name}" must be 1-${IMAGE_SIZEOF_SHORT_NAME} printable ASCII characters`, { option: 'sections', value: s.name });
    }
    if (names.has(s.name)) throw new InvalidOptionError(`UKI section ${s.name} given twice (or already in the stub)`, { option: 'sections', value: s.name });
    names.add(s.name);
    if (!(Number.isSafeInteger(s.size) && s.size >= 0 && s.size <= 0xffffffff)) {
      throw new InvalidOptionError(`UKI section ${s.name}: size ${s.size} does not fit a PE section`, { option: 'sections', value: s.size });
    }
  }
  const tableEnd = pe.sectionTableOffset + (pe.sections.length + o.sections.length) * SectionHeader.size;
  if (tableEnd > opt.sizeOfHeaders) {
    throw new PeFormatError(`${file}: no header space for ${o.sections.length} more section headers (SizeOfHeaders ${opt.sizeOfHeaders})`, { file, reason: 'header space' });
  }

  // Place the new sections.
  let fileEnd = alignUp(o.stub.length, FA);
  let vaEnd = Math.max(...pe.sections.map((s) => s.virtualAddress + s.virtualSize), opt.sizeOfHeaders);
  const sections: PlannedSection[] = o.sections.map((s) => {
    const virtualSize = Math.max(s.virtualSize ?? s.size, s.size);
    const p: PlannedSection = {
      name: s.name, size: s.size, virtualSize,
      virtualAddress: alignUp(vaEnd, SA),
      fileOffset: fileEnd,
      rawSize: alignUp(s.size, FA),
      characteristics: IMAGE_SCN_MEM_READ | (s.name === '.linux' ? IMAGE_SCN_CNT_CODE : IMAGE_SCN_CNT_INITIALIZED_DATA),
      open: s.open,
    };
    fileEnd = p.fileOffset + p.rawSize;
    vaEnd = p.virtualAddress + p.virtualSize;
    return p;
  });
  if (fileEnd > 0xffffffff || vaEnd > 0xffffffff) {
    throw new InvalidOptionError(`the UKI would be ${fileEnd} bytes; PE images stop at 4 GiB`, { option: 'sections', value: fileEnd });
  }
  const sizeOfImage = alignUp(vaEnd, SA);

  // Patch the headers.
  const headers = Uint8Array.from(o.stub.subarray(0, opt.sizeOfHeaders));
  CoffHeader.encode({ ...pe.coff, numberOfSections: pe.sections.length + sections.length, timeDateStamp: 0 }, headers, pe.coffOffset);
  OptionalHeader64.encode({
    ...opt,
    sizeOfInitializedData: opt.sizeOfInitializedData + sections.reduce((n, s) => n + s.virtualSize, 0),
    sizeOfImage,
    checkSum: 0,
  }, headers, pe.optOffset);
  sections.forEach((s, i) => {
    SectionHeader.encode({
      name: asciiField(s.name, IMAGE_SIZEOF_SHORT_NAME, 0),
      virtualSize: s.virtualSize,
      virtualAddress: s.virtualAddress,
      sizeOfRawData: s.rawSize,
      pointerToRawData: s.fileOffset,
      characteristics: s.characteristics,
    }, headers, pe.sectionTableOffset + (pe.sections.length + i) * SectionHeader.size);
  });
  const bodyEnd = alignUp(o.stub.length, FA);
  const stubBody = new Uint8Array(bodyEnd - opt.sizeOfHeaders);
  stubBody.set(o.stub.subarray(opt.sizeOfHeaders));
  return {
    size: fileEnd, headers, stubBody, sections, checksum: o.checksum ?? 'zero',
    checkSumOffset: pe.optOffset + OptionalHeader64.offsetOf('checkSum'), sizeOfImage,
  };
}

export function emitUki(plan: UkiPlan): AsyncIterable<Uint8Array> {
  return exactly('UKI', plan.size, steps(plan), true);
}

async function* steps(plan: UkiPlan): AsyncGenerator<Uint8Array> {
  let headers = plan.headers;
  if (plan.checksum === 'pe') {
    // Pre-pass: sum every byte once, then patch the field.
    const sum = new PeChecksum().update(plan.headers).update(plan.stubBody);
    for (const s of plan.sections) {
      for await (const c of exactly(`UKI section ${s.name}`, s.size, s.open())) sum.update(c);
      sum.skipZeros(s.rawSize - s.size);
    }
    headers = Uint8Array.from(plan.headers);
    new DataView(headers.buffer).setUint32(plan.checkSumOffset, sum.digest(), true);
  }
  // (1) Headers, (2) the stub's sections as they were, (3) ours, each padded to FileAlignment.
  yield headers;
  yield plan.stubBody;
  let pos = headers.length + plan.stubBody.length;
  for (const s of plan.sections) {
    bug(s.fileOffset === pos, `section ${s.name} planned at ${s.fileOffset}, emitting at ${pos}`);
    yield* exactly(`UKI section ${s.name}`, s.size, s.open());
    yield* zeros(s.rawSize - s.size);
    pos += s.rawSize;
  }
}

/** The SizeOfImage of a PE file from its first bytes (a bzImage is one), or undefined if it is not PE. */
export function peSizeOfImage(head: Uint8Array): number | undefined {
  try {
    return readPeHeadersOnly(head).opt.sizeOfImage;
  } catch {
    return undefined;
  }
}

function readPeHeadersOnly(head: Uint8Array): PeImage {
  // Section data may lie past `head`; only headers are read, so present a view with no sections checked.
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const peOff = dv.getUint32(0x3c, true);
  const coff = CoffHeader.decode(head, peOff + 4);
  const opt = OptionalHeader64.decode(head, peOff + 4 + CoffHeader.size);
  if (dv.getUint16(0, true) !== 0x5a4d || dv.getUint32(peOff, true) !== 0x4550 || opt.magic !== 0x20b) throw new Error('not PE32+');
  return { file: '', bytes: head, coffOffset: peOff + 4, coff, optOffset: peOff + 24, opt, dataDirectories: [], sectionTableOffset: 0, sections: [] };
}
