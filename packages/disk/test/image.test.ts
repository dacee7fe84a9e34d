// End to end through the public API: a UKI on a FAT ESP plus an ext4 root on one GPT disk, each
// partition read back from the disk image by the independent tools.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileTree, planExt4, emitExt4Chunks } from '@mkimage/rootfs';
import {
  planDisk, emitDisk, planFat, emitFat, planUki, emitUki, writeImage, fromOffsetChunks,
  ESP_TYPE_GUID, LINUX_ROOT_X86_64_TYPE_GUID, GPT_ATTR_LEGACY_BIOS_BOOTABLE, type UkiSectionInput,
} from '../src/index.js';
import { run, tempDir } from './helpers.js';

const STUB = process.env.MKIMAGE_EFI_STUB ?? '/usr/lib/systemd/boot/efi/linuxx64.efi.stub';
if (!existsSync(STUB)) throw new Error(`${STUB} missing: apt-get install systemd-boot-efi`);

t.test('UKI on a FAT ESP + ext4 root on GPT', async (t) => {
  const dir = tempDir(t);
  const epoch = 1700000000;
  const kernel = Buffer.alloc(2_000_000, 0x4b);
  const initrd = Buffer.alloc(500_000, 0x49);
  const sec = (name: string, b: Uint8Array): UkiSectionInput => ({ name, size: b.length, open: async function* () { yield b; } });

  const rootTree = new FileTree({ mtime: epoch });
  rootTree.file('app/hello.txt', 'hello from the root partition\n');
  rootTree.file('etc/hostname', 'mkimage\n');
  const ext4 = planExt4(rootTree, { epoch });

  // PARTUUIDs do not depend on content sizes, so the cmdline can name the root before the UKI is built.
  const layout = (espSize: number) => planDisk({
    seed: 'image-test',
    partitions: [
      { name: 'ESP', typeGuid: ESP_TYPE_GUID, size: espSize, attributes: GPT_ATTR_LEGACY_BIOS_BOOTABLE },
      { name: 'root', typeGuid: LINUX_ROOT_X86_64_TYPE_GUID, size: ext4.size, content: () => fromOffsetChunks(emitExt4Chunks(ext4)) },
    ],
  });
  const rootUuid = layout(1 << 20).partitions[1]!.partUuid.toLowerCase();
  const uki = planUki({
    stub: readFileSync(STUB),
    sections: [sec('.cmdline', Buffer.from(`console=ttyS0 root=PARTUUID=${rootUuid} ro`)), sec('.initrd', initrd), sec('.linux', kernel)],
  });
  const esp = new FileTree({ mtime: epoch });
  esp.fileFrom('EFI/BOOT/BOOTX64.EFI', uki.size, { kind: 'stream', open: () => emitUki(uki) });
  const fatSize = planFat(esp, { label: 'ESP', epoch }).sizeBytes;
  const base = layout(fatSize);
  const espPart = base.partitions[0]!;
  const fat = planFat(esp, { label: 'ESP', epoch, hiddenSectors: espPart.firstLba });
  const plan = planDisk({
    seed: 'image-test',
    partitions: [
      { name: 'ESP', typeGuid: ESP_TYPE_GUID, size: fat.sizeBytes, attributes: GPT_ATTR_LEGACY_BIOS_BOOTABLE, content: () => emitFat(fat) },
      { name: 'root', typeGuid: LINUX_ROOT_X86_64_TYPE_GUID, size: ext4.size, content: () => fromOffsetChunks(emitExt4Chunks(ext4)) },
    ],
  });
  t.equal(plan.partitions[1]!.partUuid.toLowerCase(), rootUuid, 'PARTUUID stable while sizes change');

  const img = join(dir, 'app.img');
  await writeImage(img, emitDisk(plan));
  t.match(run('sgdisk', ['-v', img]).out, /No problems found/);

  const [p1, p2] = plan.partitions;
  const extract = (p: typeof p1, name: string): string => {
    const out = join(dir, name);
    run('dd', [`if=${img}`, `of=${out}`, 'iflag=skip_bytes,count_bytes', `skip=${p!.offset}`, `count=${p!.size}`, 'status=none']);
    return out;
  };
  const espImg = extract(p1, 'esp.img');
  const f = run('fsck.fat', ['-n', espImg]);
  t.equal(f.status, 0, f.out);
  const efi = join(dir, 'BOOTX64.EFI');
  t.equal(run('mcopy', ['-n', '-i', espImg, '::/EFI/BOOT/BOOTX64.EFI', efi]).status, 0);
  const dump = join(dir, 'linux.bin');
  t.equal(run('objcopy', ['--dump-section', `.linux=${dump}`, efi, join(dir, 'discard')]).status, 0);
  t.ok(readFileSync(dump).subarray(0, kernel.length).equals(kernel), 'kernel bytes inside the UKI inside the FAT inside the GPT');
  const cmd = join(dir, 'cmdline.txt');
  t.equal(run('objcopy', ['--dump-section', `.cmdline=${cmd}`, efi, join(dir, 'discard2')]).status, 0);
  t.match(readFileSync(cmd, 'latin1'), `root=PARTUUID=${rootUuid} ro`);

  const rootImg = extract(p2, 'root.img');
  const e = run('e2fsck', ['-fn', rootImg]);
  t.equal(e.status, 0, e.out);
  t.equal(run('debugfs', ['-R', 'cat /app/hello.txt', rootImg]).out.includes('hello from the root partition'), true);
});
