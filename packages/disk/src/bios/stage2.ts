// Stage 2 of the BIOS loader: 16-bit real-mode code that boots Linux by the x86 boot protocol
// (Documentation/arch/x86/boot.rst) from sectors whose addresses were fixed at build time, i.e. the
// .linux and .initrd bytes inside the UKI on the ESP. Stage 1 (the MBR) loads it at STAGE2_ADDRESS
// with CS = DS = ES = SS = 0 and the BIOS drive number in DL.
//
// Memory (below 1 MiB; boot.rst "Loading the rest of the kernel" / sample boot configuration):
//   0x07c00  stage 1 (the MBR), stack below it
//   0x08000  stage 2: code, then its parameter block and the command line
//   0x10000  X: the kernel's real-mode code (boot sector + setup), heap up to X+HEAP_END,
//            command line copied to X+HEAP_END
//   0x30000  bounce buffer: each disk read lands here, INT 15h AH=87h copies it to its place
// Above 1 MiB: the protected-mode kernel at 0x100000, the initrd as high as RAM and the kernel's
// initrd_addr_max allow, above the kernel's decompression area (pref_address + init_size).
import { defineStruct } from '@mkimage/rootfs';
import { Asm16, R, R8, Seg, esMem, mem } from './asm16.js';
import { CAN_USE_HEAP, LINUX_HDRS_MAGIC, LINUX_PM_LOAD_ADDRESS, LOADER_TYPE_UNDEFINED, LinuxSetupHeader } from './linux-header.js';
import { EddPacket, emitHalt, emitPrint } from './common.js';

export const STAGE2_ADDRESS = 0x8000;
/** X, where the real-mode kernel is loaded (a segment boundary). */
export const SETUP_ADDRESS = 0x10000;
/** End of the setup heap/stack, from X (boot.rst sample: 0xe000 when the command line follows it). */
export const HEAP_END = 0xe000;
export const BOUNCE_ADDRESS = 0x30000;
/** Sectors per read: 127 is the most every EDD implementation accepts (Phoenix EDD 3.0, §"Extended Read"). */
export const READ_CHUNK_SECTORS = 127;
/** "SMAP", the INT 15h AX=E820h signature (ACPI spec, §15.1 "INT 15H, E820H"). */
const SMAP = 0x534d4150;
/** E820 address range type 1: memory available to the OS (ACPI spec, table 15.1). */
const E820_TYPE_RAM = 1;

/** The build-time constants of stage 2 (all absolute LBAs of 512-byte sectors). */
export const Stage2Params = defineStruct('BIOS loader stage 2 parameters', 44, [
  { name: 'magic', offset: 0, type: 'u32' },             // STAGE2_MAGIC, for readers of the image
  { name: 'setupLba', offset: 4, type: 'u32' },          // the kernel's first sector (its boot sector)
  { name: 'setupSectors', offset: 8, type: 'u32' },      // real-mode code: (setup_sects + 1) sectors
  { name: 'kernelLba', offset: 12, type: 'u32' },        // protected-mode kernel: right after the setup
  { name: 'kernelSectors', offset: 16, type: 'u32' },
  { name: 'initrdLba', offset: 20, type: 'u32' },
  { name: 'initrdSectors', offset: 24, type: 'u32' },
  { name: 'initrdSize', offset: 28, type: 'u32' },       // bytes, for ramdisk_size
  { name: 'initrdLoadBytes', offset: 32, type: 'u32' },  // initrdSectors x 512: what the copy writes
  { name: 'initrdMin', offset: 36, type: 'u32' },        // lowest initrd address: above pref_address + init_size
  { name: 'initrdLimit', offset: 40, type: 'u32' },      // the initrd ends at or below: initrd_addr_max + 1
] as const);
/** "MKL2" little-endian. */
export const STAGE2_MAGIC = 0x324c4b4d;

/** Field address inside the parameter block. */
const p = (field: (typeof Stage2Params.fields)[number]['name']) => mem('params', Stage2Params.offsetOf(field));
const hdr = (field: (typeof LinuxSetupHeader.fields)[number]['name']) => esMem(LinuxSetupHeader.offsetOf(field));

