// A deliberately tiny 16-bit x86 (real mode) assembler: only the instruction forms the BIOS loader
// needs. Memory operands are direct 16-bit addresses ([disp16], ModRM mod=00 rm=110), resolved from
// labels against the origin the code is loaded at; 32-bit operands take the operand-size prefix.
// Encodings follow the Intel SDM vol. 2 (ModRM §2.1.5, tables 2-1 and 2-2; opcode map appendix A).
// Each instruction is recorded with its offset and mnemonic so tests can check the bytes against an
// independent disassembler (objdump -mi8086).

/** 8/16/32-bit general registers share numbers 0-7 (Intel SDM vol. 2, table 2-1). */
export const R = { ax: 0, cx: 1, dx: 2, bx: 3, sp: 4, bp: 5, si: 6, di: 7 } as const;
export const R8 = { al: 0, cl: 1, dl: 2, bl: 3, ah: 4, ch: 5, dh: 6, bh: 7 } as const;
export const Seg = { es: 0, cs: 1, ss: 2, ds: 3, fs: 4, gs: 5 } as const;
type R16 = (typeof R)[keyof typeof R];
type R8 = (typeof R8)[keyof typeof R8];
type SegReg = (typeof Seg)[keyof typeof Seg];

/**
 * A memory operand: a label plus a byte offset (the address origin + label + add, through DS), or
 * with no label an absolute offset `add` through ES (the ES segment-override prefix 26h), which the
 * loader uses to reach the kernel's setup header above 64 KiB.
 */
export interface Mem { label?: string; add?: number }
export const mem = (label: string, add = 0): Mem => ({ label, add });
export const esMem = (offset: number): Mem => ({ add: offset });
/** ES segment-override prefix (Intel SDM vol. 2, §2.1.1). */
const ES_OVERRIDE = 0x26;

/** Operand-size prefix: the following instruction works on 32-bit registers/memory in 16-bit code. */
const OSIZE = 0x66;
/** ModRM for a [disp16] operand with reg field `r`. */
const modrmDirect = (r: number): number => (r << 3) | 0b110;
/** ModRM for a register-register operand. */
const modrmReg = (r: number, rm: number): number => 0xc0 | (r << 3) | rm;

/** Conditional jumps (Jcc rel8, 70+cc), named as objdump prints them. */
const CC = { jo: 0x70, jb: 0x72, jae: 0x73, je: 0x74, jne: 0x75, jbe: 0x76, ja: 0x77, js: 0x78 } as const;
export type Cond = keyof typeof CC;

interface Fixup { at: number; label: string; kind: 'abs16' | 'rel8' | 'rel16'; add: number }

export interface Instruction { offset: number; mnemonic: string }

export class Asm16 {
  private readonly bytes: number[] = [];
  private readonly labels = new Map<string, number>();
  private readonly fixups: Fixup[] = [];
  /** Instructions in order (data emitted with `data` is not listed). */
  readonly instructions: Instruction[] = [];
  /** Offset where code ends and data begins (set by `dataStart`). */
  codeEnd = -1;

  /** `origin`: the address the first byte is loaded at (0x7c00 for a boot sector), with CS/DS = 0. */
  constructor(readonly origin: number) {}

  get offset(): number { return this.bytes.length; }

  label(name: string): this {
    if (this.labels.has(name)) throw new Error(`BUG: label ${name} defined twice`);
    this.labels.set(name, this.bytes.length);
    return this;
  }

  /** Absolute address of a label (after `assemble`, or for labels already defined). */
  address(name: string): number {
    const at = this.labels.get(name);
    if (at === undefined) throw new Error(`BUG: undefined label ${name}`);
    return this.origin + at;
  }

  private op(mnemonic: string, ...b: number[]): this {
    this.instructions.push({ offset: this.bytes.length, mnemonic });
    this.bytes.push(...b);
    return this;
  }

