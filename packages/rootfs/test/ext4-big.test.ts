// ext4 writer at scale: 20,000-entry directories (two-level htree), a 4 GiB sparse file, a file
// fragmented enough for a depth-2 extent tree, a 160 MiB file crossing block groups, 2,000 hard
// links, a multi-flex-group filesystem of a fixed size, and a journal the kernel mounts read-write.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileTree } from '../src/tree.js';
import { planExt4, FIT_HEADROOM } from '../src/ext4/index.js';
import { seededRandom } from './helpers/random-tree.js';
import { compareWithDebugfs, compareWithKernel, debugfs, e2fsck, isRoot, tempDir, writeImage } from './helpers/ext4-readback.js';

const EPOCH = 1_700_000_000;
if (!isRoot) t.comment('not root: skipping kernel mounts (debugfs readback still runs)');

async function check(t: Tap.Test, tree: FileTree, img: string, opts: { contents?: boolean } = {}): Promise<void> {
  const fsck = e2fsck(img);
  t.ok(fsck.ok, 'e2fsck -fn clean', { output: fsck.output.slice(0, 4000) });
  t.same((await compareWithDebugfs(img, tree, opts)).slice(0, 20), [], 'debugfs readback equal');
  if (isRoot) t.same((await compareWithKernel(img, tree)).slice(0, 20), [], 'kernel readback equal');
}
declare namespace Tap { type Test = typeof t }

t.test('20,000-entry directories: htree with dx_nodes, UTF-8 and 255-byte names', async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const tree = new FileTree({ mtime: EPOCH });
  const r = seededRandom(4);
  for (let i = 0; i < 20_000; i++) {
    const pad = 'ü'.repeat(r.int(0, 100)); // up to 200 bytes of two-byte UTF-8
    const name = `${i}-${pad}`.slice(0, 250);
    if (i % 5 === 0) tree.file(`big/${name}`, `${i}\n`);
    else if (i % 5 === 1) tree.symlink(`big/${name}`, `target-${i}`);
    else if (i % 5 === 2) tree.dir(`big/${name}`);
    else tree.special(`big/${name}`, 'fifo');
  }
  for (let i = 0; i < 20_000; i++) tree.file(`short/f${i}`, '');
  tree.file(`short/${'z'.repeat(255)}`, 'longest name');
  const img = join(dir, 'dirs.ext4');
  await writeImage(tree, { epoch: EPOCH }, img);
  const [htree] = debugfs(img, ['htree_dump /big']);
  t.match(htree, /Indirect levels: 1/, 'the big directory needs a dx_node level');
  await check(t, tree, img, { contents: false });
});

t.test('huge sparse, fragmented and group-crossing files; many hard links', async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const tree = new FileTree({ mtime: EPOCH });
  const r = seededRandom(9);
  // 4 GiB apparent, a few KiB of data.
  tree.fileFrom('sparse/4g', 4 * 2 ** 30, { kind: 'sparse', segments: [
    { offset: 0, bytes: r.bytes(10) }, { offset: 2 ** 31 - 3, bytes: r.bytes(7) }, { offset: 4 * 2 ** 30 - 5000, bytes: r.bytes(5000) },
  ] });
  // 2,000 single-block extents: more than 4 x 340 leaf entries, so the tree is two index levels deep.
  const segments = Array.from({ length: 2000 }, (_, i) => ({ offset: i * 2 * 4096 + 17, bytes: r.bytes(100) }));
  tree.fileFrom('sparse/fragmented', 2000 * 2 * 4096, { kind: 'sparse', segments });
  // 160 MiB of data: more than one 128 MiB extent, crossing the backup superblock in group 1.
  const size = 160 << 20;
  tree.fileFrom('data/160m', size, { kind: 'stream', open: async function* () {
    const chunk = new Uint8Array(1 << 20);
    for (let i = 0; i < 160; i++) { chunk.fill(i); chunk[0] = i ^ 0xff; yield chunk.slice(); }
  } });
  tree.file('links/target', 'linked\n', { mode: 0o4711, uid: 7, gid: 8 });
  for (let i = 0; i < 2000; i++) tree.hardlink(`links/l${i}`, 'links/target');
  const img = join(dir, 'files.ext4');
  await writeImage(tree, { epoch: EPOCH }, img);
  const [ex] = debugfs(img, ['ex /sparse/fragmented']);
  t.match(ex, /^\s*0\/\s*2\s/m, 'the fragmented file has a depth-2 extent tree (root level)');
  t.match(ex, /^\s*2\/\s*2\s/m, 'the fragmented file has a depth-2 extent tree (leaf level)');
  await check(t, tree, img, { contents: false });
});

