// Property test: 60 seeded random trees (every entry type, odd names, extreme times...) written as
// newc and read back by GNU cpio and cpio-stream; every 6th one is also extracted with `cpio -idm`.
// A failing subtest is named by its seed: reproduce with randomTree(seed).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpioStream, planCpio } from '../src/cpio/index.js';
import { randomTree } from './helpers/random-tree.js';
import { asciiView, collect, expectedEntries, listWithGnuCpio, permString, readWithCpioStream, sha } from './helpers/cpio-tools.js';

const SEEDS = Array.from({ length: 60 }, (_, i) => 1000 + i);
const tmp = mkdtempSync(join(tmpdir(), 'cpio-prop-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

for (const seed of SEEDS) {
  t.test(`seed ${seed}`, async (t) => {
    const tree = randomTree(seed, { count: 30 });
    const bytes = await collect(cpioStream(tree, { bufferSize: 4096 + (seed % 7) * 1000 }));
    t.equal(bytes.length, planCpio(tree).size, 'length as planned');
    t.equal(bytes.length % 4, 0);
    const want = await expectedEntries(tree);

    const got = await readWithCpioStream(bytes);
    t.same(got.map(({ ino: _ino, ...e }) => e), want.map((e) => ({ ...e, name: asciiView(e.name) })), 'cpio-stream sees the tree');
    const inos = got.map((e) => e.ino);
    t.equal(inos[0], 1, 'inodes start at 1');

    const gnu = listWithGnuCpio(bytes);
    t.same(gnu.map((e) => e.name), want.map((e) => e.name), 'GNU cpio: names');
    t.same(gnu.map((e) => e.perms), want.map((e) => permString(e.mode)), 'GNU cpio: modes');
    t.same(gnu.map((e) => e.rdev ?? e.size), want.map((e) => e.rdev ?? e.size), 'GNU cpio: sizes and device numbers');
    t.same(gnu.map((e) => [e.uid, e.gid, e.nlink]), want.map((e) => [e.uid, e.gid, e.nlink]), 'GNU cpio: owners and link counts');
    t.same(gnu.filter((e) => e.target !== undefined).map((e) => e.target), want.filter((e) => e.target !== undefined).map((e) => e.target), 'GNU cpio: symlink targets');

    if (seed % 6 === 0) {
      const dir = mkdtempSync(join(tmp, `s${seed}-`));
      const r = spawnSync('cpio', ['-idm', '--quiet', '--no-absolute-filenames'], { cwd: dir, input: bytes });
      t.equal(r.status, 0, r.stderr.toString());
      const byName = new Map(want.map((e) => [e.name, e]));
      for (const e of tree.entries()) {
        if (e.path === '') continue;
        const st = lstatSync(join(dir, e.path));
        const w = byName.get(e.path)!;
        if (e.type === 'file' || e.type === 'hardlink') {
          const data = readFileSync(join(dir, e.path));
          const first = want.find((x) => x.sha256 && x.size > 0 && (x.name === e.path || x.name === (e.type === 'hardlink' ? e.target : e.path)));
          const size = e.type === 'file' ? e.size : (tree.get(e.target) as { size: number }).size;
          t.equal(data.length, size, `${e.path}: size`);
          if (first) t.equal(sha(data), first.sha256, `${e.path}: data`);
          t.equal(st.mode & 0o7777, w.mode & 0o7777, `${e.path}: mode`);
          t.equal(Math.floor(st.mtimeMs / 1000), w.mtime, `${e.path}: mtime`);
        } else if (e.type === 'symlink') {
          t.equal(readlinkSync(join(dir, e.path)), e.target);
        } else if (e.type === 'char' || e.type === 'block') {
          t.equal(st.isCharacterDevice(), e.type === 'char');
          t.equal(st.isBlockDevice(), e.type === 'block');
        }
        t.equal(st.uid, w.uid, `${e.path}: uid`);
      }
      for (const [target, names] of tree.hardlinkGroups()) {
        t.equal(new Set(names.map((n) => lstatSync(join(dir, n)).ino)).size, 1, `${target}: hard-link group is one inode after cpio -i`);
      }
    }
  });
}
