// Opt-in boot test (the integrator owns the real ones): one disk that boots both ways, built only
// with this package. Set MKIMAGE_TEST_KERNEL to a Debian cloud kernel (vmlinuz, e.g. from
// `apt-get download linux-image-<abi>-cloud-amd64` + `dpkg-deb -x`) to run it; QEMU TCG, ~30 s.
//   UEFI: OVMF -> \EFI\BOOT\BOOTX64.EFI (our UKI) -> kernel + initrd -> /init prints a marker.
//   BIOS: SeaBIOS -> our MBR code -> our stage 2 -> the UKI's .linux and .initrd bytes, read by sector.
import t from 'tap';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { FileTree, cpioStream } from '@mkimage/rootfs';
import {
  planDisk, emitDisk, planFat, emitFat, planUki, emitUki, writeImage, biosLoader, fatFileOffset,
  ESP_TYPE_GUID, LINUX_ROOT_X86_64_TYPE_GUID, type UkiSectionInput,
} from '../src/index.js';
import { collect } from '../src/chunks.js';
import { tempDir } from './helpers.js';

const KERNEL = process.env.MKIMAGE_TEST_KERNEL;
const STUB = process.env.MKIMAGE_EFI_STUB ?? '/usr/lib/systemd/boot/efi/linuxx64.efi.stub';
const OVMF = '/usr/share/ovmf/OVMF.fd';
const MARKER = 'MKIMAGE-BOOT-OK';

/** A static x86-64 ELF: write(1, MARKER) then reboot(POWER_OFF). 48 bytes of code after the headers. */
function initElf(): Buffer {
  const msg = Buffer.from(`\n${MARKER}\n`);
  const code = Buffer.concat([
    Buffer.from([0xb8, 1, 0, 0, 0]), // mov eax, 1 (write)
    Buffer.from([0xbf, 1, 0, 0, 0]), // mov edi, 1
    Buffer.from([0x48, 0x8d, 0x35, 31, 0, 0, 0]), // lea rsi, [rip+31] -> msg
    Buffer.from([0xba, msg.length, 0, 0, 0]), // mov edx, len
    Buffer.from([0x0f, 0x05]), // syscall
    Buffer.from([0xb8, 169, 0, 0, 0]), // mov eax, 169 (reboot)
    Buffer.from([0xbf, 0xad, 0xde, 0xe1, 0xfe]), // LINUX_REBOOT_MAGIC1
    Buffer.from([0xbe, 0x69, 0x19, 0x12, 0x28]), // LINUX_REBOOT_MAGIC2
    Buffer.from([0xba, 0xdc, 0xfe, 0x21, 0x43]), // LINUX_REBOOT_CMD_POWER_OFF
    Buffer.from([0x0f, 0x05, 0xeb, 0xfe]), // syscall; jmp $
    msg,
  ]);
  const base = 0x400000;
  const eh = Buffer.alloc(64);
  eh.write('\x7fELF', 0, 'latin1');
  eh.writeUInt8(2, 4); eh.writeUInt8(1, 5); eh.writeUInt8(1, 6); // ELF64, little-endian, version
  eh.writeUInt16LE(2, 16); eh.writeUInt16LE(0x3e, 18); eh.writeUInt32LE(1, 20); // ET_EXEC, x86-64
  eh.writeBigUInt64LE(BigInt(base + 120), 24); eh.writeBigUInt64LE(64n, 32); // entry, phoff
  eh.writeUInt16LE(64, 52); eh.writeUInt16LE(56, 54); eh.writeUInt16LE(1, 56); // ehsize, phentsize, phnum
  const ph = Buffer.alloc(56);
  const size = BigInt(120 + code.length);
  ph.writeUInt32LE(1, 0); ph.writeUInt32LE(5, 4); // PT_LOAD, R+X
  ph.writeBigUInt64LE(BigInt(base), 16); ph.writeBigUInt64LE(BigInt(base), 24);
  ph.writeBigUInt64LE(size, 32); ph.writeBigUInt64LE(size, 40); ph.writeBigUInt64LE(0x1000n, 48);
  return Buffer.concat([eh, ph, code]);
}

