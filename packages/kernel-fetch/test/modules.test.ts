// .modinfo parsing on hand-built ELF64 modules (checked with kmod's modinfo), the dependency closure
// on a synthetic module tree, and one live check on Debian's cloud kernel when a mirror is configured.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { extractDeb } from '../src/deb/index.js';
import { kernelFiles, moduleClosure, ModuleSet, readModinfo } from '../src/kernel/index.js';

/** A relocatable ELF64 (x86-64) with only .modinfo and .shstrtab: gABI "ELF Header", "Sections". */
function makeModule(modinfo: string[]): Buffer {
  const info = Buffer.from(modinfo.map((s) => `${s}\0`).join(''));
  const shstrtab = Buffer.from('\0.modinfo\0.shstrtab\0');
  const infoAt = 64;
  const strAt = infoAt + info.length;
  const shoff = Math.ceil((strAt + shstrtab.length) / 8) * 8;
  const out = Buffer.alloc(shoff + 3 * 64);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0); // ELFMAG, ELFCLASS64, ELFDATA2LSB, EV_CURRENT
  out.writeUInt16LE(1, 16); // e_type ET_REL
  out.writeUInt16LE(62, 18); // e_machine EM_X86_64
  out.writeUInt32LE(1, 20); // e_version
  out.writeBigUInt64LE(BigInt(shoff), 40); // e_shoff
  out.writeUInt16LE(64, 52); // e_ehsize
  out.writeUInt16LE(64, 58); // e_shentsize
  out.writeUInt16LE(3, 60); // e_shnum
  out.writeUInt16LE(2, 62); // e_shstrndx
  info.copy(out, infoAt);
  shstrtab.copy(out, strAt);
  const shdr = (i: number, name: number, type: number, flags: number, offset: number, size: number) => {
    const b = shoff + i * 64;
    out.writeUInt32LE(name, b);
    out.writeUInt32LE(type, b + 4);
    out.writeBigUInt64LE(BigInt(flags), b + 8);
    out.writeBigUInt64LE(BigInt(offset), b + 24);
    out.writeBigUInt64LE(BigInt(size), b + 32);
    out.writeBigUInt64LE(1n, b + 48); // sh_addralign
  };
  shdr(1, 1, 1 /* SHT_PROGBITS */, 2 /* SHF_ALLOC */, infoAt, info.length);
  shdr(2, 10, 3 /* SHT_STRTAB */, 0, strAt, shstrtab.length);
  return out;
}

const FIELDS = ['license=GPL', 'depends=virtio,virtio-ring', 'alias=virtio:d00000001v*', 'alias=pci:v1AF4*', 'softdep=pre: crc32c', 'name=virtio_net', 'vermagic=6.1.0 SMP mod_unload modversions '];

t.test('readModinfo on a hand-built module agrees with kmod modinfo', async (t) => {
  const dir = t.testdir({});
  const ko = makeModule(FIELDS);
  writeFileSync(join(dir, 'm.ko'), ko);
  const info = readModinfo(ko, 'm.ko');
  t.equal(info.name, 'virtio_net');
  t.same(info.depends, ['virtio', 'virtio_ring'], "'-' normalised to '_'");
  t.same(info.aliases, ['virtio:d00000001v*', 'pci:v1AF4*']);
  t.same(info.softdeps, ['pre: crc32c']);
  t.equal(info.vermagic, '6.1.0 SMP mod_unload modversions ');
  t.equal(info.fields.length, FIELDS.length);
  const kmod = (field: string) => execFileSync('modinfo', ['-F', field, join(dir, 'm.ko')]).toString().trim();
  t.equal(kmod('depends'), 'virtio,virtio-ring', 'kmod reads the same ELF');
  t.same(kmod('alias').split('\n'), info.aliases);

  // .ko.xz as trixie ships them (CRC32 check) and .ko.zst
  const xz = execFileSync('xz', ['-c', '--check=crc32'], { input: ko });
  t.same(readModinfo(xz, 'm.ko.xz'), info, '.ko.xz');
  const zst = execFileSync('zstd', ['-q', '-c'], { input: ko });
  t.same(readModinfo(zst, 'm.ko.zst'), info, '.ko.zst');

  // Damage that must be refused
  for (const [label, bytes, re] of [
    ['truncated ELF', ko.subarray(0, ko.length - 10), /m\.ko: cannot read module info: section header table beyond the end/],
    ['not ELF', Buffer.from('hello'), /not an ELF file/],
    ['corrupt .ko.xz', Buffer.concat([xz.subarray(0, 40), Buffer.from([xz[40]! ^ 0xff]), xz.subarray(41)]), /corrupt xz data/],
    ['no .modinfo', Buffer.from(makeModule([]).toString('latin1').replace('.modinfo', '.modinfX'), 'latin1'), /no \.modinfo section/],
  ] as const) {
    t.throws(() => readModinfo(bytes, label === 'corrupt .ko.xz' ? 'm.ko.xz' : 'm.ko'), { message: re }, label);
  }
});