  /** The instruction with a [disp16] operand: prefix, opcode bytes, ModRM, displacement, immediates. */
  private opMem(mnemonic: string, opcode: number[], r: number, m: Mem, imm: number[] = []): this {
    this.instructions.push({ offset: this.bytes.length, mnemonic });
    if (m.label === undefined) {
      this.bytes.push(ES_OVERRIDE, ...opcode, modrmDirect(r), ...le16(m.add ?? 0), ...imm);
      return this;
    }
    this.bytes.push(...opcode, modrmDirect(r));
    this.fixups.push({ at: this.bytes.length, label: m.label, kind: 'abs16', add: m.add ?? 0 });
    this.bytes.push(0, 0, ...imm);
    return this;
  }

  // --- flags, interrupts, string and port I/O (one byte each) ---
  cli(): this { return this.op('cli', 0xfa); }
  sti(): this { return this.op('sti', 0xfb); }
  cld(): this { return this.op('cld', 0xfc); }
  hlt(): this { return this.op('hlt', 0xf4); }
  ret(): this { return this.op('ret', 0xc3); }
  /** lodsb: al = [ds:si], si += 1 (AC). */
  lodsb(): this { return this.op('lods', 0xac); }
  /** in al, dx (EC). */
  inAlDx(): this { return this.op('in', 0xec); }
  /** out dx, al (EE). */
  outDxAl(): this { return this.op('out', 0xee); }
  /** rep movsb: copy cx bytes from ds:si to es:di (F3 A4). */
  repMovsb(): this { return this.op('rep', 0xf3, 0xa4); }
  /** push r16 (50+rw). */
  push16(r: R16): this { return this.op('push', 0x50 + r); }
  /** pop r16 (58+rw). */
  pop16(r: R16): this { return this.op('pop', 0x58 + r); }
  /** int imm8 (CD ib). */
  int(n: number): this { return this.op('int', 0xcd, u8(n)); }

  // --- moves ---
  /** mov r16, imm16 (B8+rw iw). */
  movImm16(r: R16, v: number): this { return this.op('mov', 0xb8 + r, ...le16(v)); }
  /** mov r16, imm16 (B8+rw iw) with the absolute address of a label. */
  movAddr(r: R16, label: string): this {
    this.op('mov', 0xb8 + r);
    this.fixups.push({ at: this.bytes.length, label, kind: 'abs16', add: 0 });
    this.bytes.push(0, 0);
    return this;
  }
  /** mov r32, imm32 (66 B8+rd id). */
  movImm32(r: R16, v: number): this { return this.op('mov', OSIZE, 0xb8 + r, ...le32(v)); }
  /** mov r8, imm8 (B0+rb ib). */
  movImm8(r: R8, v: number): this { return this.op('mov', 0xb0 + r, u8(v)); }
  /** mov sreg, r16 (8E /r). */
  movSeg(s: SegReg, r: R16): this { return this.op('mov', 0x8e, modrmReg(s, r)); }
  /** mov r16, r16 (89 /r: dst in r/m). */
  movReg16(dst: R16, src: R16): this { return this.op('mov', 0x89, modrmReg(src, dst)); }
  /** mov r8, [m] (8A /r). */
  load8(r: R8, m: Mem): this { return this.opMem('mov', [0x8a], r, m); }
  /** mov r16, [m] (8B /r). */
  load16(r: R16, m: Mem): this { return this.opMem('mov', [0x8b], r, m); }
  /** mov r32, [m] (66 8B /r). */
  load32(r: R16, m: Mem): this { return this.opMem('mov', [OSIZE, 0x8b], r, m); }
  /** movzx r32, word [m] (66 0F B7 /r). */
  loadZx16to32(r: R16, m: Mem): this { return this.opMem('movzx', [OSIZE, 0x0f, 0xb7], r, m); }
  /** mov [m], r8 (88 /r). */
  store8(m: Mem, r: R8): this { return this.opMem('mov', [0x88], r, m); }
  /** mov [m], r16 (89 /r). */
  store16(m: Mem, r: R16): this { return this.opMem('mov', [0x89], r, m); }
  /** mov [m], r32 (66 89 /r). */
  store32(m: Mem, r: R16): this { return this.opMem('mov', [OSIZE, 0x89], r, m); }
  /** mov byte [m], imm8 (C6 /0 ib). */
  storeImm8(m: Mem, v: number): this { return this.opMem('mov', [0xc6], 0, m, [u8(v)]); }
  /** mov word [m], imm16 (C7 /0 iw). */
  storeImm16(m: Mem, v: number): this { return this.opMem('mov', [0xc7], 0, m, le16(v)); }
  /** mov dword [m], imm32 (66 C7 /0 id). */
  storeImm32(m: Mem, v: number): this { return this.opMem('mov', [OSIZE, 0xc7], 0, m, le32(v)); }

