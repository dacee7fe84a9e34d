// Stage 1 of the BIOS loader: the MBR's boot code (at most 440 bytes, before the disk signature and
// the protective partition record). The BIOS loads LBA 0 at 0x7c00 and jumps there with the drive
// number in DL; this code reads stage 2 from the sectors right after the primary GPT entry array with
// INT 13h AH=42h and jumps to it, keeping DL.
import { Asm16, R, R8, Seg } from './asm16.js';
import { EddPacket, emitHalt, emitPrint } from './common.js';
import { STAGE2_ADDRESS } from './stage2.js';

/** Where the BIOS puts the boot sector (IBM PC BIOS INT 19h). */
export const BOOT_SECTOR_ADDRESS = 0x7c00;

export function assembleStage1(o: { stage2Lba: number; stage2Sectors: number }): Asm16 {
  const a = new Asm16(BOOT_SECTOR_ADDRESS);
  a.cli();                                                // no interrupts while the stack moves
  a.zero16(R.ax);                                         // ax = 0
  a.movSeg(Seg.ss, R.ax);                                 // ss = 0
  a.movImm16(R.sp, BOOT_SECTOR_ADDRESS);                  // stack below this sector
  a.movSeg(Seg.ds, R.ax);                                 // ds = 0
  a.movSeg(Seg.es, R.ax);                                 // ds = es = 0: labels are absolute addresses
  a.sti();                                                // interrupts back on (the BIOS needs them)
  a.cld();                                                // string operations count up
  a.movAddr(R.si, 'dap');                                 // ds:si = the disk address packet of stage 2
  a.movImm8(R8.ah, 0x42);                                 // INT 13h AH=42h: extended read (dl = boot drive)
  a.push16(R.dx);                                         // keep dl (the drive) across the call
  a.int(0x13);                                            // read stage 2 to 0000:8000
  a.pop16(R.dx);                                          // dl = boot drive again, for stage 2
  a.j('jb', 'error');                                     // CF: the read failed
  a.jmpFar(0, STAGE2_ADDRESS);                            // cs:ip = 0000:8000 (CS may have been 07C0 on entry)
  a.label('error');
  a.movAddr(R.si, 'message');                             // si = the message
  a.call('print');                                        // print it (INT 10h)
  a.jmpShort('halt');                                     // and wait for good
  emitPrint(a);
  emitHalt(a);

  a.dataStart();
  a.label('dap').data(EddPacket.encode({
    size: EddPacket.size, count: o.stage2Sectors, bufferOffset: STAGE2_ADDRESS, bufferSegment: 0, lba: o.stage2Lba,
  }));
  a.label('message').data([...Buffer.from('mkimage: cannot read the boot loader (INT 13h AH=42h)\r\n\0', 'latin1')]);
  return a;
}