function boot(args: string[]): string {
  const r = spawnSync('qemu-system-x86_64', ['-m', '512', '-nographic', '-nodefaults', '-serial', 'stdio', '-no-reboot', ...args],
    { encoding: 'latin1', timeout: 180_000 });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`;
}

t.test('the same disk boots with OVMF (UKI) and SeaBIOS (our loader, from the UKI\'s sections)', { skip: KERNEL ? false : 'set MKIMAGE_TEST_KERNEL=/path/to/vmlinuz to run' }, async (t) => {
  for (const f of [KERNEL!, STUB, OVMF]) if (!existsSync(f)) throw new Error(`${f} missing`);
  const dir = tempDir(t);
  const root = new FileTree({ mtime: 0 });
  root.file('init', initElf(), { mode: 0o755 });
  root.device('dev/console', 'char', 5, 1);
  const initrd = await collect(cpioStream(root));
  const kernel = readFileSync(KERNEL!);
  const cmdline = 'console=ttyS0 panic=-1 mkimage.test=boot';
  const blob = (name: string, b: Uint8Array): UkiSectionInput => ({ name, size: b.length, open: async function* () { yield b; } });
  const uki = planUki({ stub: readFileSync(STUB), sections: [blob('.cmdline', Buffer.from(cmdline)), blob('.initrd', initrd), blob('.linux', kernel)] });

  const esp = new FileTree({ mtime: 1700000000 });
  esp.fileFrom('EFI/BOOT/BOOTX64.EFI', uki.size, { kind: 'stream', open: () => emitUki(uki) });
  const fat = (lba: number) => planFat(esp, { label: 'ESP', epoch: 1700000000, hiddenSectors: lba });
  const partitions = [
    { name: 'ESP', typeGuid: ESP_TYPE_GUID, size: fat(0).sizeBytes, content: (p: { firstLba: number }) => emitFat(fat(p.firstLba)) },
    { name: 'root', typeGuid: LINUX_ROOT_X86_64_TYPE_GUID, size: 1 << 20 },
  ];
  // The UKI's sections on the disk: partition start + the file's place in the FAT + the section's in the PE.
  const ukiAt = planDisk({ seed: 'boot-test', partitions }).partitions[0]!.offset + fatFileOffset(fat(0), 'EFI/BOOT/BOOTX64.EFI');
  const extent = (name: string) => { const s = uki.sections.find((x) => x.name === name)!; return { offset: ukiAt + s.fileOffset, size: s.size }; };
  const loader = biosLoader({ kernelHead: kernel.subarray(0, 1024), kernel: extent('.linux'), initrd: extent('.initrd'), cmdline });
  const disk = planDisk({ seed: 'boot-test', partitions, bootCode: loader.bootCode, bootArea: loader.stage2 });
  const img = join(dir, 'app.img');
  await writeImage(img, emitDisk(disk));
  t.comment(`disk ${statSync(img).size} bytes, FAT${fat(2048).geometry.fatType}`);
  const drive = ['-drive', `file=${img},format=raw,if=virtio,snapshot=on`];

  const bios = boot(drive);
  t.match(bios, /mkimage: loading Linux/, 'SeaBIOS -> our MBR -> stage 2');
  t.match(bios, /Kernel command line:.*mkimage\.test=boot/, 'the kernel got the .cmdline text');
  t.match(bios, MARKER, 'BIOS: /init from the initrd ran');
  const uefi = boot(['-bios', OVMF, ...drive]);
  t.notMatch(uefi, /mkimage: loading Linux/, 'OVMF does not run the BIOS loader');
  t.match(uefi, /mkimage\.test=boot/, 'OVMF -> UKI -> kernel with the .cmdline section');
  t.match(uefi, MARKER, 'UEFI: /init from the .initrd section ran');
});