/** One address range of INT 15h AX=E820h (ACPI spec §15.1, table 15.2), 64-bit fields split in halves. */
const E820Entry = defineStruct('E820 address range descriptor', 20, [
  { name: 'baseLow', offset: 0, type: 'u32' },
  { name: 'baseHigh', offset: 4, type: 'u32' },
  { name: 'lengthLow', offset: 8, type: 'u32' },
  { name: 'lengthHigh', offset: 12, type: 'u32' },
  { name: 'type', offset: 16, type: 'u32' },
] as const);
/** A segment descriptor (Intel SDM vol. 3, §3.4.5), as INT 15h AH=87h takes them. */
const SegmentDescriptor = defineStruct('segment descriptor', 8, [
  { name: 'limitLow', offset: 0, type: 'u16' },
  { name: 'base15to0', offset: 2, type: 'u16' },
  { name: 'base23to16', offset: 4, type: 'u8' },
  { name: 'access', offset: 5, type: 'u8' },       // 93h: present, ring 0, data, read/write, accessed
  { name: 'limitHighFlags', offset: 6, type: 'u8' },
  { name: 'base31to24', offset: 7, type: 'u8' },
] as const);
/** INT 15h AH=87h descriptor table: 6 descriptors; #2 is the source, #3 the destination (IBM PC AT BIOS technical reference). */
const GDT_SIZE = 6 * SegmentDescriptor.size;
const GDT_SOURCE = 2 * SegmentDescriptor.size;
const GDT_DEST = 3 * SegmentDescriptor.size;
const DATA_ACCESS = 0x93;

const e820 = (field: (typeof E820Entry.fields)[number]['name']) => mem('e820buf', E820Entry.offsetOf(field));
const dest = (field: (typeof SegmentDescriptor.fields)[number]['name']) => mem('gdt', GDT_DEST + SegmentDescriptor.offsetOf(field));
const DAP_COUNT = mem('dap', EddPacket.offsetOf('count'));
const DAP_LBA = mem('dap', EddPacket.offsetOf('lba'));

export interface Stage2 {
  asm: Asm16;
  bytes: Uint8Array;
  /** Offset of the parameter block in `bytes`. */
  paramsOffset: number;
}

