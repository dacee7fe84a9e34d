// The Packages parser and the compact cached form: what goes in comes back out, lazily.
import { Readable } from 'node:stream';
import t from 'tap';
import { COMPACT_VERSION, CompactIndex, encodeCompact } from '../src/compact-index.js';
import { parsePackages } from '../src/packages-index.js';
import { defaultCacheDir } from '../src/cache.js';
import { ttyProgress } from '../src/progress.js';

const PACKAGES = `Package: libc6
Version: 2.36-9+deb12u1
Architecture: amd64
Depends: libgcc-s1
Description: GNU C Library
 multi-line description: with colons
 .
Filename: pool/updates/main/g/glibc/libc6_2.36-9+deb12u1_amd64.deb
Size: 2757936
SHA256: ${'a'.repeat(64)}

Package: mawk
Version: 1.3.4.20200120-3.1
Architecture: amd64
Pre-Depends: libc6 (>= 2.34)
Provides: awk
Filename: pool/main/m/mawk/mawk_1.3.4.20200120-3.1_amd64.deb
Size: 119600
SHA256: ${'b'.repeat(64)}

Package: armel-only
Version: 1
Architecture: armel
Filename: pool/main/a/x.deb
Size: 1
SHA256: ${'c'.repeat(64)}

Package: no-hash
Version: 1
Architecture: all
Filename: pool/main/n/no-hash.deb
Size: 1

Package: java-ish
Version: 17
Architecture: all
Provides: java-runtime (= 17), java17-runtime
Filename: pool/main/j/java-ish_17_all.deb
Size: 5
SHA256: ${'d'.repeat(64)}
`;

t.test('parsePackages keeps usable amd64/all records with every download field; chunk boundaries do not matter', async (t) => {
  const whole = await parsePackages(Readable.from([Buffer.from(PACKAGES)]));
  t.same(whole.map((r) => r.name), ['libc6', 'mawk', 'java-ish']);
  t.same(whole[0], {
    name: 'libc6',
    version: '2.36-9+deb12u1',
    arch: 'amd64',
    depends: 'libgcc-s1',
    filename: 'pool/updates/main/g/glibc/libc6_2.36-9+deb12u1_amd64.deb',
    size: 2757936,
    sha256: 'a'.repeat(64),
  });
  const bytes = Buffer.from(PACKAGES);
  const tiny = await parsePackages(Readable.from(Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1))));
  t.same(tiny, whole);
});

t.test('compact form round-trips and answers by name and by provided name', async (t) => {
  const records = await parsePackages(Readable.from([PACKAGES]));
  const sha = 'e'.repeat(64);
  const text = encodeCompact(records, sha);
  const idx = CompactIndex.load(text, sha)!;
  t.equal(idx.size, 3);
  for (const r of records) t.same(idx.byName(r.name), [r]);
  t.same(idx.byName('nope'), []);
  t.same(idx.providers('awk').map((p) => [p.record.name, p.version]), [['mawk', undefined]]);
  t.same(idx.providers('java-runtime').map((p) => [p.record.name, p.version]), [['java-ish', '17']]);
  t.equal(idx.byName('mawk')[0], idx.providers('awk')[0]!.record, 'one decoded object per record');
  t.equal(CompactIndex.load(text, 'f'.repeat(64)), undefined, 'keyed by the index SHA256');
  t.equal(CompactIndex.load(text.replace(`"version":${COMPACT_VERSION}`, `"version":${COMPACT_VERSION - 1}`), sha), undefined, 'old format versions ignored');
  t.equal(CompactIndex.load('garbage', sha), undefined);
  t.equal(CompactIndex.load(Buffer.from('garbage'), sha), undefined);
  t.equal(CompactIndex.load(Buffer.from(text), sha)!.byName('mawk')[0]!.name, 'mawk', 'ASCII bytes load');
  const accented = text.replace('all\tpool/main/j/java-ish', 'all\tpool/main/j/jåva-ish');
  t.not(accented, text, 'the fixture has a field to alter');
  t.equal(CompactIndex.load(Buffer.from(accented), sha), undefined, 'non-ASCII bytes are refused (offsets would differ); decode them first');
  t.equal(CompactIndex.load(accented, sha)!.byName('java-ish')[0]!.filename, 'pool/main/j/jåva-ish_17_all.deb', 'the decoded text loads');
});

