// Pieces both loader stages share: the EDD disk address packet and the message/halt routines.
import { defineStruct } from '@mkimage/rootfs';
import { R, R8, type Asm16 } from './asm16.js';

/** INT 13h AH=42h disk address packet (Phoenix "BIOS Enhanced Disk Drive Specification" 3.0, Device Address Packet). */
export const EddPacket = defineStruct('EDD disk address packet', 16, [
  { name: 'size', offset: 0, type: 'u8' },            // 16
  { name: 'reserved', offset: 1, type: 'u8' },
  { name: 'count', offset: 2, type: 'u16' },          // sectors to transfer
  { name: 'bufferOffset', offset: 4, type: 'u16' },   // transfer buffer, segment:offset
  { name: 'bufferSegment', offset: 6, type: 'u16' },
  { name: 'lba', offset: 8, type: 'u64' },            // starting absolute sector
] as const);

/**
 * `print`: writes the NUL-terminated string at ds:si with INT 10h AH=0Eh (teletype). SeaBIOS
 * mirrors that to the serial port when it has a serial console (QEMU -nographic); writing COM1 as
 * well would print every character twice there.
 */
export function emitPrint(a: Asm16): void {
  a.label('print');
  a.lodsb();                                              // al = next character
  a.testAl(0xff);                                         // al = 0?
  a.j('je', 'print_done');                                // NUL: done
  a.movImm8(R8.ah, 0x0e);                                 // INT 10h AH=0Eh: teletype output of al
  a.movImm16(R.bx, 0x0007);                               // page 0, light grey
  a.int(0x10);                                            // print al
  a.jmpShort('print');                                    // next character
  a.label('print_done');
  a.ret();
}

/**
 * `halt`: waits for good. Interrupts stay on: SeaBIOS's serial console flushes INT 10h text from
 * its timer interrupt, so `cli; hlt` would cut the message short.
 */
export function emitHalt(a: Asm16): void {
  a.label('halt');
  a.sti();                                                // interrupts on
  a.hlt();                                                // sleep until the next interrupt
  a.jmpShort('halt');                                     // and again
}
