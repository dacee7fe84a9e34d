// The BIOS loader's bytes, checked without booting: objdump decodes both stages into exactly the
// instructions our assembler meant (same boundaries, same mnemonics); the build-time constants sit
// where the field tables say; a bad kernel or command line is a one-line error; stage 2 in the GPT
// gap leaves sgdisk content; the FAT file offset the loader relies on holds the file's bytes; under
// SeaBIOS (no kernel needed) both stages run and each failure prints its line.
import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileTree } from '@mkimage/rootfs';
import {
  Asm16, EddPacket, LinuxSetupHeader, Stage2Params, STAGE2_MAGIC, assembleStage1, assembleStage2, biosLoader, readKernelHeader,
} from '../src/bios/index.js';
import { BOOT_SECTOR_ADDRESS } from '../src/bios/stage1.js';
import { STAGE2_ADDRESS } from '../src/bios/stage2.js';
import { emitDisk, planDisk, ESP_TYPE_GUID, type DiskOptions } from '../src/gpt/index.js';
import { emitFat, fatFileOffset, planFat } from '../src/fat/index.js';
import { collect } from '../src/chunks.js';
import { run, tempDir } from './helpers.js';

/** A bzImage head as Debian's 6.1 cloud kernel has it: 39 setup sectors, protocol 2.15. */
function kernelHead(over: Partial<Parameters<typeof LinuxSetupHeader.encode>[0]> = {}): Uint8Array {
  return LinuxSetupHeader.encode({
    setupSects: 39, bootFlag: 0xaa55, header: 0x53726448, version: 0x020f, loadflags: 0x01,
    initrdAddrMax: 0x7fffffff, cmdlineSize: 2047, prefAddress: 0x1000000, initSize: 0x3378000, ...over,
  }, new Uint8Array(1024));
}

/** objdump's view of the code part of an assembled program: [offset, first word of the mnemonic]. */
function disassemble(dir: string, name: string, a: Asm16, bytes: Uint8Array): Array<[number, string]> {
  const file = join(dir, `${name}.bin`);
  writeFileSync(file, bytes.subarray(0, a.codeEnd));
  const r = run('objdump', ['-D', '-b', 'binary', '-mi8086', '-M', 'intel', `--adjust-vma=${a.origin}`, file]);
  if (r.status !== 0) throw new Error(r.out);
  const out: Array<[number, string]> = [];
  for (const line of r.out.split('\n')) {
    const m = /^\s*([0-9a-f]+):\t[0-9a-f ]+\t(\S+)/.exec(line);
    if (m) out.push([parseInt(m[1]!, 16) - a.origin, m[2]!]);
  }
  return out;
}

t.test('objdump decodes stage 1 and stage 2 into the instructions we assembled', async (t) => {
  const dir = tempDir(t);
  const s1 = assembleStage1({ stage2Lba: 34, stage2Sectors: 3 });
  const s2 = assembleStage2({
    setupLba: 4096, setupSectors: 40, kernelLba: 4136, kernelSectors: 27000, initrdLba: 3000, initrdSectors: 2800,
    initrdSize: 1_433_000, initrdLoadBytes: 2800 * 512, initrdMin: 0x4378000, initrdLimit: 0x80000000,
  }, Buffer.from('console=ttyS0\0'));
  for (const [name, a, bytes] of [['stage1', s1, s1.assemble()], ['stage2', s2.asm, s2.bytes]] as const) {
    const got = disassemble(dir, name, a, bytes);
    const want = a.instructions.map((i) => [i.offset, i.mnemonic]);
    t.ok(a.codeEnd > 0 && want.length > 20, `${name}: ${want.length} instructions, ${a.codeEnd} bytes of code`);
    t.same(got, want, `${name}: objdump finds the same instruction boundaries and mnemonics`);
    t.notOk(got.some(([, m]) => m === '(bad)'), `${name}: no undecodable bytes`);
  }
  // A corrupted byte (the ModRM of the first memory store turned into a register form) changes the decoding.
  const broken = Uint8Array.from(s2.bytes);
  broken[1] = 0xc0;
  t.not(JSON.stringify(disassemble(dir, 'broken', s2.asm, broken)), JSON.stringify(s2.asm.instructions.map((i) => [i.offset, i.mnemonic])), 'the comparison notices a changed encoding');
});

