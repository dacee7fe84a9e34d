// Contents-<arch> parsing: current and old layouts, paths with spaces, chunk boundaries, the soname
// index, and malformed lines.
import { gzipSync } from 'node:zlib';
import t from 'tap';
import { decompressStream } from '../src/compress/index.js';
import { libraryIndex, parseContents } from '../src/contents/index.js';

const CURRENT = [
  'bin/bash                                                shells/bash',
  'lib/x86_64-linux-gnu/libc.so.6                          libs/libc6',
  'lib64/ld-linux-x86-64.so.2                              libs/libc6',
  'usr/lib/x86_64-linux-gnu/libz.so.1                      libs/zlib1g',
  'usr/lib/x86_64-linux-gnu/libz.so.1.2.13                 libs/zlib1g',
  'usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so  java/openjdk-17-jre-headless',
  'usr/lib32/libc.so.6                                     libs/libc6-i386',
  'usr/lib/i386-linux-gnu/libz.so.1                        libs/zlib1g-i386',
  'usr/share/doc/zlib1g/changelog.Debian.gz                libs/zlib1g',
  'usr/lib/x86_64-linux-gnu/libdup.so.3                    libs/liba,non-free/libs/libb',
  'usr/share/fonts/My Font.ttf                             fonts/fonts-my',
  'usr/lib/python3/dist-packages/foo.sort                  python/python3-foo',
].join('\n') + '\n';

async function* chunked(s: string | Buffer, size: number) {
  const b = Buffer.from(s);
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

t.test('parseContents: every line, any chunking', async (t) => {
  for (const size of [1, 7, 4096]) {
    const m = await parseContents(chunked(CURRENT, size));
    t.equal(m.size, 12, `chunks of ${size}`);
    t.same(m.get('bin/bash'), ['bash']);
    t.same(m.get('usr/share/fonts/My Font.ttf'), ['fonts-my'], 'a path with a space');
    t.same(m.get('usr/lib/x86_64-linux-gnu/libdup.so.3'), ['liba', 'libb'], 'several packages, section stripped');
  }
  const filtered = await parseContents(chunked(CURRENT, 64), (p) => p.startsWith('usr/share/'));
  t.same([...filtered.keys()], ['usr/share/doc/zlib1g/changelog.Debian.gz', 'usr/share/fonts/My Font.ttf'], 'filter keeps only matches');
});

t.test('old layout with a free-text preamble and FILE LOCATION header', async (t) => {
  const old = 'This file maps each file available in the Debian\nsystem to the package from which it originates.\n\nFILE                                                    LOCATION\n' + CURRENT;
  const m = await parseContents(chunked(old, 100));
  t.equal(m.size, 12, 'preamble dropped');
  t.notOk([...m.keys()].some((k) => k.startsWith('This file')));
});

t.test('libraryIndex: sonames in lib dirs only', async (t) => {
  const gz = gzipSync(CURRENT);
  const idx = await libraryIndex(decompressStream('gz', chunked(gz, 50)));
  t.same(Object.fromEntries(idx), {
    'libc.so.6': ['libc6'],
    'ld-linux-x86-64.so.2': ['libc6'],
    'libz.so.1': ['zlib1g'],
    'libz.so.1.2.13': ['zlib1g'],
    'libjvm.so': ['openjdk-17-jre-headless'],
    'libdup.so.3': ['liba', 'libb'],
  });
});

t.test('malformed line is a one-line error with its number', async (t) => {
  const bad = CURRENT + 'no-location-column\n';
  await t.rejects(parseContents(chunked(bad, 4096), undefined, { what: 'Contents-amd64.gz' }), {
    code: 'E_CONTENTS_FORMAT',
    message: /^Contents-amd64\.gz line 13: expected "<path> <section\/package,...>"/,
  });
});