/** Assembles stage 2 with its parameter block and NUL-terminated command line, padded to whole sectors. */
export function assembleStage2(params: Omit<Parameters<typeof Stage2Params.encode>[0], 'magic'>, cmdline: Uint8Array): Stage2 {
  const a = new Asm16(STAGE2_ADDRESS);
  a.store8(mem('drive'), R8.dl);                          // keep the BIOS drive number for INT 13h
  a.movAddr(R.si, 'banner');                              // "mkimage: loading Linux"
  a.call('print');                                        // (INT 10h)

  // (1) The real-mode kernel (boot sector + setup) to X.
  a.load32(R.ax, p('setupLba')).store32(mem('lba'), R.ax);        // lba = setupLba
  a.load32(R.ax, p('setupSectors')).store32(mem('left'), R.ax);   // left = setupSectors
  a.movImm32(R.ax, SETUP_ADDRESS).store32(mem('dest'), R.ax);     // dest = X
  a.call('load');                                         // read and copy
  // (2) The protected-mode kernel to 1 MiB.
  a.load32(R.ax, p('kernelLba')).store32(mem('lba'), R.ax);       // lba = kernelLba
  a.load32(R.ax, p('kernelSectors')).store32(mem('left'), R.ax);  // left = kernelSectors
  a.movImm32(R.ax, LINUX_PM_LOAD_ADDRESS).store32(mem('dest'), R.ax); // dest = 1 MiB
  a.call('load');                                         // read and copy

  // (3) Where the initrd goes: the highest page-aligned start in a usable E820 range such that it
  // lies above initrdMin and ends at or below initrdLimit.
  a.zero32(R.bx);                                         // ebx = 0: first E820 call
  a.store32(mem('best'), R.bx);                           // best = 0 (none yet)
  a.label('e820');
  a.movAddr(R.di, 'e820buf');                             // es:di = entry buffer
  a.movImm32(R.ax, 0xe820);                               // eax = E820h: query system address map
  a.movImm32(R.dx, SMAP);                                 // edx = "SMAP"
  a.movImm32(R.cx, E820Entry.size);                       // ecx = buffer size
  a.int(0x15);                                            // ebx = next entry or 0
  a.j('jb', 'e820_end');                                  // CF: error or past the last entry
  a.cmpImm32(R.ax, SMAP);                                 // eax must return "SMAP"
  a.j('jne', 'e820_end');
  a.cmpMem32Imm8(e820('type'), E820_TYPE_RAM);            // type: usable RAM?
  a.j('jne', 'e820_next');
  a.cmpMem32Imm8(e820('baseHigh'), 0);                    // base above 4 GiB: out of reach
  a.j('jne', 'e820_next');
  a.load32(R.ax, e820('baseLow'));                        // eax = base
  a.cmpMem32Imm8(e820('lengthHigh'), 0);                  // length >= 4 GiB: ends past the limit
  a.j('jne', 'e820_limit');
  a.addReg32Mem(R.ax, e820('lengthLow'));                 // eax = end = base + length
  a.j('jb', 'e820_limit');                                // wrapped past 4 GiB
  a.cmpReg32Mem(R.ax, p('initrdLimit'));                  // above the kernel's initrd_addr_max?
  a.j('jbe', 'e820_fit');                                 // end <= limit: keep it
  a.label('e820_limit');
  a.load32(R.ax, p('initrdLimit'));                       // eax = limit
  a.label('e820_fit');
  a.subReg32Mem(R.ax, p('initrdLoadBytes'));              // eax = end - initrd
  a.j('jb', 'e820_next');                                 // range too small
  a.andImm32(R.ax, 0xfffff000);                           // page-align down
  a.cmpReg32Mem(R.ax, e820('baseLow'));                   // must start inside the range
  a.j('jb', 'e820_next');
  a.cmpReg32Mem(R.ax, p('initrdMin'));                    // and above the kernel's working area
  a.j('jb', 'e820_next');
  a.cmpReg32Mem(R.ax, mem('best'));                       // higher than the best so far?
  a.j('jbe', 'e820_next');
  a.store32(mem('best'), R.ax);                           // best = eax
  a.label('e820_next');
  a.test32(R.bx, R.bx);                                   // ebx = 0: that was the last entry
  a.j('jne', 'e820');                                     // next entry
  a.label('e820_end');
  a.load32(R.ax, mem('best'));                            // eax = the initrd's address
  a.test32(R.ax, R.ax);                                   // none found?
  a.jNear('je', 'no_memory');                             // 0: no place for the initrd
  // (4) The initrd there.
  a.store32(mem('dest'), R.ax);                           // dest = best
  a.load32(R.ax, p('initrdLba')).store32(mem('lba'), R.ax);       // lba = initrdLba
  a.load32(R.ax, p('initrdSectors')).store32(mem('left'), R.ax);  // left = initrdSectors
  a.call('load');                                         // read and copy

  // (5) The setup header (boot.rst "Details of header fields", fields marked "write"), through ES = X >> 4.
  a.movImm16(R.ax, SETUP_ADDRESS >> 4).movSeg(Seg.es, R.ax);  // es = X >> 4
  a.cmpMem32Imm32(hdr('header'), LINUX_HDRS_MAGIC);       // "HdrS": the sectors read are a kernel?
  a.jNear('jne', 'bad_kernel');                           // no: say so, halt
  a.storeImm8(hdr('typeOfLoader'), LOADER_TYPE_UNDEFINED); // type_of_loader = 0xFF
  a.orMem8(hdr('loadflags'), CAN_USE_HEAP);               // loadflags |= CAN_USE_HEAP
  a.storeImm16(hdr('heapEndPtr'), HEAP_END - 0x200);      // heap_end_ptr = heap end - 0x200
  a.storeImm32(hdr('cmdLinePtr'), SETUP_ADDRESS + HEAP_END); // cmd_line_ptr = X + heap end
  a.load32(R.ax, mem('best')).store32(hdr('ramdiskImage'), R.ax);       // ramdisk_image
  a.load32(R.ax, p('initrdSize')).store32(hdr('ramdiskSize'), R.ax);   // ramdisk_size
  a.movAddr(R.si, 'cmdline');                             // ds:si = our command line
  a.movImm16(R.di, HEAP_END);                             // es:di = X + heap end
  a.movImm16(R.cx, cmdline.length);                       // bytes, with the NUL
  a.cld();                                                // copy upwards
  a.repMovsb();                                           // copy the command line

  // (6) Enter the kernel: segments = X >> 4, stack at the heap end, jump to X + 0x200 (boot.rst).
  a.cli();                                                // enter with interrupts off (boot.rst)
  a.movImm16(R.ax, SETUP_ADDRESS >> 4);                   // ax = X >> 4
  for (const s of [Seg.ds, Seg.es, Seg.fs, Seg.gs, Seg.ss]) a.movSeg(s, R.ax); // ds = es = fs = gs = ss = X >> 4
  a.movImm16(R.sp, HEAP_END);                             // sp = heap end
  a.jmpFar((SETUP_ADDRESS >> 4) + 0x20, 0);               // jmp (X >> 4) + 0x20 : 0, the setup code

  // load: copies `left` sectors from `lba` to linear address `dest`, in chunks through the bounce buffer.
  a.label('load');
  a.load32(R.ax, mem('left'));                            // eax = sectors left
  a.test32(R.ax, R.ax);                                   // none?
  a.j('je', 'load_done');                                 // nothing left
  a.cmpImm32(R.ax, READ_CHUNK_SECTORS);                   // more than one chunk left?
  a.j('jbe', 'load_n');                                   // at most one chunk left: take all
  a.movImm16(R.ax, READ_CHUNK_SECTORS);                   // ax = min(left, chunk)
  a.label('load_n');
  a.store16(DAP_COUNT, R.ax);                             // DAP: sector count
  a.load32(R.bx, mem('lba')).store32(DAP_LBA, R.bx);      // DAP: starting LBA (low 32 bits)
  a.movAddr(R.si, 'dap');                                 // ds:si = DAP
  a.load8(R8.dl, mem('drive'));                           // dl = drive
  a.movImm8(R8.ah, 0x42);                                 // INT 13h AH=42h: extended read
  a.int(0x13);                                            // read into the bounce buffer
  a.jNear('jb', 'disk_error');                            // CF: read failed
  a.load32(R.ax, mem('dest'));                            // destination descriptor base = dest
  a.store16(dest('base15to0'), R.ax);                     // base 15:0
  a.shr32(R.ax, 16);                                      // ax = base 31:16
  a.store8(dest('base23to16'), R8.al);                    // base 23:16
  a.store8(dest('base31to24'), R8.ah);                    // base 31:24
  a.load16(R.cx, DAP_COUNT);                              // cx = sectors
  a.shl16(R.cx, 8);                                       // cx = words = sectors x 256
  a.movAddr(R.si, 'gdt');                                 // es:si = descriptor table
  a.movImm8(R8.ah, 0x87);                                 // INT 15h AH=87h: move extended memory
  a.int(0x15);                                            // copy cx words: bounce buffer -> dest
  a.jNear('jb', 'copy_error');                            // CF: copy failed
  a.loadZx16to32(R.ax, DAP_COUNT);                        // eax = n, sectors done
  a.addMem32(mem('lba'), R.ax);                           // lba += n
  a.subMem32(mem('left'), R.ax);                          // left -= n
  a.shl32(R.ax, 9);                                       // eax = n x 512
  a.addMem32(mem('dest'), R.ax);                          // dest += n x 512
  a.jmpShort('load');                                     // next chunk
  a.label('load_done');
  a.ret();

  // Errors: a message, then halt.
  for (const [label, msg] of [['disk_error', 'msg_disk'], ['copy_error', 'msg_copy'], ['no_memory', 'msg_memory'], ['bad_kernel', 'msg_kernel']] as const) {
    a.label(label);
    a.movAddr(R.si, msg);                                 // si = the message
    a.jmpShort('fail');                                   // print it and halt
  }
  a.label('fail');
  a.zero16(R.ax).movSeg(Seg.ds, R.ax);                    // ds = 0 (the message's segment)
  a.call('print');                                        // the message
  a.jmpShort('halt');                                     // for good
  emitPrint(a);
  emitHalt(a);

  a.dataStart();
  const text = (label: string, s: string): void => { a.label(label).data([...Buffer.from(`${s}\r\n\0`, 'latin1')]); };
  text('banner', 'mkimage: loading Linux');
  text('msg_disk', 'mkimage: disk read failed (INT 13h AH=42h)');
  text('msg_copy', 'mkimage: copy above 1 MiB failed (INT 15h AH=87h)');
  text('msg_memory', 'mkimage: no free RAM for the initrd');
  text('msg_kernel', 'mkimage: no Linux kernel at the sectors recorded at build time');
  // DAP: into the bounce buffer; count and LBA set per chunk.
  a.label('dap').data(EddPacket.encode({ size: EddPacket.size, bufferOffset: 0, bufferSegment: BOUNCE_ADDRESS >> 4 }));
  // INT 15h AH=87h table: source = bounce buffer, destination patched per chunk; limit 0xFFFF, access 93h.
  const gdt = new Uint8Array(GDT_SIZE);
  SegmentDescriptor.encode({ limitLow: 0xffff, base15to0: BOUNCE_ADDRESS & 0xffff, base23to16: BOUNCE_ADDRESS >>> 16, access: DATA_ACCESS }, gdt, GDT_SOURCE);
  SegmentDescriptor.encode({ limitLow: 0xffff, access: DATA_ACCESS }, gdt, GDT_DEST);
  a.label('gdt').data(gdt);
  a.label('drive').data([0]);
  a.label('lba').data([0, 0, 0, 0]);
  a.label('left').data([0, 0, 0, 0]);
  a.label('dest').data([0, 0, 0, 0]);
  a.label('best').data([0, 0, 0, 0]);
  a.label('e820buf').data(new Uint8Array(E820Entry.size));
  a.label('params').data(Stage2Params.encode({ magic: STAGE2_MAGIC, ...params }));
  a.label('cmdline').data(cmdline);

  const bytes = a.assemble();
  const padded = new Uint8Array(Math.ceil(bytes.length / 512) * 512);
  padded.set(bytes);
  return { asm: a, bytes: padded, paramsOffset: a.address('params') - STAGE2_ADDRESS };
}
