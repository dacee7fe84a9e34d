// A deliberately tiny x86-64 assembler: just the instruction forms the app launcher needs, with
// labels for rip-relative addressing and short jumps. Encodings follow the Intel SDM vol. 2
// (REX prefix §2.2.1, ModRM/SIB §2.1.5).

/** Register numbers as encoded in ModRM/SIB (Intel SDM vol. 2, table 2-2). */
export const Reg = { rax: 0, rcx: 1, rdx: 2, rbx: 3, rsp: 4, rbp: 5, rsi: 6, rdi: 7, r8: 8, r9: 9, r10: 10 } as const;
/** Low registers only: the forms below that take one leave out REX.R/REX.B. */
type LowReg = typeof Reg.rax | typeof Reg.rcx | typeof Reg.rdx | typeof Reg.rbx | typeof Reg.rbp | typeof Reg.rsi | typeof Reg.rdi;
export type Reg = (typeof Reg)[keyof typeof Reg];

const REX_W = 0x48;

interface Fixup { at: number; label: string; kind: 'rel32' | 'rel8' }

export class Assembler {
  private readonly bytes: number[] = [];
  private readonly labels = new Map<string, number>();
  private readonly fixups: Fixup[] = [];

  get offset(): number { return this.bytes.length; }

  label(name: string): this {
    if (this.labels.has(name)) throw new Error(`BUG: label ${name} defined twice`);
    this.labels.set(name, this.bytes.length);
    return this;
  }

  /** mov r32, imm32 (B8+rd id); writing a 32-bit register zero-extends into the 64-bit one. */
  movImm32(reg: Reg, imm: number): this {
    if (reg >= 8) this.bytes.push(0x41);
    this.bytes.push(0xb8 + (reg & 7), ...le32(imm));
    return this;
  }

  /** xor r32, r32 (31 /r): the usual way to zero a register. */
  zero(reg: Reg): this {
    if (reg >= 8) this.bytes.push(0x45);
    this.bytes.push(0x31, 0xc0 | ((reg & 7) << 3) | (reg & 7));
    return this;
  }

  /** mov r64, [rsp + disp8] (REX.W 8B /r with a SIB byte for rsp). */
  loadFromStack(reg: Reg, disp: number): this {
    this.bytes.push(REX_W, 0x8b, 0x44 | ((reg & 7) << 3), 0x24, disp8(disp));
    return this;
  }

  /** mov r32, [rsp + disp8] (8B /r with a SIB byte for rsp). */
  load32FromStack(reg: LowReg, disp: number): this {
    this.bytes.push(0x8b, 0x44 | (reg << 3), 0x24, disp8(disp));
    return this;
  }

  /** mov r64, r64 (REX.W 89 /r). */
  movReg(dst: LowReg, src: LowReg): this {
    this.bytes.push(REX_W, 0x89, 0xc0 | (src << 3) | dst);
    return this;
  }

  /** and r32, imm32 (81 /4 id); sets ZF when the result is zero. */
  andImm32(reg: LowReg, imm: number): this {
    this.bytes.push(0x81, 0xe0 | reg, ...le32(imm));
    return this;
  }

  /** add r32, imm32 (81 /0 id). */
  addImm32(reg: LowReg, imm: number): this {
    this.bytes.push(0x81, 0xc0 | reg, ...le32(imm));
    return this;
  }

  /** shr r32, imm8 (C1 /5 ib). */
  shrImm8(reg: LowReg, count: number): this {
    this.bytes.push(0xc1, 0xe8 | reg, count & 0x1f);
    return this;
  }

  /** lea r64, [rsp + disp8]. */
  leaStack(reg: Reg, disp: number): this {
    this.bytes.push(REX_W, 0x8d, 0x44 | ((reg & 7) << 3), 0x24, disp8(disp));
    return this;
  }

  /** lea r64, [rsp + index*8 + disp8]. */
  leaStackIndexed(reg: Reg, index: Reg, disp: number): this {
    this.bytes.push(REX_W, 0x8d, 0x44 | ((reg & 7) << 3), 0xc0 | ((index & 7) << 3) | Reg.rsp, disp8(disp));
    return this;
  }

  /** lea r64, [rip + label] (REX.W 8D /r, ModRM mod=00 rm=101). */
  leaRip(reg: Reg, label: string): this {
    this.bytes.push(REX_W, 0x8d, 0x05 | ((reg & 7) << 3));
    this.fixups.push({ at: this.bytes.length, label, kind: 'rel32' });
    this.bytes.push(0, 0, 0, 0);
    return this;
  }

  syscall(): this {
    this.bytes.push(0x0f, 0x05);
    return this;
  }

  /** test rax, rax; js label — Linux syscalls return -errno on failure. */
  jumpIfNegative(label: string): this {
    this.bytes.push(REX_W, 0x85, 0xc0);
    return this.jumpIf(0x88, label);
  }

  /** test rax, rax; jz label. */
  jumpIfRaxZero(label: string): this {
    this.bytes.push(REX_W, 0x85, 0xc0);
    return this.jumpIfZero(label);
  }

  /** jz label on the flags the previous instruction set (0F 84 cd). */
  jumpIfZero(label: string): this {
    return this.jumpIf(0x84, label);
  }

  /** Jcc rel32 (0F 80+cc cd). */
  private jumpIf(opcode: number, label: string): this {
    this.bytes.push(0x0f, opcode);
    this.fixups.push({ at: this.bytes.length, label, kind: 'rel32' });
    this.bytes.push(0, 0, 0, 0);
    return this;
  }

  jump(label: string): this {
    this.bytes.push(0xe9);
    this.fixups.push({ at: this.bytes.length, label, kind: 'rel32' });
    this.bytes.push(0, 0, 0, 0);
    return this;
  }

  data(bytes: Uint8Array | number[]): this {
    this.bytes.push(...bytes);
    return this;
  }

  /** Resolves label references and returns the machine code. */
  assemble(): Uint8Array {
    const out = Uint8Array.from(this.bytes);
    for (const f of this.fixups) {
      const target = this.labels.get(f.label);
      if (target === undefined) throw new Error(`BUG: undefined label ${f.label}`);
      const rel = target - (f.at + 4);
      new DataView(out.buffer).setInt32(f.at, rel, true);
    }
    return out;
  }
}

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

function disp8(v: number): number {
  if (v < -128 || v > 127) throw new Error(`BUG: displacement ${v} does not fit in 8 bits`);
  return v & 0xff;
}