t.test('moduleClosure: dependencies first, built-ins skipped, - and _ equivalent', async (t) => {
  const root = t.testdir({
    kernel: {
      drivers: {
        'top.ko': makeModule(['depends=foo-bar,builtin_x', 'name=top']),
        'foo-bar.ko': makeModule(['depends=base_mod', 'name=foo_bar']),
        'side.ko': makeModule(['depends=', 'name=side']),
        'c1.ko': makeModule(['depends=c2', 'name=c1']),
        'c2.ko': makeModule(['depends=c1', 'name=c2']),
        'needs-ghost.ko': makeModule(['depends=ghost', 'name=needs_ghost']),
      },
      lib: { 'base-mod.ko.xz': execFileSync('xz', ['-c', '--check=crc32'], { input: makeModule(['depends=', 'name=base_mod']) }) },
    },
    'modules.builtin': 'kernel/fs/builtin-x.ko\nkernel/fs/ext4/ext4.ko\n',
  });
  const c = await moduleClosure(root, ['top', 'side', 'foo_bar', 'ext4']);
  t.same(c, [
    { name: 'base_mod', file: 'kernel/lib/base-mod.ko.xz', depends: [] },
    { name: 'foo_bar', file: 'kernel/drivers/foo-bar.ko', depends: ['base_mod'] },
    { name: 'top', file: 'kernel/drivers/top.ko', depends: ['foo_bar', 'builtin_x'] },
    { name: 'side', file: 'kernel/drivers/side.ko', depends: [] },
  ]);
  t.same(await moduleClosure(root, ['top']), await moduleClosure(root, ['top']), 'deterministic');
  await t.rejects(moduleClosure(root, ['nope']), { code: 'E_UNKNOWN_MODULE', message: /kernel module nope is neither in/ });
  await t.rejects(moduleClosure(root, ['needs-ghost']), { code: 'E_UNKNOWN_MODULE', message: /ghost \(needed by needs_ghost\)/ });
  await t.rejects(moduleClosure(root, ['c1']), { code: 'E_MODULE_CYCLE', message: /c1 -> c2 -> c1/ });
  // One ModuleSet answers several closures like separate calls, failures included, and a failure
  // does not spoil later answers.
  const set = await ModuleSet.open(root);
  await t.rejects(set.closure(['nope']), { code: 'E_UNKNOWN_MODULE' });
  await t.rejects(set.closure(['c1']), { code: 'E_MODULE_CYCLE' });
  t.same(await set.closure(['side']), [{ name: 'side', file: 'kernel/drivers/side.ko', depends: [] }]);
  t.same(await set.closure(['top', 'side', 'foo_bar', 'ext4']), c);
  const first = await set.closure(['top']);
  first[0]!.depends.push('mutated');
  t.same(await set.closure(['top']), await moduleClosure(root, ['top']), 'answers are not shared objects');
});

t.test('kernelFiles finds vmlinuz and the module dir', async (t) => {
  const root = t.testdir({ boot: { 'vmlinuz-6.12.1-cloud-amd64': 'k', 'config-6.12.1-cloud-amd64': '' }, usr: { lib: { modules: { '6.12.1-cloud-amd64': {} } } } });
  t.same(await kernelFiles(root), { version: '6.12.1-cloud-amd64', vmlinuz: 'boot/vmlinuz-6.12.1-cloud-amd64', modulesDir: 'usr/lib/modules/6.12.1-cloud-amd64' });
  await t.rejects(kernelFiles(t.testdir({ boot: {} })), { code: 'E_KERNEL_NOT_FOUND' });
  await t.rejects(kernelFiles(t.testdir({ boot: { 'vmlinuz-1': '' } })), { code: 'E_KERNEL_NOT_FOUND', message: /has no lib\/modules\/1/ });
});

t.test('live: Debian cloud kernel, module closure vs modinfo, vmlinuz vs dpkg-deb', async (t) => {
  const dir = t.testdir({});
  let pkg: string;
  try {
    const deps = execFileSync('apt-cache', ['depends', 'linux-image-cloud-amd64'], { stdio: 'pipe' }).toString();
    pkg = /Depends: (linux-image-\S+-cloud-amd64)/.exec(deps)![1]!;
    execFileSync('apt-get', ['download', pkg], { cwd: dir, stdio: 'pipe', timeout: 120_000 });
  } catch (err) {
    t.skip(`no Debian mirror reachable through apt (${String((err as Error).message).split('\n')[0]})`);
    return;
  }
  const deb = join(dir, readdirSync(dir).find((n) => n.endsWith('.deb'))!);
  await extractDeb(deb, join(dir, 'ours'));
  const k = await kernelFiles(join(dir, 'ours'));
  execFileSync('dpkg-deb', ['-x', deb, join(dir, 'ref')]);
  const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
  t.equal(sha(join(dir, 'ours', k.vmlinuz)), sha(join(dir, 'ref', k.vmlinuz)), 'vmlinuz byte-identical to dpkg-deb -x');
  const root = join(dir, 'ours', k.modulesDir);
  const closure = await moduleClosure(root, ['virtio_net', 'virtio_blk', 'virtio_pci', 'virtio_rng', 'ena', 'qemu_fw_cfg']);
  const names = closure.map((m) => m.name);
  for (const want of ['virtio_net', 'net_failover', 'failover', 'virtio_blk', 'virtio_pci', 'virtio_rng', 'ena', 'qemu_fw_cfg']) t.ok(names.includes(want), want);
  for (const [i, m] of closure.entries()) {
    const kmod = execFileSync('modinfo', ['-F', 'depends', join(root, m.file)]).toString().trim();
    t.same(m.depends, kmod === '' ? [] : kmod.split(',').map((d) => d.replace(/-/g, '_')), `${m.name}: depends as modinfo reports`);
    for (const d of m.depends) t.ok(names.indexOf(d) < i || !names.includes(d), `${d} before ${m.name}`);
  }
});
