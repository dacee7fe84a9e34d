// Bad inputs to `mkimage <app> -o <out>` that are caught before anything is fetched: each gets one
// line on stderr naming the thing, a non-zero exit, and nothing at the output path.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeElf, makeZip } from './app-fixtures.js';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bundle', 'mkimage.js');
const dir = mkdtempSync(join(tmpdir(), 'mkimage-bad-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function mkimage(args: string[]): { status: number | null; stderr: string; stdout: string } {
  // No mirror anywhere: these must fail before the archive is opened.
  const r = spawnSync(process.execPath, [main, ...args], {
    encoding: 'utf8', env: { PATH: process.env.PATH, HOME: dir, XDG_CACHE_HOME: join(dir, 'cache'), MKIMAGE_DEBIAN_MIRROR: 'file:///nonexistent' },
  });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

function expectOneLineError(t: Test, r: ReturnType<typeof mkimage>, pattern: RegExp, out: string): void {
  t.equal(r.status, 1, 'exit status 1');
  const lines = r.stderr.trimEnd().split('\n');
  t.equal(lines.length, 1, `one line: ${r.stderr}`);
  t.match(lines[0], /^mkimage: /);
  t.match(lines[0], pattern);
  t.notOk(existsSync(out), 'nothing at the output path');
}

const good = join(dir, 'good.jar');
writeFileSync(good, makeZip([{ name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\r\nMain-Class: a.B\r\n' }]));

t.test('missing app file', async (t) => {
  const out = join(dir, 'out1');
  expectOneLineError(t, mkimage([join(dir, 'nope.jar'), '-o', out]), /nope\.jar/, out);
});

t.test('a JAR without Main-Class', async (t) => {
  const jar = join(dir, 'lib.jar');
  writeFileSync(jar, makeZip([{ name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\r\n' }, { name: 'a/B.class', data: 'x' }]));
  const out = join(dir, 'out2');
  expectOneLineError(t, mkimage([jar, '-o', out]), /Main-Class/, out);
});

t.test('an ELF for another machine', async (t) => {
  const elf = join(dir, 'arm-app');
  writeFileSync(elf, makeElf({ machine: 183, type: 2 }), { mode: 0o755 }); // EM_AARCH64
  const out = join(dir, 'out3');
  expectOneLineError(t, mkimage([elf, '-o', out]), /aarch64|AArch64/i, out);
});

t.test('neither a JAR nor an ELF', async (t) => {
  const txt = join(dir, 'notes.txt');
  writeFileSync(txt, 'hello');
  const out = join(dir, 'out4');
  expectOneLineError(t, mkimage([txt, '-o', out]), /JAR|ELF/, out);
});

t.test('an output that cannot be written (its parent is a file)', async (t) => {
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  const out = join(file, 'out');
  expectOneLineError(t, mkimage([good, '-o', out]), /a-file.*not writable/, out);
});

t.test('a bad --env name', async (t) => {
  const out = join(dir, 'out6');
  const r = mkimage([good, '-o', out, '-e', '1BAD=x']);
  t.not(r.status, 0);
  t.match(r.stderr, /1BAD/);
  t.notOk(existsSync(out));
});

t.test('--help answers', async (t) => {
  const r = mkimage(['--help']);
  t.equal(r.status, 0);
  for (const flag of ['--output', '--format', '--env', '--java-opts', '--suite', '--kernel', '--modules', '--user', '--compress', '--mirror', '--offline']) {
    t.match(r.stdout, flag);
  }
  const v = mkimage(['--version']);
  const pkg = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'package.json'), 'utf8')) as { version: string };
  t.equal(v.stdout.trim(), pkg.version, '--version prints the package version');
});
