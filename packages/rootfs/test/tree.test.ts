// The FileTree model's ordering and time setters (the writers' tests cover the rest through it).
import t from 'tap';
import { FileTree, comparePaths } from '../src/tree.js';
import { seededRandom } from './helpers/random-tree.js';

const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

t.test('comparePaths is UTF-8 byte order, surrogate pairs and U+E000..U+FFFF included', async (t) => {
  // The in-place comparison must fall back to bytes wherever UTF-16 order differs from UTF-8 order:
  // an emoji (surrogate pair, 4 UTF-8 bytes starting F0) sorts after U+FFFF (EF BF BF) in UTF-8,
  // before it in UTF-16.
  t.ok(comparePaths('a\u{1f600}', 'a\uffff') > 0, 'U+1F600 after U+FFFF');
  t.ok(comparePaths('a\ue000', 'a\ud7ff') > 0, 'U+E000 after U+D7FF');
  t.ok(comparePaths('a.b', 'a/x') < 0, '"." before "/"');
  t.ok(comparePaths('a', 'a/x') < 0, 'a prefix first');
  t.equal(comparePaths('x/y', 'x/y'), 0);
  const pool = ['a', 'b', '/', '.', 'z', '\u00e9', '\u0080', '\u65e5', '\u{1f600}', '\u{10000}', '\uffff', '\ue000', '\ud7ff', '0'];
  const rng = seededRandom(7);
  const word = (): string => Array.from({ length: rng.int(0, 5) }, () => rng.pick(pool)).join('');
  let wrong = 0;
  for (let i = 0; i < 20_000; i++) {
    const a = word();
    const b = word();
    if (Math.sign(comparePaths(a, b)) !== Math.sign(byBytes(a, b))) wrong++;
  }
  t.equal(wrong, 0, 'agrees with Buffer.compare on 20,000 random pairs');
  const names = Array.from({ length: 2000 }, word);
  t.same([...names].sort(comparePaths), [...names].sort(byBytes), 'sorts as Buffer.compare does');
});

t.test('clampTimes and setTimes change the tree, not objects the caller passed in', async (t) => {
  const tree = new FileTree();
  const given = { path: 'f', type: 'file' as const, mode: 0o644, uid: 0, gid: 0, mtime: 500, mtimeNsec: 7, size: 0, data: { kind: 'bytes' as const, bytes: new Uint8Array(0) } };
  tree.add(given);
  tree.file('old', 'x', { mtime: 50, mtimeNsec: 9 });
  const sorted = tree.entries();
  tree.clampTimes(100);
  t.same([tree.get('f')!.mtime, tree.get('f')!.mtimeNsec], [100, 0], 'later time clamped, ns dropped');
  t.same([tree.get('old')!.mtime, tree.get('old')!.mtimeNsec], [50, 0], 'earlier time kept, ns dropped');
  t.same([given.mtime, given.mtimeNsec], [500, 7], 'the object passed to add() is untouched');
  t.equal(tree.entries(), sorted, 'paths unchanged: the sorted list stays valid');
  t.equal(tree.entries().find((e) => e.path === 'f')!.mtime, 100, 'the sorted list sees the new times');
  tree.setTimes(42);
  t.same(tree.entries().map((e) => [e.mtime, e.mtimeNsec]), tree.entries().map(() => [42, 0]), 'setTimes: every entry');
});

t.test('normalizeModes changes modes below the prefix only, in the sorted list too', async (t) => {
  const tree = new FileTree();
  tree.file('jre/bin/java', 'x', { mode: 0o4750 });
  tree.file('jre/lib/a.so', 'x', { mode: 0o600 });
  tree.file('other', 'x', { mode: 0o600 });
  tree.symlink('jre/link', 'bin/java');
  const sorted = tree.entries();
  tree.normalizeModes('jre');
  const modes = Object.fromEntries(tree.entries().map((e) => [e.path, e.mode]));
  t.equal(tree.entries(), sorted, 'same sorted list');
  t.same([modes['jre/bin/java'], modes['jre/lib/a.so'], modes['other'], modes['jre/link']], [0o755, 0o644, 0o600, 0o777]);
});

t.test('addImported stores the entry and refuses to replace a directory', async (t) => {
  const tree = new FileTree();
  tree.mkdirp('d');
  const e = { path: 'd/f', type: 'file' as const, mode: 0o644, uid: 1, gid: 2, mtime: 3, mtimeNsec: 4, size: 1, data: { kind: 'file' as const, path: '/nonexistent' } };
  tree.addImported(e);
  t.equal(tree.get('d/f'), e, 'stored as given');
  t.same(tree.entries().map((x) => x.path), ['', 'd', 'd/f']);
  t.throws(() => tree.addImported({ ...e, path: 'd' }), { code: 'E_TREE', message: /^d: already a directory/ });
  t.throws(() => tree.addImported({ ...e, path: 'd/g', size: -1 }), { code: 'E_TREE', message: /invalid size -1/ });
});