t.test('biosLoader: stage 1 in 440 bytes points at stage 2; stage 2 carries the constants and the command line', async (t) => {
  const cmdline = 'console=ttyS0 root=PARTUUID=0a1b2c3d-0000-4000-8000-000000000000 ro';
  const loader = biosLoader({
    kernelHead: kernelHead(), kernel: { offset: 4096 * 512, size: 14_186_432 }, initrd: { offset: 3000 * 512, size: 1_433_001 }, cmdline,
  });
  t.equal(loader.bootCode.length, 440, 'exactly the MBR boot code area');
  t.equal(loader.stage2.length % 512, 0, 'stage 2 is whole sectors');
  // Stage 1's disk address packet: stage 2's sectors at LBA 34, loaded at 0x8000.
  const s1 = assembleStage1({ stage2Lba: 34, stage2Sectors: loader.stage2.length / 512 });
  const dapAt = s1.address('dap') - BOOT_SECTOR_ADDRESS;
  s1.assemble();
  t.same(EddPacket.decode(loader.bootCode, dapAt), { size: 16, reserved: 0, count: loader.stage2.length / 512, bufferOffset: STAGE2_ADDRESS, bufferSegment: 0, lba: 34 });

  const at = Buffer.from(loader.stage2).indexOf(Buffer.from('MKL2', 'latin1'));
  t.ok(at > 0, 'the parameter block is found by its magic');
  const params = Stage2Params.decode(loader.stage2, at);
  t.same(params, {
    magic: STAGE2_MAGIC, setupLba: 4096, setupSectors: 40, kernelLba: 4136, kernelSectors: Math.ceil((14_186_432 - 40 * 512) / 512),
    initrdLba: 3000, initrdSectors: 2799, initrdSize: 1_433_001, initrdLoadBytes: 2799 * 512,
    initrdMin: 0x1000000 + 0x3378000, initrdLimit: 0x80000000,
  }, 'sectors and sizes from the kernel header and the extents');
  const text = Buffer.from(loader.stage2.subarray(at + Stage2Params.size)).toString('latin1');
  t.equal(text.slice(0, text.indexOf('\0')), cmdline, 'the command line follows, NUL-terminated');
});

t.test('bad kernels and command lines are one-line errors', async (t) => {
  const ok = { kernel: { offset: 4096 * 512, size: 8 << 20 }, initrd: { offset: 512, size: 100 }, cmdline: 'console=ttyS0', kernelName: 'vmlinuz' };
  t.doesNotThrow(() => biosLoader({ ...ok, kernelHead: kernelHead() }), 'the good header is accepted');
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['no HdrS', kernelHead({ header: 0x12345678 }), /vmlinuz: no "HdrS" setup header/],
    ['protocol 2.09', kernelHead({ version: 0x0209 }), /boot protocol 2\.09 is too old/],
    ['a zImage', kernelHead({ loadflags: 0 }), /zImage/],
    ['a truncated file', kernelHead().subarray(0, 0x200), /too short/],
  ];
  for (const [what, head, message] of cases) {
    t.throws(() => biosLoader({ ...ok, kernelHead: head }), { code: 'E_KERNEL_FORMAT', message }, what);
  }
  try {
    readKernelHeader(kernelHead({ version: 0x0209 }), 8 << 20, 'vmlinuz');
  } catch (e) {
    t.notMatch((e as Error).message, /\n/, 'one line');
  }
  t.throws(() => biosLoader({ ...ok, kernelHead: kernelHead(), cmdline: 'x'.repeat(3000) }), { code: 'E_DISK_OPTION', message: /at most 2047 bytes/ });
  t.throws(() => biosLoader({ ...ok, kernelHead: kernelHead(), kernel: { offset: 100, size: 8 << 20 } }), { code: 'E_DISK_OPTION', message: /not a sector boundary/ });
});