  // --- arithmetic and logic ---
  /** xor r16, r16 (31 /r): zero a register. */
  zero16(r: R16): this { return this.op('xor', 0x31, modrmReg(r, r)); }
  /** xor r32, r32 (66 31 /r). */
  zero32(r: R16): this { return this.op('xor', OSIZE, 0x31, modrmReg(r, r)); }
  /** or byte [m], imm8 (80 /1 ib). */
  orMem8(m: Mem, v: number): this { return this.opMem('or', [0x80], 1, m, [u8(v)]); }
  /** add [m], r32 (66 01 /r). */
  addMem32(m: Mem, r: R16): this { return this.opMem('add', [OSIZE, 0x01], r, m); }
  /** sub [m], r32 (66 29 /r). */
  subMem32(m: Mem, r: R16): this { return this.opMem('sub', [OSIZE, 0x29], r, m); }
  /** add r32, [m] (66 03 /r). */
  addReg32Mem(r: R16, m: Mem): this { return this.opMem('add', [OSIZE, 0x03], r, m); }
  /** sub r32, [m] (66 2B /r). */
  subReg32Mem(r: R16, m: Mem): this { return this.opMem('sub', [OSIZE, 0x2b], r, m); }
  /** cmp r32, [m] (66 3B /r). */
  cmpReg32Mem(r: R16, m: Mem): this { return this.opMem('cmp', [OSIZE, 0x3b], r, m); }
  /** cmp dword [m], imm8 sign-extended (66 83 /7 ib). */
  cmpMem32Imm8(m: Mem, v: number): this { return this.opMem('cmp', [OSIZE, 0x83], 7, m, [s8(v)]); }
  /** cmp dword [m], imm32 (66 81 /7 id). */
  cmpMem32Imm32(m: Mem, v: number): this { return this.opMem('cmp', [OSIZE, 0x81], 7, m, le32(v)); }
  /** cmp r32, imm32 (66 81 /7 id). */
  cmpImm32(r: R16, v: number): this { return this.op('cmp', OSIZE, 0x81, modrmReg(7, r), ...le32(v)); }
  /** and r32, imm32 (66 81 /4 id). */
  andImm32(r: R16, v: number): this { return this.op('and', OSIZE, 0x81, modrmReg(4, r), ...le32(v)); }
  /** test r32, r32 (66 85 /r). */
  test32(a: R16, b: R16): this { return this.op('test', OSIZE, 0x85, modrmReg(b, a)); }
  /** test al, imm8 (A8 ib). */
  testAl(v: number): this { return this.op('test', 0xa8, u8(v)); }
  /** cmp al, imm8 (3C ib). */
  cmpAl(v: number): this { return this.op('cmp', 0x3c, u8(v)); }
  /** shl r16, imm8 (C1 /4 ib). */
  shl16(r: R16, n: number): this { return this.op('shl', 0xc1, modrmReg(4, r), u8(n)); }
  /** shl r32, imm8 (66 C1 /4 ib). */
  shl32(r: R16, n: number): this { return this.op('shl', OSIZE, 0xc1, modrmReg(4, r), u8(n)); }
  /** shr r32, imm8 (66 C1 /5 ib). */
  shr32(r: R16, n: number): this { return this.op('shr', OSIZE, 0xc1, modrmReg(5, r), u8(n)); }

