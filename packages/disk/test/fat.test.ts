import t from 'tap';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { FileTree } from '@mkimage/rootfs';
import { collect } from '../src/chunks.js';
import { emitFat, planFat, makeShortName, lfnChecksum, type FatOptions } from '../src/fat/index.js';
import { writeImage } from '../src/output.js';
import { run, sha256, tempDir } from './helpers.js';

process.env.MTOOLS_SKIP_CHECK = '1';
process.env.MTOOLS_NO_VFAT = '0';

/** Deterministic pseudo-random bytes (so the golden digest is stable). */
function bytes(seed: string, n: number): Buffer {
  const out = Buffer.alloc(n);
  let block = createHash('sha256').update(seed).digest();
  for (let i = 0; i < n; i += 32) {
    block.copy(out, i, 0, Math.min(32, n - i));
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

function sampleTree(hostDir: string): { tree: FileTree; files: Map<string, Buffer> } {
  const tree = new FileTree({ mtime: 1700000000 });
  const files = new Map<string, Buffer>();
  const add = (p: string, b: Buffer): void => { tree.file(p, b); files.set(p, b); };
  add('EFI/BOOT/BOOTX64.EFI', bytes('uki', 70_000));
  add('vmlinuz', bytes('kernel', 2048)); // exactly one 2 KiB cluster on small FAT16
  add('Long File Name with spaces.txt', Buffer.from('hello long names\n'));
  add('a.b.c.d', Buffer.from('dots'));
  add('longfilename1.txt', Buffer.from('1'));
  add('longfilename2.txt', Buffer.from('2'));
  add('héllo wörld ☃.cfg', Buffer.from('unicode'));
  add('UPPER.TXT', Buffer.from('exact 8.3 name, no LFN needed'));
  add('empty', Buffer.alloc(0));
  tree.mkdirp('deep/er/and/deeper');
  add('deep/er/and/deeper/leaf.bin', bytes('leaf', 5000));
  for (let i = 0; i < 80; i++) add(`many/file-number-${String(i).padStart(3, '0')}.data`, Buffer.from(`#${i}`));
  // One file read from the host, to go through readData's file source.
  const host = join(hostDir, 'host.bin');
  const hb = bytes('host', 12345);
  writeFileSync(host, hb);
  tree.hostFile('loader/host.bin', host, hb.length);
  files.set('loader/host.bin', hb);
  return { tree, files };
}

async function build(dir: string, tree: FileTree, o: FatOptions, name = 'fat.img'): Promise<{ img: string; plan: ReturnType<typeof planFat> }> {
  const plan = planFat(tree, o);
  const img = join(dir, name);
  await writeImage(img, emitFat(plan));
  return { img, plan };
}

t.test('short names and LFN checksum', async (t) => {
  const taken = new Set<string>();
  const name = (n: string): string => {
    const r = makeShortName(n, taken);
    taken.add(Buffer.from(r.short).toString('latin1'));
    return Buffer.from(r.short).toString('latin1') + (r.needsLong ? '+lfn' : '');
  };
  t.equal(name('UPPER.TXT'), 'UPPER   TXT');
  t.equal(name('vmlinuz'), 'VMLINUZ    +lfn', 'case-only difference keeps the basis, adds a long name');
  t.equal(name('longfilename1.txt'), 'LONGFI~1TXT+lfn');
  t.equal(name('longfilename2.txt'), 'LONGFI~2TXT+lfn');
  t.equal(name('a.b.c.d'), 'ABC~1   D  +lfn');
  t.equal(name('.hidden'), 'HIDDEN~1   +lfn');
  // fatgen103's ChkSum over "FOO     BAR" computed by hand: rotate-right-and-add.
  let s = 0;
  for (const c of Buffer.from('FOO     BAR')) s = (((s & 1) << 7) + (s >> 1) + c) & 0xff;
  t.equal(lfnChecksum(Buffer.from('FOO     BAR')), s);
});

t.test('FAT16 (fit): fsck.fat clean, mtools reads every name and byte back', async (t) => {
  const dir = tempDir(t);
  const { tree, files } = sampleTree(dir);
  const { img, plan } = await build(dir, tree, { label: 'ESP', epoch: 1700000000, hiddenSectors: 2048 });
  t.equal(plan.geometry.fatType, 16);
  t.equal(statSync(img).size, plan.sizeBytes, 'exact length');
  const fsck = run('fsck.fat', ['-n', '-v', img]);
  t.equal(fsck.status, 0, fsck.out);
  t.notMatch(fsck.out, /differ|invalid|bad|lost|free cluster summary wrong/i, 'no findings');
  t.match(fsck.out, /16 bit entries/);

  const info = run('minfo', ['-i', img, '::']);
  t.match(info.out, /hidden sectors: 2048\n/, 'BPB_HiddSec = partition start');
  t.match(info.out, /serial number: [0-9A-F]{8}/, 'volume id');

  const listing = run('mdir', ['-/', '-b', '-i', img, '::']);
  t.equal(listing.status, 0, listing.out);
  for (const p of files.keys()) t.ok(listing.out.includes(`::/${p}`), `mdir lists the long name ${p}`);
  // Binary-exact readback through a directory copy.
  const out = join(dir, 'out');
  mkdirSync(out);
  const mc = run('mcopy', ['-s', '-n', '-i', img, '::/', out]);
  t.equal(mc.status, 0, mc.out);
  for (const [p, content] of files) {
    t.ok(readFileSync(join(out, p)).equals(content), `bytes of ${p} round-trip`);
  }
  const vol = run('mlabel', ['-s', '-i', img, '::']);
  t.match(vol.out, /ESP/, 'volume label');
});

t.test('the kernel FAT driver agrees (mount -o loop,ro)', async (t) => {
  const dir = tempDir(t);
  const { tree, files } = sampleTree(dir);
  const { img } = await build(dir, tree, { label: 'ESP', epoch: 1700000000 });
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  const m = run('mount', ['-o', 'loop,ro', '-t', 'vfat', img, mnt]);
  if (m.status !== 0) {
    t.skip(`mount not possible here (needs root and loop devices): ${m.out.trim()}`);
    return;
  }
  try {
    for (const [p, content] of files) t.ok(readFileSync(join(mnt, p)).equals(content), `kernel reads ${p}`);
    t.same(readdirSync(join(mnt, 'many')).length, 80);
    const st = statSync(join(mnt, 'vmlinuz'));
    t.equal(st.mtime.getTime() / 1000, 1700000000, 'timestamp (even second, UTC)');
  } finally {
    run('umount', [mnt]);
  }
});

t.test('FAT32 when forced or large; backup boot sector and FSInfo', async (t) => {
  const dir = tempDir(t);
  const { tree, files } = sampleTree(dir);
  const { img, plan } = await build(dir, tree, { fatType: 32, label: 'EFI32', hiddenSectors: 4096 });
  t.equal(plan.geometry.fatType, 32);
  t.ok(plan.geometry.clusterCount >= 65525, 'FAT32 needs >= 65525 clusters');
  const fsck = run('fsck.fat', ['-n', '-v', img]);
  t.equal(fsck.status, 0, fsck.out);
  t.notMatch(fsck.out, /differ|invalid|bad|lost|wrong/i);
  const out = join(dir, 'out');
  mkdirSync(out);
  t.equal(run('mcopy', ['-s', '-n', '-i', img, '::/', out]).status, 0);
  for (const [p, content] of files) t.ok(readFileSync(join(out, p)).equals(content), `FAT32 ${p}`);
  // By size: a 600 MiB volume is FAT32.
  const big = planFat(tree, { sizeBytes: 600 << 20 });
  t.equal(big.geometry.fatType, 32);
});

t.test('corruption is detected by fsck.fat (the check can fail)', async (t) => {
  const dir = tempDir(t);
  const { tree } = sampleTree(dir);
  const { img, plan } = await build(dir, tree, {});
  const good = readFileSync(img);
  const bad = Buffer.from(good);
  // Break a chain in the first FAT only: the FATs now differ.
  const fat1 = plan.geometry.reservedSectors * 512;
  bad[fat1 + 2 * 3] ^= 0xff;
  writeFileSync(img, bad);
  const r = run('fsck.fat', ['-n', img]);
  t.not(r.status, 0, `fsck.fat rejects it: ${r.out.split('\n').slice(1, 3).join(' / ')}`);
});

t.test('determinism and golden digest', async (t) => {
  const tree = new FileTree({ mtime: 1600000000 });
  tree.file('EFI/BOOT/BOOTX64.EFI', bytes('g', 3000));
  tree.file('syslinux.cfg', 'DEFAULT linux\n');
  tree.file('Some Long Name.conf', 'x');
  const o = { label: 'GOLD', epoch: 1650000000, hiddenSectors: 2048 };
  const a = await collect(emitFat(planFat(tree, o)));
  const b = await collect(emitFat(planFat(tree, o)));
  t.ok(a.equals(b));
  t.equal(sha256(a), 'd94b760adf11a2627379b7e2decc69b448e21d9bfd0f4104b97d2599cd5cd6d5', 'golden digest');
  const img = join(tempDir(t), 'golden.img');
  writeFileSync(img, a);
  t.equal(run('fsck.fat', ['-n', img]).status, 0, 'the golden bytes pass fsck.fat');
  tree.file('syslinux.cfg', 'DEFAULT linux2\n');
  t.not(sha256(await collect(emitFat(planFat(tree, o)))), sha256(a), 'content change changes the digest');
});

t.test('bad inputs: one-line errors with codes', async (t) => {
  const tree = new FileTree();
  tree.file('a', 'x');
  tree.symlink('link', 'a');
  t.throws(() => planFat(tree), { code: 'E_FAT_ENTRY', message: /^link: a symlink cannot be stored on FAT/ });
  const clash = new FileTree();
  clash.file('Readme', '1');
  clash.file('README', '2');
  t.throws(() => planFat(clash), { code: 'E_FAT_ENTRY', message: /clashes/ });
  const badName = new FileTree();
  badName.file('what?', '1');
  t.throws(() => planFat(badName), { code: 'E_FAT_ENTRY' });
  const big = new FileTree();
  big.fileFrom('big', 20 << 20, { kind: 'sparse', segments: [] });
  t.throws(() => planFat(big, { sizeBytes: 8 << 20 }), { code: 'E_TOO_SMALL', message: /need .* clusters/ });
  t.throws(() => planFat(big, { label: 'bad/label' }), { code: 'E_DISK_OPTION' });
  // A source that changed size: caught while emitting.
  const liar = new FileTree();
  liar.fileFrom('x', 10, { kind: 'bytes', bytes: Buffer.alloc(20) });
  await t.rejects(collect(emitFat(planFat(liar))), { code: /^E_/ });
});

t.test('seeded random trees: fsck.fat clean, every file read back', async (t) => {
  const seed = Number(process.env.FAT_FUZZ_SEED ?? 20261125);
  t.comment(`FAT_FUZZ_SEED=${seed}`);
  let s = seed >>> 0;
  const rnd = (n: number): number => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return (s >>> 8) % n; };
  const alphabet = 'abcXYZ019 ._-~é';
  for (let round = 0; round < 4; round++) {
    const dir = tempDir(t);
    const tree = new FileTree({ mtime: 315532800 + rnd(2e9) });
    const files = new Map<string, Buffer>();
    const dirs = [''];
    for (let i = 0; i < 40; i++) {
      let name = '';
      const len = 1 + rnd(30);
      for (let k = 0; k < len; k++) name += alphabet[rnd(alphabet.length)];
      name = name.replace(/^[ .]+|[ .]+$/g, '') || `n${i}`;
      const parent = dirs[rnd(dirs.length)]!;
      const path = parent ? `${parent}/${name}` : name;
      if ([...files.keys(), ...dirs].some((p) => p.toUpperCase() === path.toUpperCase() || path.toUpperCase().startsWith(`${p.toUpperCase()}/`) && files.has(p))) continue;
      if (rnd(4) === 0) { tree.mkdirp(path); dirs.push(path); continue; }
      const b = bytes(`${seed}/${round}/${i}`, rnd(5) === 0 ? 0 : rnd(3) === 0 ? 2048 * (1 + rnd(3)) : rnd(40000));
      tree.file(path, b);
      files.set(path, b);
    }
    const { img, plan } = await build(dir, tree, round % 2 ? { fatType: 32 } : {});
    const fsck = run('fsck.fat', ['-n', img]);
    t.equal(fsck.status, 0, `round ${round} (FAT${plan.geometry.fatType}): ${fsck.out.split('\n').slice(1).join(' / ')}`);
    const out = join(dir, 'out');
    mkdirSync(out);
    t.equal(run('mcopy', ['-s', '-n', '-i', img, '::/', out]).status, 0);
    let ok = 0;
    for (const [p, content] of files) if (readFileSync(join(out, p)).equals(content)) ok++;
    t.equal(ok, files.size, `round ${round}: all ${files.size} files read back`);
  }
});
