// treeFromTar on archives made by GNU tar, compared with treeFromDirectory of the same directory.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { createReadStream, linkSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync, chmodSync, chownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { treeFromTar } from '../src/import/tar.js';
import { treeFromDirectory } from '../src/import/directory.js';
import { readData, type Entry, type FileTree } from '../src/tree.js';
import { cpioStream } from '../src/cpio/index.js';
import { collect, listWithGnuCpio, sha } from './helpers/cpio-tools.js';

const tmp = mkdtempSync(join(tmpdir(), 'import-tar-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

function fixture(): string {
  const root = mkdtempSync(join(tmp, 'src-'));
  mkdirSync(join(root, 'usr/lib'), { recursive: true });
  writeFileSync(join(root, 'usr/lib/big.so'), Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919) & 0xff)));
  chmodSync(join(root, 'usr/lib/big.so'), 0o755);
  linkSync(join(root, 'usr/lib/big.so'), join(root, 'usr/lib/big-link.so'));
  writeFileSync(join(root, 'small'), 'small\n');
  writeFileSync(join(root, 'empty'), '');
  writeFileSync(join(root, 'a'.repeat(200)), 'long name\n'); // needs a pax/GNU long-name record
  writeFileSync(join(root, 'ünï'), 'u\n');
  chownSync(join(root, 'small'), 4321, 8765);
  symlinkSync('usr/lib/big.so', join(root, 'link'));
  symlinkSync('x'.repeat(300), join(root, 'long-link'));
  execFileSync('mkfifo', [join(root, 'fifo')]);
  execFileSync('mknod', [join(root, 'console'), 'c', '5', '1']);
  execFileSync('touch', ['-h', '-d', '2001-02-03 04:05:06.123456789', join(root, 'small'), join(root, 'link')]);
  return root;
}

function tarOf(root: string, ...flags: string[]): Buffer {
  return execFileSync('tar', ['--numeric-owner', '--sort=name', ...flags, '-C', root, '-cf', '-', '.'], { maxBuffer: 1 << 26 });
}

async function view(tree: FileTree): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const e of tree.entries()) {
    if (e.path === '') continue;
    let data: string | undefined;
    if (e.type === 'file') data = sha(Buffer.concat(await collectAll(e)));
    const { data: _d, xattrs: _x, ...meta } = e as Entry & { data?: unknown };
    out.push({ ...meta, ...(data ? { sha: data } : {}) });
  }
  return out;
}
async function collectAll(e: Entry): Promise<Uint8Array[]> {
  const parts: Uint8Array[] = [];
  if (e.type === 'file') for await (const c of readData(e)) parts.push(c);
  return parts;
}

t.test('a pax tar imports like the directory it came from (ns mtimes included)', async (t) => {
  const root = fixture();
  const spool = mkdtempSync(join(tmp, 'spool-'));
  const fromTar = await treeFromTar(Readable.from([tarOf(root, '--format=pax')]), { spoolDir: spool, smallFile: 1024 });
  const fromDir = treeFromDirectory(root);
  t.same(await view(fromTar), await view(fromDir), 'same entries, metadata and data');
  t.equal(fromTar.get('small')!.mtimeNsec, 123_456_789, 'pax mtime keeps nanoseconds');
  t.equal(readdirSync(spool).length, 1, 'only the body above smallFile was spooled');
  const big = fromTar.get('usr/lib/big-link.so')!; // tar --sort=name stores this name first: the file
  t.equal(big.type === 'file' && big.data.kind, 'file', 'big body spooled to a file');
  t.equal(fromTar.get('small')!.type === 'file' && (fromTar.get('small') as { data: { kind: string } }).data.kind, 'bytes', 'small body kept in memory');
  // And it writes out as a cpio archive GNU cpio reads.
  const listed = listWithGnuCpio(await collect(cpioStream(fromTar)));
  t.equal(listed.length, fromTar.size);
});

t.test('gzip-compressed and GNU-format tars, a prefix, forced owners', async (t) => {
  const root = fixture();
  const gz = execFileSync('gzip', ['-c'], { input: tarOf(root, '--format=gnu') });
  const tree = await treeFromTar(Readable.from([gz]), { prefix: 'opt/x', uid: 0, gid: 0 });
  t.ok(tree.get(`opt/x/${'a'.repeat(200)}`), 'GNU long name');
  t.equal(tree.get('opt/x/small')!.uid, 0);
  const link = tree.get('opt/x/usr/lib/big.so')!;
  t.equal(link.type === 'hardlink' && link.target, 'opt/x/usr/lib/big-link.so', 'hard link target under the prefix');
  t.equal((tree.get('opt/x/long-link') as { target: string }).target, 'x'.repeat(300));
  // From a file stream, in odd-sized chunks.
  const file = join(tmp, 'f.tar');
  writeFileSync(file, tarOf(root));
  const t2 = await treeFromTar(createReadStream(file, { highWaterMark: 777 }));
  t.equal(t2.size, tree.size - 2, 'same entries (the prefix adds opt and opt/x)');
});

t.test('broken archives: one-line E_IMPORT naming the entry and offset', async (t) => {
  const root = fixture();
  const good = tarOf(root, '--format=gnu');
  // Corrupt the checksum of the 3rd header.
  const bad = Buffer.from(good);
  let off = 0;
  for (let i = 0; i < 2; i++) {
    const size = parseInt(bad.subarray(off + 124, off + 136).toString().replace(/\0.*$/, '').trim() || '0', 8);
    off += 512 + Math.ceil(size / 512) * 512;
  }
  const victim = bad.subarray(off, off + 100).toString().replace(/\0.*$/s, '');
  bad[off + 150] ^= 0x01;
  await t.rejects(treeFromTar(Readable.from([bad])), {
    code: 'E_IMPORT',
    message: /^tar: Invalid tar header\. Maybe the tar is corrupted or it needs to be gunzipped\? \(after entry "\.\/", near byte \d+ of the archive\)$/,
  }, `corrupted header of ${victim}`);
  await t.rejects(treeFromTar(Readable.from([good.subarray(0, 700)])), { code: 'E_IMPORT', message: /^tar: Unexpected end of data \(after entry "\.\/", near byte 700 of the archive\)$/ }, 'truncated');
  await t.rejects(treeFromTar(Readable.from([Buffer.from('this is not a tar file'.repeat(30))])), { code: 'E_IMPORT' }, 'not a tar');
  // A '..' path is refused by the tree (E_TREE), not silently written outside.
  const evil = execFileSync('tar', ['-cf', '-', '--transform', 's,^,../,', '-C', root, 'small']);
  await t.rejects(treeFromTar(Readable.from([evil])), { code: 'E_TREE', message: /"\.\." is not allowed/ });
});