  // --- control flow ---
  /** Jcc rel8 (70+cc cb). */
  j(cond: Cond, label: string): this {
    this.op(cond, CC[cond]);
    this.fixups.push({ at: this.bytes.length, label, kind: 'rel8', add: 0 });
    this.bytes.push(0);
    return this;
  }
  /** Jcc rel16 (0F 80+cc cw), for targets beyond a short jump (386+). */
  jNear(cond: Cond, label: string): this {
    this.op(cond, 0x0f, CC[cond] + 0x10);
    this.fixups.push({ at: this.bytes.length, label, kind: 'rel16', add: 0 });
    this.bytes.push(0, 0);
    return this;
  }
  /** jmp rel8 (EB cb). */
  jmpShort(label: string): this {
    this.op('jmp', 0xeb);
    this.fixups.push({ at: this.bytes.length, label, kind: 'rel8', add: 0 });
    this.bytes.push(0);
    return this;
  }
  /** call rel16 (E8 cw). */
  call(label: string): this {
    this.op('call', 0xe8);
    this.fixups.push({ at: this.bytes.length, label, kind: 'rel16', add: 0 });
    this.bytes.push(0, 0);
    return this;
  }
  /** jmp ptr16:16 (EA iw iw): far jump, loads CS. */
  jmpFar(segment: number, offset: number): this { return this.op('jmp', 0xea, ...le16(offset), ...le16(segment)); }

  // --- data ---
  /** Marks the end of the code: what follows is data (not disassembled by tests). */
  dataStart(): this {
    this.codeEnd = this.bytes.length;
    return this;
  }
  data(b: Uint8Array | number[]): this {
    this.bytes.push(...b);
    return this;
  }
  /** A 16-bit word holding the absolute address of a label. */
  addressOf(label: string): this {
    this.fixups.push({ at: this.bytes.length, label, kind: 'abs16', add: 0 });
    this.bytes.push(0, 0);
    return this;
  }

  /** Resolves label references and returns the bytes. */
  assemble(): Uint8Array {
    const out = Uint8Array.from(this.bytes);
    const dv = new DataView(out.buffer);
    for (const f of this.fixups) {
      const target = this.labels.get(f.label);
      if (target === undefined) throw new Error(`BUG: undefined label ${f.label}`);
      if (f.kind === 'abs16') {
        const a = this.origin + target + f.add;
        if (a > 0xffff) throw new Error(`BUG: ${f.label} at ${a} is beyond a 16-bit offset`);
        dv.setUint16(f.at, a, true);
      } else if (f.kind === 'rel8') {
        const rel = target - (f.at + 1);
        if (rel < -128 || rel > 127) throw new Error(`BUG: short jump to ${f.label} spans ${rel} bytes`);
        dv.setInt8(f.at, rel);
      } else {
        dv.setInt16(f.at, target - (f.at + 2), true);
      }
    }
    return out;
  }
}

function u8(v: number): number {
  if (!(Number.isInteger(v) && v >= 0 && v <= 0xff)) throw new Error(`BUG: ${v} is not a byte`);
  return v;
}

function s8(v: number): number {
  if (!(Number.isInteger(v) && v >= -128 && v <= 127)) throw new Error(`BUG: ${v} is not a signed byte`);
  return v & 0xff;
}

function le16(v: number): number[] {
  if (!(Number.isInteger(v) && v >= 0 && v <= 0xffff)) throw new Error(`BUG: ${v} is not a 16-bit value`);
  return [v & 0xff, v >>> 8];
}

function le32(v: number): number[] {
  if (!(Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) throw new Error(`BUG: ${v} is not a 32-bit value`);
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
}
