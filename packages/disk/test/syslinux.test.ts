import t from 'tap';
import { existsSync, readFileSync, openSync, readSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { FileTree } from '@mkimage/rootfs';
import { collect } from '../src/chunks.js';
import { emitFat, planFat, standardBootSector } from '../src/fat/index.js';
import { addSyslinux, emptyAdv, extractSyslinux, ldlinuxSectors, patchLdlinux, mergeBootSector, generateExtents } from '../src/syslinux/index.js';
import { ExtPatchArea, PatchArea, LDLINUX_MAGIC } from '../src/syslinux/structs.js';
import { writeImage } from '../src/output.js';
import { run, tempDir } from './helpers.js';

process.env.MTOOLS_SKIP_CHECK = '1';
// CI installs the syslinux package (the installer binary embeds the loader) and syslinux-common.
const INSTALLER = process.env.MKIMAGE_SYSLINUX ?? '/usr/bin/syslinux';
if (!existsSync(INSTALLER)) throw new Error(`${INSTALLER} missing: apt-get install syslinux`);
const parts = extractSyslinux(readFileSync(INSTALLER), INSTALLER);

function patchAreaOf(sys: Uint8Array): { pa: number } {
  const dv = new DataView(sys.buffer, sys.byteOffset);
  for (let i = 0; i < sys.length; i += 4) if (dv.getUint32(i, true) === LDLINUX_MAGIC) return { pa: i };
  throw new Error('no patch area');
}

t.test('extracts the loader from the installer', async (t) => {
  t.match(parts.version, /^SYSLINUX 6\./);
  t.equal(parts.bootSector.length, 512);
  t.equal(Buffer.from(parts.ldlinuxC32.subarray(0, 4)).toString('latin1'), '\x7fELF');
  t.throws(() => extractSyslinux(readFileSync('/bin/true'), '/bin/true'), { code: 'E_SYSLINUX', message: /^\/bin\/true: cannot find syslinux/ });
});

t.test('extents follow syslinux rules (64 KiB limit)', async (t) => {
  t.same(generateExtents([10, 11, 12, 20, 21]), [{ lba: 10, len: 3 }, { lba: 20, len: 2 }]);
  const long = generateExtents(Array.from({ length: 300 }, (_, i) => 1000 + i));
  t.ok(long.every((e) => e.len * 512 < 65536), 'no extent reaches 64 KiB');
  t.equal(long.reduce((n, e) => n + e.len, 0), 300);
});

t.test('our patch equals what `syslinux --install` writes', async (t) => {
  // Reference: the real installer on a FAT volume we made (no syslinux files yet).
  const dir = tempDir(t);
  const tree = new FileTree({ mtime: 1700000000 });
  tree.file('vmlinuz', Buffer.alloc(10000, 1));
  const plan = planFat(tree, { label: 'ESP', sizeBytes: 16 << 20, hiddenSectors: 2048 });
  const img = join(dir, 'ref.img');
  await writeImage(img, emitFat(plan));
  const inst = run(INSTALLER, ['--install', img]);
  t.equal(inst.status, 0, inst.out);
  t.equal(run('fsck.fat', ['-n', img]).status, 0, 'reference passes fsck');
  const refBoot = Buffer.alloc(512);
  const fd = openSync(img, 'r');
  readSync(fd, refBoot, 0, 512, 0);
  closeSync(fd);
  const refSysPath = join(dir, 'ldlinux.sys');
  t.equal(run('mcopy', ['-n', '-i', img, '::/ldlinux.sys', refSysPath]).status, 0);
  const refSys = readFileSync(refSysPath);
  t.equal(refSys.length, ldlinuxSectors(parts.ldlinuxSys.length) * 512 - (Math.ceil(parts.ldlinuxSys.length / 512) * 512 - parts.ldlinuxSys.length), 'installer file = ldlinux.sys + 2 ADV sectors');

  // Where the installer put it (the first-sector pointer it wrote into the boot sector).
  const { pa } = patchAreaOf(parts.ldlinuxSys);
  const epa = ExtPatchArea.decode(parts.ldlinuxSys, PatchArea.decode(parts.ldlinuxSys, pa).epaOffset);
  const first = refBoot.readUInt32LE(epa.sect1Ptr0);
  const sectors = Array.from({ length: ldlinuxSectors(parts.ldlinuxSys.length) }, (_, i) => first + i);
  const ours = patchLdlinux(parts.ldlinuxSys, parts.bootSector, sectors);
  t.ok(Buffer.from(ours.ldlinuxSys).equals(refSys.subarray(0, parts.ldlinuxSys.length)), 'patched ldlinux.sys byte-identical');
  t.ok(refSys.subarray(refSys.length - 1024).equals(emptyAdv()), 'our empty ADV = the installer\'s');
  const merged = mergeBootSector(standardBootSector(plan), ours.bootTemplate);
  t.ok(Buffer.from(merged).equals(refBoot), 'boot sector byte-identical to the installer\'s');
  // The check can fail: a wrong sector list gives different bytes.
  const wrong = patchLdlinux(parts.ldlinuxSys, parts.bootSector, sectors.map((s) => s + 1));
  t.notOk(Buffer.from(wrong.ldlinuxSys).equals(refSys.subarray(0, parts.ldlinuxSys.length)));
});

t.test('addSyslinux: fsck clean, files and attributes in place, patched in the image', async (t) => {
  const dir = tempDir(t);
  const tree = new FileTree({ mtime: 1700000000 });
  tree.file('vmlinuz', Buffer.alloc(50000, 7));
  const sl = addSyslinux(tree, parts, { config: 'DEFAULT linux\nLABEL linux\n  KERNEL /vmlinuz\n' });
  for (const type of [16, 32] as const) {
    const plan = planFat(tree, { label: 'ESP', hiddenSectors: 2048, fatType: type, attributes: sl.attributes, bootSector: sl.bootSector });
    const img = join(dir, `fat${type}.img`);
    await writeImage(img, emitFat(plan));
    const f = run('fsck.fat', ['-n', img]);
    t.equal(f.status, 0, `FAT${type}: ${f.out}`);
    const attrs = run('mattrib', ['-i', img, '::/ldlinux.sys']).out;
    t.match(attrs, /^\s*A\s+SHR\s/m, `FAT${type} ldlinux.sys is system, hidden, read-only: ${attrs.trim()}`);
    const bytes = await collect(emitFat(plan));
    const node = plan.node('ldlinux.sys')!;
    const off = plan.clusterOffset(node.firstCluster);
    const sectors = Array.from({ length: ldlinuxSectors(parts.ldlinuxSys.length) }, (_, i) => off / 512 + i);
    const want = patchLdlinux(parts.ldlinuxSys, parts.bootSector, sectors);
    t.ok(bytes.subarray(off, off + want.ldlinuxSys.length).equals(want.ldlinuxSys), `FAT${type}: patched ldlinux.sys at its clusters`);
    t.ok(bytes.subarray(0, 512).equals(mergeBootSector(standardBootSector(plan), want.bootTemplate)), `FAT${type}: merged boot sector`);
    if (type === 32) t.ok(bytes.subarray(6 * 512, 7 * 512).equals(bytes.subarray(0, 512)), 'FAT32 backup boot sector matches');
  }
});