t.test('defaultCacheDir follows XDG_CACHE_HOME', async (t) => {
  t.equal(defaultCacheDir({ XDG_CACHE_HOME: '/x/cache' }), '/x/cache/mkimage');
  t.match(defaultCacheDir({}), /\/\.cache\/mkimage$/);
  t.match(defaultCacheDir({ XDG_CACHE_HOME: 'relative' }), /\/\.cache\/mkimage$/, 'relative XDG paths are ignored, as the spec says');
});

t.test('progress draws only on a TTY', async (t) => {
  t.equal(ttyProgress({ isTTY: false } as NodeJS.WriteStream), undefined);
  let out = '';
  const p = ttyProgress({ isTTY: true, columns: 60, write: (s: string) => ((out += s), true) } as unknown as NodeJS.WriteStream)!;
  p({ url: 'http://m/pool/a%2Bb.deb', received: 1048576, total: 2097152, done: false });
  t.match(out, /^\rfetching a\+b\.deb 1\.0\/2\.0 MiB/);
});

t.test('binary search finds every name (duplicates, prefixes, absent names) in a seeded random index', async (t) => {
  let seed = 777;
  const rnd = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) >>> 16) % n;
  const alphabet = 'ab-+.0';
  const names = new Set<string>(['a', 'ab', 'ab-c', 'b']);
  for (let tries = 0; names.size < 400 && tries < 100000; tries++) {
    let n = 'abz'[rnd(3)]!;
    for (let i = rnd(6); i > 0; i--) n += alphabet[rnd(alphabet.length)];
    names.add(n);
  }
  const records = [...names].flatMap((name) =>
    Array.from({ length: 1 + rnd(3) }, (_, v) => ({ name, version: `${v + 1}.0`, arch: 'amd64', filename: `pool/${name}_${v}.deb`, size: v + 1, sha256: '0'.repeat(64), ...(rnd(5) === 0 ? { provides: `virt-${rnd(4)}` } : {}) })),
  );
  const text = encodeCompact(records, 'sha');
  const idx = CompactIndex.load(text, 'sha')!;
  t.equal(idx.size, records.length);
  // The same index over its bytes (as a warm run reads it from the cache) answers the same.
  const fromBytes = CompactIndex.load(Buffer.from(text), 'sha')!;
  let differ = 0;
  for (const name of [...names, 'c', 'virt-0', 'virt-3']) {
    if (JSON.stringify(fromBytes.byName(name)) !== JSON.stringify(idx.byName(name))) differ++;
    if (JSON.stringify(fromBytes.providers(name)) !== JSON.stringify(idx.providers(name))) differ++;
  }
  t.equal(differ, 0, 'bytes and string answer alike');
  let wrong = 0;
  for (const name of names) if (JSON.stringify(idx.byName(name)) !== JSON.stringify(records.filter((r) => r.name === name))) wrong++;
  t.equal(wrong, 0, `all ${names.size} names found with all their versions (seed 777)`);
  for (const absent of ['', '0', 'c', 'a~', 'ab-c~', 'zzzzzzz', '~'].filter((n) => !names.has(n))) t.same(idx.byName(absent), [], `absent ${JSON.stringify(absent)}`);
  for (let v = 0; v < 4; v++) {
    t.same(idx.providers(`virt-${v}`).map((p) => p.record.name).sort(), records.filter((r) => r.provides === `virt-${v}`).map((r) => r.name).sort());
  }
  // Providers come back in record order (name order, then index order), as resolution expects.
  const byNameOrder = [...records].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let v = 0; v < 4; v++) {
    t.same(idx.providers(`virt-${v}`).map((p) => p.record.filename), byNameOrder.filter((r) => r.provides === `virt-${v}`).map((r) => r.filename), `virt-${v} in record order`);
  }
  t.same(idx.providers('virt-'), [], 'a prefix of a provided name is not that name');
});