t.test('fixed size over several flex groups; fit headroom; journal mounts read-write', async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const tree = new FileTree({ mtime: EPOCH });
  tree.file('etc/os-release', 'ID=mkimage\n');
  for (let i = 0; i < 50; i++) tree.fileFrom(`data/f${i}`, 300_000, { kind: 'bytes', bytes: new Uint8Array(300_000).fill(i) });
  const img = join(dir, 'fixed.ext4');
  const size = 5 * 2 ** 30 + 12345; // 40 groups, 3 flex groups; not a block multiple
  await writeImage(tree, { epoch: EPOCH, size, label: 'fixed', reservedBlocksPercent: 5 }, img);
  t.equal(execFileSync('stat', ['-c', '%s', img], { encoding: 'utf8' }).trim(), String(size), 'the stream is exactly the requested size');
  const layout = planExt4(tree, { epoch: EPOCH, size });
  t.equal(layout.geometry.groups, 40);
  await check(t, tree, img);
  const dumpe2fs = execFileSync('dumpe2fs', ['-h', img], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  t.match(dumpe2fs, /Filesystem volume name:\s+fixed/);
  t.match(dumpe2fs, /Filesystem features:\s+ext_attr dir_index filetype extent 64bit flex_bg sparse_super large_file huge_file dir_nlink extra_isize metadata_csum/);

  // Tail groups too small to be useful are dropped (the stream still has the requested length);
  // tiny filesystems of one partial group work too.
  for (const blocks of [32768 * 2 + 40, 32768 + 30, 32768 + 200, 32768 * 16 + 100, 64]) {
    const small = new FileTree({ mtime: EPOCH });
    small.file('a', 'x'.repeat(10000));
    const eimg = join(dir, `edge-${blocks}.ext4`);
    await writeImage(small, { epoch: EPOCH, size: blocks * 4096 + 100 }, eimg);
    const res = e2fsck(eimg);
    t.ok(res.ok, `${blocks} blocks + 100 bytes: e2fsck clean`, { output: res.output });
    t.equal(execFileSync('stat', ['-c', '%s', eimg], { encoding: 'utf8' }).trim(), String(blocks * 4096 + 100));
    await rm(eimg);
  }

  const fit = planExt4(tree, { epoch: EPOCH });
  const used = fit.blocks - fit.freeBlocks;
  t.ok(fit.freeBlocks >= used * FIT_HEADROOM * 0.9, `fit leaves headroom (${fit.freeBlocks} free of ${fit.blocks})`);
  t.equal(fit.size % (1 << 20), 0, 'fit rounds to 1 MiB');

  const jimg = join(dir, 'journal.ext4');
  await writeImage(tree, { epoch: EPOCH, journal: true }, jimg);
  await check(t, tree, jimg, { contents: false });
  t.match(execFileSync('dumpe2fs', ['-h', jimg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }), /Total journal size:\s+4096k/);
  if (!isRoot) return;
  const mnt = await tempDir('ext4-rw-');
  execFileSync('mount', ['-t', 'ext4', '-o', 'loop,rw', jimg, mnt]);
  try {
    await writeFile(join(mnt, 'written-by-kernel'), 'hello\n');
    execFileSync('sync');
  } finally {
    execFileSync('umount', [mnt]);
    await rm(mnt, { recursive: true, force: true });
  }
  const after = e2fsck(jimg);
  t.ok(after.ok, 'still clean after a read-write mount and a write', { output: after.output });
  t.match(debugfs(jimg, ['cat /written-by-kernel'])[0], /^hello$/m, 'the kernel wrote through the journal');
});
