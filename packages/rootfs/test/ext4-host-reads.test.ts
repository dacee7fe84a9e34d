// Large host files under reuseBuffers are read by positional reads into two reused buffers
// (source-readers.ts HostFileReader) instead of a read stream. Same bytes as the stream path,
// including a file whose data runs are split by a block group's metadata; the same one-line errors
// for files that changed since planning; no descriptor left open when the consumer stops early.
import t from 'tap';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { FileTree } from '../src/tree.js';
import { emitExt4Chunks, planExt4, type Ext4Layout } from '../src/ext4/index.js';
import { tempDir } from './helpers/ext4-readback.js';
import { seededRandom } from './helpers/random-tree.js';

/** SHA-256 of the image (zero runs expanded), consuming each chunk before pulling the next. */
async function digest(layout: Ext4Layout, reuseBuffers: boolean, image?: string): Promise<string> {
  const h = createHash('sha256');
  const zeros = new Uint8Array(1 << 20);
  const fd = image ? openSync(image, 'w') : -1;
  for await (const c of emitExt4Chunks(layout, { reuseBuffers })) {
    if (c.bytes) {
      h.update(c.bytes);
      if (fd >= 0) writeSync(fd, c.bytes, 0, c.bytes.length, c.offset);
      continue;
    }
    for (let left = c.zero; left > 0; left -= zeros.length) h.update(zeros.subarray(0, Math.min(left, zeros.length)));
  }
  if (fd >= 0) { truncateSync(image!, layout.size); closeSync(fd); }
  return h.digest('hex');
}

const openFds = (): number => readdirSync('/proc/self/fd').length;

t.test('positional reads give the stream path\'s bytes, across a block group boundary', async (t) => {
  const dir = await tempDir('ext4-host-reads-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = seededRandom(11);
  const tree = new FileTree({ mtime: 1_700_000_000 });
  for (const [i, size] of [(128 << 10) + 1, 1 << 20, (1 << 20) + 4097, 3 << 20].entries()) {
    const src = join(dir, `f${i}`);
    writeFileSync(src, r.bytes(size));
    tree.hostFile(`data/f${i}`, src, size);
  }
  // 140 MiB apparent, data at both ends and around 128 MiB: its blocks run past the first group's
  // end, where group 1's backup superblock and GDT split them into two runs.
  const big = join(dir, 'big');
  const fd = openSync(big, 'w');
  for (const at of [0, (128 << 20) - 3000, (140 << 20) - 5000]) writeSync(fd, r.bytes(5000), 0, 5000, at);
  closeSync(fd);
  truncateSync(big, 140 << 20);
  tree.hostFile('data/big', big, 140 << 20);
  const layout = planExt4(tree, { epoch: 0 });
  const runs = Array.from({ length: layout.data.length }, (_, i) => i).filter((i) => layout.data.entry(i).path === 'data/big');
  t.ok(runs.length >= 2, `data/big lies in ${runs.length} runs`);

  const before = openFds();
  const image = join(dir, 'img');
  const reused = await digest(layout, true, image);
  t.equal(reused, await digest(layout, false), 'same image bytes with reused read buffers as with a read stream');
  t.equal(openFds(), before, 'every source descriptor closed');
  const fsck = execFileSync('e2fsck', ['-fn', image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  t.match(fsck, /clean|files/, 'e2fsck -fn passes');
  const back = execFileSync('debugfs', ['-R', 'cat /data/big', image], { maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
  t.ok(back.equals(execFileSync('cat', [big], { maxBuffer: 256 << 20 })), 'debugfs reads data/big back byte for byte');
});

t.test('a source that changed since planning: one-line E_EXT4_SOURCE; early stop closes sources', async (t) => {
  const dir = await tempDir('ext4-host-reads-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const plan = (size: number): { layout: Ext4Layout; src: string } => {
    const src = join(dir, `s${size}`);
    writeFileSync(src, Buffer.alloc(size, 7));
    const tree = new FileTree();
    tree.hostFile('opt/app.jar', src, size);
    return { layout: planExt4(tree, { epoch: 0 }), src };
  };
  const before = openFds();

  const grown = plan(2 << 20);
  writeFileSync(grown.src, Buffer.alloc((2 << 20) + 1, 7));
  await t.rejects(digest(grown.layout, true), { code: 'E_EXT4_SOURCE', message: /^opt\/app\.jar: source is longer than its declared 2097152 bytes; did it change during the build\?$/ });

  const shrunk = plan(3 << 20);
  truncateSync(shrunk.src, (3 << 20) - 10);
  await t.rejects(digest(shrunk.layout, true), { code: 'E_EXT4_SOURCE', message: /^opt\/app\.jar: source ended after 3145718 of 3145728 bytes; did it change during the build\?$/ });

  const gone = plan(1 << 20);
  rmSync(gone.src);
  await t.rejects(digest(gone.layout, true), { code: 'E_EXT4_SOURCE', message: /^opt\/app\.jar: cannot read source .* \(ENOENT\)$/ });

  // A consumer that stops in the middle of a file (its generator is returned early).
  const stopped = plan(4 << 20);
  let seen = 0;
  for await (const c of emitExt4Chunks(stopped.layout, { reuseBuffers: true })) {
    if (c.bytes && c.bytes.length >= 1 << 20 && ++seen === 2) break;
  }
  t.equal(seen, 2, 'stopped inside the file');
  t.equal(openFds(), before, 'no descriptor left open by failed or stopped emits');
});
