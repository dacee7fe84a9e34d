// Property test: >= 200 seeded random trees per run, each written to an image that must pass
// e2fsck -fn and read back equal through debugfs and (as root) the kernel's ext4 driver.
// A failing seed is printed; add it to REGRESSION_SEEDS so it stays covered.
import t from 'tap';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomTree } from './helpers/random-tree.js';
import { ext4Times, compareWithDebugfs, compareWithKernel, e2fsck, isRoot, tempDir, writeImage } from './helpers/ext4-readback.js';

const REGRESSION_SEEDS: number[] = [];
const RANDOM = Number(process.env.EXT4_RANDOM_TREES ?? 200);
const base = Number(process.env.EXT4_SEED ?? Date.now() % 1_000_000);
const seeds = [...REGRESSION_SEEDS, ...Array.from({ length: RANDOM }, (_, i) => base + i)];

if (!isRoot) t.comment('not root: skipping the kernel mount readback (debugfs readback still runs)');

t.test(`random trees (seeds ${base}..${base + RANDOM - 1})`, async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const seed of seeds) {
    // Most trees small, every 25th one bigger.
    const count = seed % 25 === 0 ? 600 : 10 + (seed % 60);
    const tree = ext4Times(randomTree(seed, { count }));
    const img = join(dir, `seed-${seed}.ext4`);
    const journal = seed % 7 === 0;
    await writeImage(tree, { epoch: 1_700_000_000, journal }, img);
    const fsck = e2fsck(img);
    if (!fsck.ok) {
      t.fail(`seed ${seed}: e2fsck`, { output: fsck.output });
      continue;
    }
    const diffs = await compareWithDebugfs(img, tree);
    if (isRoot) diffs.push(...(await compareWithKernel(img, tree)));
    t.same(diffs.slice(0, 20), [], `seed ${seed}: ${tree.size} entries, e2fsck clean, readback equal${journal ? ' (journal)' : ''}`);
    await rm(img, { force: true });
  }
});
