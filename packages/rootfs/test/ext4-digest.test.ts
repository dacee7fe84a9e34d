// Pinned image digests for seeded trees that reach every planner and emitter path: random trees
// (hard links, xattrs in-inode and in a block, sparse files, fast/slow symlinks, devices), an htree
// directory with dx_node blocks, a journal, and host-file sources (the emitter's small-file read
// path and its streamed path). Refactors of the planner/emitter must keep these bytes exactly;
// e2fsck and the readback tests (ext4.test.ts, ext4-random.test.ts) vouch for the bytes themselves.
import t from 'tap';
import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileTree } from '../src/tree.js';
import { emitExt4Chunks, planExt4, type Ext4Options } from '../src/ext4/index.js';
import { ext4Times, tempDir } from './helpers/ext4-readback.js';
import { randomTree, seededRandom } from './helpers/random-tree.js';

/** SHA-256 of the image with zero runs expanded, plus the number of chunks (must stay ascending). */
async function digest(tree: FileTree, options: Ext4Options): Promise<string> {
  const h = createHash('sha256');
  let pos = 0;
  const zeros = new Uint8Array(1 << 20);
  for await (const c of emitExt4Chunks(planExt4(tree, options))) {
    if (c.offset !== pos) throw new Error(`chunk at ${c.offset}, expected ${pos}`);
    if (c.bytes) { h.update(c.bytes); pos += c.bytes.length; continue; }
    for (let left = c.zero; left > 0; left -= zeros.length) h.update(zeros.subarray(0, Math.min(left, zeros.length)));
    pos += c.zero;
  }
  return h.digest('hex');
}

/** 11,000 names of 200 bytes (19 a leaf): over 508 leaf blocks, so the htree needs a level of dx_nodes. */
function bigDirTree(): FileTree {
  const tree = new FileTree({ mtime: 1_600_000_000 });
  const r = seededRandom(42);
  for (let i = 0; i < 11000; i++) tree.file(`big/${String(i).padStart(6, '0')}-${'n'.repeat(193)}`, r.bytes(r.int(0, 40)));
  for (let i = 0; i < 300; i++) tree.file(`small/${i}`, `file ${i}\n`.repeat(i % 5));
  tree.hardlink('small/link', 'small/7');
  return tree;
}

async function hostTree(dir: string): Promise<FileTree> {
  const tree = new FileTree({ mtime: 1_650_000_000 });
  const r = seededRandom(7);
  await mkdir(join(dir, 'src'), { recursive: true });
  // Small (one read), exactly a block, empty, and large (streamed in chunks) host files.
  const sizes = [0, 1, 100, 4095, 4096, 4097, 70_000, 128 << 10, (128 << 10) + 1, 3 << 20];
  for (const [i, size] of sizes.entries()) {
    const bytes = r.bytes(size);
    if (size === 3 << 20) bytes.fill(0, 1 << 20, 2 << 20); // a zero stretch in allocated data
    const src = join(dir, 'src', `f${i}`);
    await writeFile(src, bytes);
    tree.hostFile(`host/f${i}`, src, size, { mode: 0o640, uid: i, gid: 2 * i });
  }
  return tree;
}

// Pinned before the memory refactor of the planner and emitter (issue 4).
const PINNED: Record<string, string> = {
  'random-1': '932878400410596899330468b293d40c0d06638ebd0dfe9fa29f407c5a1b333b',
  'random-2': '081f3360575d7494128f1169939f65e76ae7ef5ba68536c669b6e7e62b7d5b30',
  'random-3': '0c9286cda4b5641fa0a97fad01cab624495ffd19cf37e551547cc9278550ebc4',
  'random-4-journal': 'cd3f835c1f7169265a187a9cca4796d771b39ff9105be0108b234be223400bd7',
  'bigdir': 'fac7d7e96c619bc74bd76b99e91dadbe117015d98d8a2e9ae6ba5d3d12ec39dd',
  'host': 'c676574822e0dd5f50474243210df08ebc5994e058e5c6d015220b7b1360df3f',
};

t.test('image bytes for seeded trees are pinned', async (t) => {
  const dir = await tempDir('ext4-digest-');
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const got: Record<string, string> = {};
  for (const seed of [1, 2, 3]) got[`random-${seed}`] = await digest(ext4Times(randomTree(seed, { count: 300 })), { epoch: 1_700_000_000 });
  got['random-4-journal'] = await digest(ext4Times(randomTree(4, { count: 200 })), { epoch: 1_700_000_000, journal: true, label: 'j' });
  got['bigdir'] = await digest(bigDirTree(), { epoch: 0 });
  got['host'] = await digest(await hostTree(dir), { epoch: 0, size: 64 << 20 });
  if (process.env.PRINT_DIGESTS) console.log(JSON.stringify(got, null, 2));
  for (const [k, v] of Object.entries(PINNED)) t.equal(got[k], v, `${k}: same bytes as before`);
  // reuseBuffers: the same bytes for a consumer done with each chunk before the next (hashing it
  // here); a consumer that keeps chunks sees them overwritten, which is why it is opt-in.
  const layout = planExt4(bigDirTree(), { epoch: 0 });
  const h = createHash('sha256');
  const kept: Uint8Array[] = [];
  const copies: Buffer[] = [];
  let batches = 0;
  for await (const c of emitExt4Chunks(layout, { reuseBuffers: true })) {
    if (!c.bytes) { h.update(new Uint8Array(c.zero)); continue; }
    h.update(c.bytes);
    if (c.bytes.length >= 64 << 10 && batches++ < 8) { kept.push(c.bytes); copies.push(Buffer.from(c.bytes)); }
  }
  t.equal(h.digest('hex'), got['bigdir'], 'reused buffers: same bytes when each chunk is consumed before the next');
  t.ok(kept.some((k, i) => !Buffer.from(k).equals(copies[i]!)), 'reused buffers: a kept chunk has been overwritten since');
  // The pins must be able to fail: one changed mtime changes the image.
  const changed = bigDirTree();
  changed.file('small/0', '', { mtime: 1 });
  t.not(await digest(changed, { epoch: 0 }), got['bigdir'], 'a changed mtime changes the digest');
});
