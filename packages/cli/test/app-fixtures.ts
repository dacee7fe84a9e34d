// Test inputs built in code (no binaries committed): ZIP/JAR archives written with node's zlib, and
// hand-made ELF64 files with chosen headers, program headers and dynamic entries. Written from the
// specs independently of src/app (no shared field tables), so a layout mistake there shows up here.
import { crc32, deflateRawSync } from 'node:zlib';

export interface ZipInput {
  name: string;
  data: Uint8Array | string;
  /** Default: deflate. */
  method?: 'stored' | 'deflate';
}

export interface ZipOptions {
  /** Write zip64 extra fields, the zip64 EOCD record and locator, and 0xFFFF.. in the 32-bit fields. */
  zip64?: boolean;
  /** Bytes before the archive (e.g. a launcher script); offsets stay relative to the archive start. */
  prefix?: Uint8Array | string;
  comment?: string;
}

const u16 = (v: number) => { const b = Buffer.alloc(2); b.writeUInt16LE(v); return b; };
const u32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return b; };
const u64 = (v: number) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); return b; };

/** A ZIP archive per APPNOTE 6.3.10, written in memory. */
export function makeZip(files: ZipInput[], opts: ZipOptions = {}): Buffer {
  const z64 = !!opts.zip64;
  const local: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const data = Buffer.from(f.data);
    const method = f.method === 'stored' ? 0 : 8;
    const body = method === 8 ? deflateRawSync(data) : data;
    const name = Buffer.from(f.name, 'utf8');
    const crc = crc32(data) >>> 0;
    const localExtra = z64 ? Buffer.concat([u16(1), u16(16), u64(data.length), u64(body.length)]) : Buffer.alloc(0);
    const lh = Buffer.concat([
      u32(0x04034b50), u16(z64 ? 45 : 20), u16(0x0800), u16(method), u16(0), u16(0x21), u32(crc),
      u32(z64 ? 0xffffffff : body.length), u32(z64 ? 0xffffffff : data.length), u16(name.length), u16(localExtra.length),
      name, localExtra,
    ]);
    const cdExtra = z64 ? Buffer.concat([u16(1), u16(24), u64(data.length), u64(body.length), u64(offset)]) : Buffer.alloc(0);
    central.push(Buffer.concat([
      u32(0x02014b50), u16(0x0314), u16(z64 ? 45 : 20), u16(0x0800), u16(method), u16(0), u16(0x21), u32(crc),
      u32(z64 ? 0xffffffff : body.length), u32(z64 ? 0xffffffff : data.length), u16(name.length), u16(cdExtra.length),
      u16(0), u16(0), u16(0), u32(0o100644 << 16), u32(z64 ? 0xffffffff : offset), name, cdExtra,
    ]));
    local.push(lh, body);
    offset += lh.length + body.length;
  }
  const cd = Buffer.concat(central);
  const cdOffset = offset;
  const tail: Buffer[] = [];
  if (z64) {
    const recOffset = cdOffset + cd.length;
    tail.push(Buffer.concat([
      u32(0x06064b50), u64(44), u16(45), u16(45), u32(0), u32(0), u64(files.length), u64(files.length), u64(cd.length), u64(cdOffset),
    ]));
    tail.push(Buffer.concat([u32(0x07064b50), u32(0), u64(recOffset), u32(1)]));
  }
  const comment = Buffer.from(opts.comment ?? '');
  tail.push(Buffer.concat([
    u32(0x06054b50), u16(0), u16(0), u16(z64 ? 0xffff : files.length), u16(z64 ? 0xffff : files.length),
    u32(z64 ? 0xffffffff : cd.length), u32(z64 ? 0xffffffff : cdOffset), u16(comment.length), comment,
  ]));
  return Buffer.concat([Buffer.from(opts.prefix ?? ''), ...local, cd, ...tail]);
}

/** A class file header (u4 magic, u2 minor, u2 major) plus filler. */
export function classBytes(major: number, filler = 200): Buffer {
  const b = Buffer.alloc(8 + filler, 0x41);
  b.writeUInt32BE(0xcafebabe, 0);
  b.writeUInt16BE(0, 4);
  b.writeUInt16BE(major, 6);
  return b;
}

