import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectJar } from '../src/app/jar.js';
import { ManifestError, ZipFormatError } from '../src/app/errors.js';
import { getHeader, parseManifest } from '../src/app/manifest.js';
import { ZipReader } from '../src/app/zip.js';
import { classBytes, makeZip, type ZipInput, type ZipOptions } from './app-fixtures.js';

const dir = await mkdtemp(join(tmpdir(), 'mkimage-jar-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
let n = 0;
async function jar(files: ZipInput[], opts: ZipOptions = {}): Promise<string> {
  const p = join(dir, `app${n++}.jar`);
  await writeFile(p, makeZip(files, opts));
  return p;
}
const MF = 'META-INF/MANIFEST.MF';

t.test('fixtures are valid ZIPs to Info-ZIP unzip (the independent reader)', async (t) => {
  for (const opts of [{}, { zip64: true }, { prefix: '#!/bin/sh\nexec java -jar "$0"\n' }, { comment: 'PK\x05\x06 in a comment' }]) {
    const p = await jar([{ name: MF, data: 'Manifest-Version: 1.0\nMain-Class: a.B\n' }, { name: 'a/B.class', data: classBytes(61), method: 'stored' }], opts);
    // unzip exits 1 (a warning: "extra bytes at beginning") for a prefixed archive, 0 otherwise.
    const test = spawnSync('unzip', ['-tq', p], { encoding: 'utf8' });
    t.equal(test.status, 'prefix' in opts ? 1 : 0, `unzip -t ${JSON.stringify(opts)}: ${test.stdout}${test.stderr}`);
    t.match(test.stdout, /No errors detected/);
    t.equal(spawnSync('unzip', ['-p', p, MF], { encoding: 'utf8' }).stdout, 'Manifest-Version: 1.0\nMain-Class: a.B\n');
    const info = await inspectJar(p);
    t.equal(info.mainClass, 'a.B', JSON.stringify(opts));
    t.equal(info.entries, 2);
    t.equal(info.zip64, !!(opts as ZipOptions).zip64);
  }
});

t.test('a runnable JAR: Main-Class, Class-Path, class versions', async (t) => {
  const p = await jar([
    { name: 'META-INF/', data: '', method: 'stored' },
    { name: MF, data: 'Manifest-Version: 1.0\r\nMain-Class: com.example.Main\r\nClass-Path: lib/a.jar  lib/b.jar\r\nCreated-By: 17 (test)\r\n\r\n' },
    { name: 'com/example/Main.class', data: classBytes(55) },
    { name: 'com/example/Util.class', data: classBytes(61, 5000) },
    { name: 'com/example/Old.class', data: classBytes(52), method: 'stored' },
    { name: 'META-INF/versions/21/com/example/Util.class', data: classBytes(65) },
    { name: 'not-a-class.class', data: 'garbage' },
    { name: 'data.txt', data: 'x'.repeat(100000) },
  ]);
  const info = await inspectJar(p);
  t.equal(info.mainClass, 'com.example.Main');
  t.same(info.classPath, ['lib/a.jar', 'lib/b.jar']);
  t.equal(info.multiRelease, false);
  t.equal(info.entries, 8);
  t.equal(info.classMajor, 61, 'the newest base class; versioned entries do not count');
  t.equal(info.javaRelease, 17);
  t.equal(info.classFilesRead, 4);
  t.equal(info.attributes['Created-By'], '17 (test)');
});

t.test('multi-release JAR; class sampling is bounded', async (t) => {
  const classes = Array.from({ length: 300 }, (_, i) => ({ name: `p/C${String(i).padStart(3, '0')}.class`, data: classBytes(i === 299 ? 65 : 52) }));
  const p = await jar([{ name: MF, data: 'Manifest-Version: 1.0\nMain-Class: p.C000\nMulti-Release: TRUE\n' }, ...classes]);
  const all = await inspectJar(p);
  t.equal(all.multiRelease, true);
  t.equal(all.javaRelease, 21);
  t.equal(all.classFilesRead, 300);
  const some = await inspectJar(p, { maxClassFiles: 10 });
  t.equal(some.classFilesRead, 10);
  t.equal(some.javaRelease, 8, 'a sample may miss the odd class out, by design');
});

t.test('manifest continuation lines (72-byte wrap, split inside a UTF-8 character), CR and CRLF', async (t) => {
  const longClass = 'com.example.' + 'very'.repeat(20) + '.Main';
  const value = Buffer.from(`Main-Class: ${longClass}`);
  const wrapped: Buffer[] = [value.subarray(0, 72)];
  for (let i = 72; i < value.length; i += 71) wrapped.push(Buffer.concat([Buffer.from(' '), value.subarray(i, i + 71)]));
  const title = Buffer.from('Implementation-Title: caf\u00e9 \u2603 snowman');
  const cut = title.indexOf(0xe2) + 1; // split the 3-byte snowman after its first byte
  const mf = Buffer.concat([
    Buffer.from('Manifest-Version: 1.0\n'), ...wrapped.flatMap((l) => [l, Buffer.from('\n')]),
    title.subarray(0, cut), Buffer.from('\r\n '), title.subarray(cut), Buffer.from('\r'),
    Buffer.from('X-Cr-Only: 1\r\rName: a/B.class\nSHA-256-Digest: abc\n'),
  ]);
  t.ok(wrapped.every((l) => l.length <= 72), 'the fixture wraps at 72 bytes like the jar tool');
  const info = await inspectJar(await jar([{ name: MF, data: mf }]));
  t.equal(info.mainClass, longClass);
  t.equal(info.attributes['Implementation-Title'], 'caf\u00e9 \u2603 snowman');
  t.equal(info.attributes['X-Cr-Only'], '1');
  t.equal(info.manifest!.sections.length, 1);
  t.equal(info.manifest!.sections[0]!.name, 'a/B.class');
  t.equal(getHeader(info.manifest!.sections[0]!, 'sha-256-digest'), 'abc', 'names are case-insensitive');
});

t.test('manifest syntax errors name the line, as java would refuse them', async (t) => {
  const bad: [string, string, RegExp][] = [
    ['continuation first', ' oops\nMain-Class: A\n', /line 1: continuation line/],
    ['no colon', 'Manifest-Version: 1.0\nMain-Class A\n', /line 2: expected "Name: value"/],
    ['no space', 'Main-Class:A\n', /line 1: .*": "/],
    ['bad name', 'Main Class: A\n', /line 1: invalid character/],
    ['long line', `X-Long: ${'a'.repeat(600)}\nMain-Class: A\n`, /line 1: line is longer than 512 bytes/],
    ['section without Name', 'Main-Class: A\n\nFoo: bar\n', /line 3: a section must start with "Name:"/],
  ];
  for (const [name, mf, re] of bad) {
    const p = await jar([{ name: MF, data: mf }]);
    const err = await inspectJar(p).catch((e: unknown) => e);
    t.type(err, ManifestError, name);
    t.match((err as Error).message, re, name);
    t.equal((err as ManifestError).code, 'E_MANIFEST');
  }
  // The corrected forms parse.
  t.equal(getHeader(parseManifest(Buffer.from('Main-Class: A\n\n\nName: x\nFoo: bar\n')).main, 'main-class'), 'A');
  // An unterminated last line is ignored, as java ignores it.
  const m = parseManifest(Buffer.from('Manifest-Version: 1.0\nMain-Class: A'));
  t.equal(getHeader(m.main, 'Main-Class'), undefined);
  t.equal(m.ignoredLastLine, 'Main-Class: A');
});

t.test('zip64 archives, prefixed archives and comments', async (t) => {
  const files = [{ name: MF, data: 'Main-Class: z.Z\n' }, { name: 'z/Z.class', data: classBytes(61) }];
  const z64 = await inspectJar(await jar(files, { zip64: true, prefix: '#!/bin/sh\n', comment: 'hi' }));
  t.equal(z64.zip64, true);
  t.equal(z64.mainClass, 'z.Z');
  t.equal(z64.javaRelease, 17);
  const zr = await ZipReader.open(await jar(files, { prefix: 'x'.repeat(1000) }));
  t.equal(zr.directory.prefixBytes, 1000);
  t.equal((await zr.read(zr.entries[0]!, 1024)).toString(), 'Main-Class: z.Z\n');
  await zr.close();
});

t.test('not a ZIP, truncated or corrupted archives: ZipFormatError', async (t) => {
  const good = makeZip([{ name: MF, data: 'Main-Class: a.B\n' }, { name: 'a/B.class', data: classBytes(61) }]);
  await t.resolves(inspectJar(await jar([{ name: MF, data: 'Main-Class: a.B\n' }])));
  const corrupt = async (name: string, bytes: Buffer, re: RegExp) => {
    const p = join(dir, `${name.replace(/\W+/g, '-')}.jar`);
    await writeFile(p, bytes);
    const err = await inspectJar(p).catch((e: unknown) => e);
    t.type(err, ZipFormatError, name);
    t.match((err as Error).message, re, name);
    t.equal((err as ZipFormatError).code, 'E_ZIP_FORMAT');
    t.notOk((err as Error).message.includes('\n'));
  };
  await corrupt('text file', Buffer.from('hello world\n'), /no end of central directory record/);
  await corrupt('empty file', Buffer.alloc(0), /no end of central directory record/);
  await corrupt('cut in half', good.subarray(0, good.length >> 1), /no end of central directory record/);
  const badCrc = Buffer.from(good);
  badCrc[30 + MF.length + 2] ^= 0xff; // flip a byte of the deflated manifest
  await corrupt('manifest bytes flipped', badCrc, /META-INF\/MANIFEST.MF: .*(CRC-32|deflate|bytes after inflating)/);
  const badCd = Buffer.from(good);
  badCd.writeUInt32LE(0x12345678, good.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])));
  await corrupt('central directory signature', badCd, /central directory entry 0 has no signature/);
  const badLocal = Buffer.from(good);
  badLocal.writeUInt32LE(0, 0);
  await corrupt('local header signature', badLocal, /no local header signature/);
});