t.test('stage 2 in the GPT gap: sgdisk stays clean, the bytes are at LBA 34, a too large area is refused', async (t) => {
  const dir = tempDir(t);
  const area = Buffer.alloc(3 * 512, 0x5a);
  const opts: DiskOptions = { seed: 's', partitions: [{ name: 'ESP', typeGuid: ESP_TYPE_GUID, size: 1 << 20 }], bootCode: new Uint8Array(440).fill(0x90), bootArea: area };
  const img = join(dir, 'disk.img');
  writeFileSync(img, await collect(emitDisk(planDisk(opts))));
  const sg = run('sgdisk', ['-v', img]);
  t.match(sg.out, /No problems found/, 'sgdisk -v');
  t.equal(sg.status, 0);
  const bytes = readFileSync(img);
  t.same(bytes.subarray(34 * 512, 37 * 512), area, 'stage 2 at LBA 34');
  t.equal(bytes.readUInt16LE(510), 0xaa55, 'MBR signature kept');
  t.equal(bytes[446 + 4], 0xee, 'protective partition record kept');
  t.throws(() => planDisk({ ...opts, bootArea: Buffer.alloc(2015 * 512) }), { code: 'E_DISK_OPTION', message: /boot area/ });
});

t.test('fatFileOffset: the bytes of a file start there and run on contiguously', async (t) => {
  const tree = new FileTree({ mtime: 0 });
  const big = Buffer.alloc(300_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
  tree.file('a.txt', 'first');
  tree.file('EFI/BOOT/BOOTX64.EFI', big);
  const plan = planFat(tree, { label: 'ESP' });
  const vol = await collect(emitFat(plan));
  const at = fatFileOffset(plan, 'EFI/BOOT/BOOTX64.EFI');
  t.equal(at % 512, 0, 'sector aligned');
  t.same(vol.subarray(at, at + big.length), big, 'the whole file lies there');
  t.throws(() => fatFileOffset(plan, 'EFI'), { code: 'E_DISK_OPTION' }, 'a directory has no file offset');
  t.throws(() => fatFileOffset(plan, 'missing'), { code: 'E_DISK_OPTION' });
});


/** Boots a disk under SeaBIOS until `until` (default: the line after the banner) shows on the serial console (SeaBIOS mirrors INT 10h there) or 60 s pass. */
function seabios(img: string, memoryMiB: number, until = /mkimage: loading Linux\r?\n[^\n]*\n/): Promise<string> {
  return new Promise((resolve, reject) => {
    const q = spawn('qemu-system-x86_64', ['-m', String(memoryMiB), '-nographic', '-nodefaults', '-serial', 'stdio', '-no-reboot',
      '-drive', `file=${img},format=raw,if=virtio,snapshot=on`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => q.kill('SIGKILL'), 60_000);
    const take = (b: Buffer): void => {
      out += b.toString('latin1');
      if (until.test(out)) q.kill('SIGKILL');
    };
    q.stdout.on('data', take);
    q.stderr.on('data', take);
    q.on('error', reject);
    q.on('close', () => { clearTimeout(timer); resolve(out); });
  });
}

t.test('SeaBIOS runs stage 1 and stage 2; each failure prints its line and halts', async (t) => {
  const dir = tempDir(t);
  // A disk with an ESP of zeros: the "kernel" and "initrd" sectors are real but hold no kernel.
  const espLba = 2048;
  const write = async (kernelOffset: number): Promise<string> => {
    const img = join(dir, `disk-${kernelOffset}.img`);
    const loader = biosLoader({
      kernelHead: kernelHead(), kernel: { offset: kernelOffset, size: 200 * 512 }, initrd: { offset: (espLba + 300) * 512, size: 1000 }, cmdline: 'console=ttyS0',
    });
    const plan = planDisk({ seed: 'bios', partitions: [{ name: 'ESP', typeGuid: ESP_TYPE_GUID, size: 1 << 20 }], bootCode: loader.bootCode, bootArea: loader.stage2 });
    t.equal(plan.partitions[0]!.firstLba, espLba);
    writeFileSync(img, await collect(emitDisk(plan)));
    return img;
  };
  const inside = await write((espLba + 8) * 512);
  // 128 MiB of RAM: the initrd fits above pref_address + init_size (67 MiB); the sectors hold no "HdrS".
  const noKernel = await seabios(inside, 128);
  t.match(noKernel, /mkimage: loading Linux/, 'stage 1 loaded stage 2, which runs');
  t.match(noKernel, /mkimage: no Linux kernel at the sectors recorded at build time/, 'reads, copies and E820 passed; the header check stops it');
  // 64 MiB: no usable range above the kernel's 67 MiB working area.
  t.match(await seabios(inside, 64), /mkimage: no free RAM for the initrd/, 'too little memory is named');
  // Kernel sectors past the end of the 3 MiB disk: the BIOS refuses the read.
  t.match(await seabios(await write(64 << 20), 128), /mkimage: disk read failed/, 'a failed read is named');
});