export interface ElfSpec {
  machine?: number; // e_machine, default 62 (EM_X86_64)
  elfClass?: number; // EI_CLASS, default 2 (ELFCLASS64)
  elfData?: number; // EI_DATA, default 1 (ELFDATA2LSB)
  type?: number; // e_type, default 3 (ET_DYN)
  interpreter?: string;
  needed?: string[];
  soname?: string;
  runpath?: string;
  rpath?: string;
  flags1?: number;
  /** Omit PT_DYNAMIC entirely. */
  noDynamic?: boolean;
}

/**
 * A minimal ELF64: header, program headers (PT_LOAD over the whole file at 0x400000, PT_INTERP,
 * PT_DYNAMIC), the interpreter string, the dynamic array and its string table. Enough for readelf
 * and our reader; it does not run.
 */
export function makeElf(spec: ElfSpec = {}): Buffer {
  const BASE = 0x400000;
  const strings: Buffer[] = [Buffer.from([0])];
  let strLen = 1;
  const addStr = (s: string) => { const off = strLen; const b = Buffer.from(s + '\0'); strings.push(b); strLen += b.length; return off; };
  const dyn: [number, number][] = [];
  for (const n of spec.needed ?? []) dyn.push([1, addStr(n)]); // DT_NEEDED
  if (spec.soname !== undefined) dyn.push([14, addStr(spec.soname)]); // DT_SONAME
  if (spec.rpath !== undefined) dyn.push([15, addStr(spec.rpath)]); // DT_RPATH
  if (spec.runpath !== undefined) dyn.push([29, addStr(spec.runpath)]); // DT_RUNPATH
  if (spec.flags1 !== undefined) dyn.push([0x6ffffffb, spec.flags1]); // DT_FLAGS_1
  const strtab = Buffer.concat(strings);
  const interp = spec.interpreter !== undefined ? Buffer.from(spec.interpreter + '\0') : undefined;
  const phnum = 1 + (interp ? 1 : 0) + (spec.noDynamic ? 0 : 1);
  const phoff = 64;
  const interpOff = phoff + phnum * 56;
  const dynOff = interpOff + (interp?.length ?? 0) + 8 - ((interpOff + (interp?.length ?? 0)) % 8);
  const dynCount = dyn.length + 3; // + DT_STRTAB, DT_STRSZ, DT_NULL
  const strOff = dynOff + dynCount * 16;
  const total = strOff + strtab.length;
  const out = Buffer.alloc(total);
  // e_ident
  out.set([0x7f, 0x45, 0x4c, 0x46, spec.elfClass ?? 2, spec.elfData ?? 1, 1, 0], 0);
  out.writeUInt16LE(spec.type ?? 3, 16);
  out.writeUInt16LE(spec.machine ?? 62, 18);
  out.writeUInt32LE(1, 20);
  out.writeBigUInt64LE(BigInt(BASE + 0x1000), 24); // e_entry
  out.writeBigUInt64LE(BigInt(phoff), 32);
  out.writeUInt16LE(64, 52); // e_ehsize
  out.writeUInt16LE(56, 54); // e_phentsize
  out.writeUInt16LE(phnum, 56);
  out.writeUInt16LE(64, 58); // e_shentsize
  let ph = phoff;
  const phdr = (type: number, off: number, size: number) => {
    out.writeUInt32LE(type, ph);
    out.writeUInt32LE(4, ph + 4);
    out.writeBigUInt64LE(BigInt(off), ph + 8);
    out.writeBigUInt64LE(BigInt(BASE + off), ph + 16);
    out.writeBigUInt64LE(BigInt(BASE + off), ph + 24);
    out.writeBigUInt64LE(BigInt(size), ph + 32);
    out.writeBigUInt64LE(BigInt(size), ph + 40);
    out.writeBigUInt64LE(BigInt(type === 1 ? 0x1000 : 8), ph + 48);
    ph += 56;
  };
  if (interp) phdr(3, interpOff, interp.length); // PT_INTERP
  phdr(1, 0, total); // PT_LOAD
  if (!spec.noDynamic) phdr(2, dynOff, dynCount * 16); // PT_DYNAMIC
  if (interp) interp.copy(out, interpOff);
  let d = dynOff;
  for (const [tag, val] of [...dyn, [5, BASE + strOff], [10, strtab.length], [0, 0]] as [number, number][]) {
    out.writeBigUInt64LE(BigInt(tag), d);
    out.writeBigUInt64LE(BigInt(val), d + 8);
    d += 16;
  }
  strtab.copy(out, strOff);
  return out;
}
