// The newc writer, read back by GNU cpio and by the cpio-stream package.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileTree } from '../src/tree.js';
import { cpioStream, planCpio, emitCpio, decodeNewc, clampMtime, CPIO_HEADER_SIZE } from '../src/cpio/index.js';
import { writeAtomically } from '../src/output.js';
import { asciiView, collect, expectedEntries, listWithGnuCpio, permString, readWithCpioStream, sha } from './helpers/cpio-tools.js';

const tmp = mkdtempSync(join(tmpdir(), 'cpio-test-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

function tinyTree(mtime = 0): FileTree {
  const tree = new FileTree({ mtime });
  tree.file('init', 'hi\n', { mode: 0o755 });
  return tree;
}

t.test('golden: a one-file tree, byte for byte', async (t) => {
  const bytes = await collect(cpioStream(tinyTree()));
  // Hand-assembled from buffer-format.rst: magic, then ino mode uid gid nlink mtime filesize
  // maj min rmaj rmin namesize chksum as 8 hex digits each, name + NUL padded to 4, data padded to 4.
  const hdr = (ino: string, mode: string, nlink: string, size: string, namesize: string): string =>
    '070701' + ino + mode + '00000000' + '00000000' + nlink + '00000000' + size + '00000000'.repeat(4) + namesize + '00000000';
  const expected = Buffer.concat([
    Buffer.from(hdr('00000001', '000041ED', '00000002', '00000000', '00000002') + '.\0'), // 110 + 2 = 112: aligned
    Buffer.from(hdr('00000002', '000081ED', '00000001', '00000003', '00000005') + 'init\0' + '\0'), // 110 + 5 -> 116
    Buffer.from('hi\n\0'), // 3 data bytes -> 4
    Buffer.from(hdr('00000000', '00000000', '00000001', '00000000', '0000000B') + 'TRAILER!!!\0' + '\0'.repeat(3)), // 121 -> 124
  ]);
  t.equal(bytes.length, 112 + 116 + 4 + 124);
  t.equal(bytes.toString('latin1'), expected.toString('latin1'));
  t.equal(sha(bytes), sha(expected));
  // The field table decodes what it encoded.
  const h = decodeNewc(bytes, 112);
  t.same({ ino: h.ino, mode: h.mode, filesize: h.filesize, namesize: h.namesize }, { ino: 2, mode: 0o100755, filesize: 3, namesize: 5 });
  t.throws(() => decodeNewc(Buffer.from('070707' + '0'.repeat(104)), 0), /bad cpio magic/, 'an odc header is rejected');
  t.throws(() => decodeNewc(Buffer.from('070701' + 'G'.repeat(104)), 0), /bad cpio ino field/);
  // GNU cpio agrees.
  const listed = listWithGnuCpio(bytes);
  t.same(listed.map((e) => [e.name, e.perms, e.size]), [['.', 'drwxr-xr-x', 0], ['init', '-rwxr-xr-x', 3]]);
  // ...and rejects a corrupted copy (a digit in the magic changed).
  const bad = Buffer.from(bytes);
  bad[5] = 0x39;
  t.throws(() => listWithGnuCpio(bad), /cpio -itvn failed|unparsed/);
});

function sampleTree(): FileTree {
  const tree = new FileTree({ mtime: 1_700_000_000 });
  tree.dir('dev', { mode: 0o755 });
  tree.device('dev/console', 'char', 5, 1, { mode: 0o600 });
  tree.device('dev/vda', 'block', 254, 0, { mode: 0o660, gid: 6 });
  tree.special('run/fifo', 'fifo', { mode: 0o644 });
  tree.file('etc/hosts', '127.0.0.1 localhost\n');
  tree.file('bin/app', Buffer.alloc(70_000, 7), { mode: 0o4755, uid: 1000, gid: 1000 });
  tree.hardlink('bin/app-link', 'bin/app');
  tree.hardlink('a-first-link', 'bin/app'); // sorts before bin/app: the data must go here
  tree.symlink('lib64', 'usr/lib');
  tree.file('usr/lib/empty', '');
  tree.file('ünï 日本', 'utf8 name\n');
  tree.dir('tmp', { mode: 0o1777 });
  tree.file('old', 'x', { mtime: -5 });
  tree.file('far', 'y', { mtime: 2 ** 32 + 7 });
  tree.fileFrom('sparse', 10_000, { kind: 'sparse', segments: [{ offset: 4096, bytes: Buffer.from('data') }] });
  return tree;
}

t.test('GNU cpio and cpio-stream list the same entries as the tree', async (t) => {
  const tree = sampleTree();
  const bytes = await collect(cpioStream(tree));
  t.equal(bytes.length, planCpio(tree).size, 'emitted length == planned length');
  const want = await expectedEntries(tree);
  const got = await readWithCpioStream(bytes);
  t.same(got.map(({ ino: _ino, ...e }) => e), want.map((e) => ({ ...e, name: asciiView(e.name) })), 'cpio-stream: names, modes, owners, nlink, mtime, sizes, data, targets');
  const gnu = listWithGnuCpio(bytes);
  t.same(gnu.map((e) => e.name), want.map((e) => e.name), 'GNU cpio: same names in the same order');
  t.same(gnu.map((e) => e.perms), want.map((e) => permString(e.mode)), 'GNU cpio: same modes');
  t.same(gnu.map((e) => e.rdev ?? e.size), want.map((e) => e.rdev ?? e.size), 'GNU cpio: same sizes / device numbers');
  t.same(gnu.map((e) => [e.uid, e.gid, e.nlink]), want.map((e) => [e.uid, e.gid, e.nlink]));
  t.same(gnu.filter((e) => e.target).map((e) => e.target), ['usr/lib']);
  // mtime is unsigned 32-bit in newc: clamped both ways.
  t.equal(got.find((e) => e.name === 'old')!.mtime, 0);
  t.equal(got.find((e) => e.name === 'far')!.mtime, 0xffffffff);
  t.equal(clampMtime(1.7e9 + 0.9), 1.7e9);
});

t.test('hard links: data once, on the first name in archive order; cpio -i relinks them', async (t) => {
  const tree = sampleTree();
  const bytes = await collect(cpioStream(tree));
  const got = await readWithCpioStream(bytes);
  const names = ['a-first-link', 'bin/app', 'bin/app-link'];
  const group = got.filter((e) => names.includes(e.name));
  t.same(group.map((e) => e.name), names);
  t.same(group.map((e) => e.size), [70_000, 0, 0], 'only the first name carries data');
  t.same(new Set(group.map((e) => e.ino)).size, 1, 'one inode number');
  t.same(group.map((e) => e.nlink), [3, 3, 3]);
  t.equal(bytes.length < 70_000 * 2, true, 'the data is in the archive once');

  const dir = mkdtempSync(join(tmp, 'x-'));
  const r = spawnSync('cpio', ['-idm', '--quiet', '--no-absolute-filenames'], { cwd: dir, input: bytes });
  t.equal(r.status, 0, r.stderr.toString());
  const inos = names.map((n) => lstatSync(join(dir, n)).ino);
  t.equal(new Set(inos).size, 1, 'extracted names share one inode');
  t.equal(lstatSync(join(dir, 'bin/app')).nlink, 3);
  t.same(readFileSync(join(dir, 'bin/app')), Buffer.alloc(70_000, 7));
  // Round-trip the rest of the contents.
  t.equal(readFileSync(join(dir, 'etc/hosts'), 'utf8'), '127.0.0.1 localhost\n');
  t.equal(readFileSync(join(dir, 'ünï 日本'), 'utf8'), 'utf8 name\n');
  t.equal(readlinkSync(join(dir, 'lib64')), 'usr/lib');
  const sparse = readFileSync(join(dir, 'sparse'));
  t.equal(sparse.length, 10_000);
  t.equal(sparse.subarray(4096, 4100).toString(), 'data');
  t.equal(sparse.subarray(0, 4096).every((b) => b === 0), true);
  const con = lstatSync(join(dir, 'dev/console'));
  t.ok(con.isCharacterDevice());
  t.equal(con.rdev, (5 << 8) | 1);
  t.equal(lstatSync(join(dir, 'bin/app')).mode & 0o7777, 0o4755);
  t.equal(lstatSync(join(dir, 'etc/hosts')).mtimeMs, 1_700_000_000_000, 'cpio -m restored the mtime');
  t.ok(lstatSync(join(dir, 'run/fifo')).isFIFO());
});

t.test('deterministic: same tree -> same bytes; an mtime change -> different bytes', async (t) => {
  const a = await collect(cpioStream(sampleTree()));
  const b = await collect(cpioStream(sampleTree(), { bufferSize: 5000 })); // chunking does not matter
  t.equal(sha(a), sha(b));
  const changed = sampleTree();
  changed.file('etc/hosts', '127.0.0.1 localhost\n', { mtime: 1_700_000_001 });
  const c = await collect(cpioStream(changed));
  t.not(sha(a), sha(c), 'mtime is in the bytes');
  t.equal(a.length, c.length);
});

t.test('inode numbers: in order from firstIno, shared by a hard-link group', async (t) => {
  const layout = planCpio(sampleTree(), { firstIno: 100 });
  const inos = [...layout.records()].filter((r) => r.entry).map((r) => r.header.ino);
  t.equal(inos[0], 100);
  const unique = [...new Set(inos)];
  t.same(unique, unique.map((_, i) => 100 + i), 'consecutive, first use order');
  t.equal(inos.length - unique.length, 2, 'two later names reuse their group inode');
  t.equal([...layout.records()].at(-1)!.header.ino, 0, 'trailer');
  const noTrailer = planCpio(sampleTree(), { trailer: false });
  t.equal(noTrailer.size, layout.size - 124);
});

t.test('bad sources: one-line errors naming the entry, nothing at the output path', async (t) => {
  const hostData = join(tmp, 'data.bin');
  writeFileSync(hostData, Buffer.alloc(1000, 1));
  const cases: Array<[string, (tree: FileTree) => void, RegExp]> = [
    ['host file shorter than declared', (tr) => tr.hostFile('f', hostData, 1001), /^f: source has 1000 bytes, 1001 declared/],
    ['host file longer than declared', (tr) => tr.hostFile('f', hostData, 999), /^f: source has more than the 999 bytes declared/],
    ['big host file shorter than declared', (tr) => tr.hostFile('f', hostData, 900_000), /^f: source has 1000 bytes, 900000 declared/],
    ['missing host file', (tr) => tr.hostFile('f', join(tmp, 'nope'), 10), /^f: cannot read source .*nope \(ENOENT\)/],
    ['stream shorter than declared', (tr) => tr.fileFrom('f', 10, { kind: 'stream', open: async function* () { yield Buffer.from('abc'); } }), /^f: source has 3 bytes, 10 declared/],
    ['bytes longer than declared', (tr) => tr.fileFrom('f', 2, { kind: 'bytes', bytes: Buffer.from('abc') }), /^f: source has 3 bytes, 2 declared/],
  ];
  for (const [what, add, re] of cases) {
    const tree = tinyTree();
    add(tree);
    const out = join(tmp, `out-${what.replace(/\W/g, '_')}.cpio`);
    const err = await writeAtomically(out, cpioStream(tree)).then(() => undefined, (e: unknown) => e as Error & { code: string });
    t.ok(err, `${what}: rejected`);
    t.match(err!.message, re, what);
    t.equal(err!.code, 'E_TREE');
    t.notOk(err!.message.includes('\n'), 'one line');
    t.notOk(existsSync(out), `${what}: nothing at the output path`);
  }
  // An unreadable source (as root, chmod 000 still reads: use a directory in its place).
  const tree = tinyTree();
  tree.hostFile('dir-as-file', tmp, 10);
  await t.rejects(collect(cpioStream(tree)), { code: 'E_TREE', message: /^dir-as-file: cannot read source .* \(EISDIR\)/ });
  chmodSync(hostData, 0o644);
});

t.test('limits of the format: one-line E_CPIO errors', async (t) => {
  const big = new FileTree();
  big.fileFrom('huge', 2 ** 32, { kind: 'sparse', segments: [] });
  t.throws(() => planCpio(big), { code: 'E_CPIO', message: /^huge: size 4294967296 does not fit a cpio newc header \(32 bits\); .*ext4/ });
  const ids = new FileTree();
  ids.file('f', 'x', { uid: 2 ** 32 });
  t.throws(() => planCpio(ids), { code: 'E_CPIO', message: /^f: uid 4294967296 does not fit/ });
  const long = new FileTree();
  long.file('d/'.repeat(2048) + 'f', 'x');
  t.throws(() => planCpio(long), { code: 'E_CPIO', message: /path is 4097 bytes; the kernel's initramfs unpacker accepts at most 4095/ });
  // A layout that lies about its size trips the emitter's own check.
  const layout = planCpio(tinyTree());
  layout.size += 4;
  await t.rejects(collect(emitCpio(layout)), { code: 'E_INTERNAL', message: /^BUG: cpio archive is 356 bytes, planned 360/ });
  t.equal(CPIO_HEADER_SIZE, 110);
});
