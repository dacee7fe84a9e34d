// Atomic outputs: complete at the destination or absent, never half-written.
import t from 'tap';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { atomicDirectory, writeAtomically } from '../src/output.js';

const tmp = mkdtempSync(join(tmpdir(), 'output-test-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

async function* chunks(parts: string[], failAfter?: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < parts.length; i++) {
    if (failAfter === i) throw Object.assign(new Error('source broke'), { code: 'E_TEST' });
    yield Buffer.from(parts[i]!);
  }
}

const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

t.test('writes, reports bytes + sha256, sets the final mode, leaves no temp file', async (t) => {
  const dir = mkdtempSync(join(tmp, 'a-'));
  const dest = join(dir, 'initrd.img');
  const r = await writeAtomically(dest, chunks(['hello ', 'world']));
  t.same(r, { bytes: 11, sha256: sha('hello world') });
  t.equal(readFileSync(dest, 'utf8'), 'hello world');
  t.equal(statSync(dest).mode & 0o777, 0o644);
  t.same(readdirSync(dir), ['initrd.img']);
  await writeAtomically(dest, Readable.from([Buffer.from('x')]), { mode: 0o600 });
  t.equal(readFileSync(dest, 'utf8'), 'x', 'replaces an existing file; a Readable works too');
  t.equal(statSync(dest).mode & 0o777, 0o600);
});

t.test('a failing source leaves nothing behind and keeps an existing dest', async (t) => {
  const dir = mkdtempSync(join(tmp, 'b-'));
  const fresh = join(dir, 'new.img');
  await t.rejects(writeAtomically(fresh, chunks(['a', 'b', 'c'], 2)), { code: 'E_TEST' }, 'the source error passes through');
  t.notOk(existsSync(fresh));
  const old = join(dir, 'old.img');
  writeFileSync(old, 'previous build');
  await t.rejects(writeAtomically(old, chunks(['a', 'b'], 1)), { code: 'E_TEST' });
  t.equal(readFileSync(old, 'utf8'), 'previous build', 'not clobbered');
  t.same(readdirSync(dir).sort(), ['old.img'], 'no temp files left');
});

t.test('unwritable destinations: one-line E_OUTPUT naming the path', async (t) => {
  const dir = mkdtempSync(join(tmp, 'c-'));
  writeFileSync(join(dir, 'file'), '');
  const cases: Array<[string, RegExp]> = [
    [join(dir, 'missing-dir', 'x.img'), /^cannot write .*missing-dir\/x\.img \(ENOENT\); create its directory first$/],
    [join(dir, 'file', 'x.img'), /^cannot write .*file\/x\.img \(ENOTDIR\); check the path$/],
    [dir, /^cannot write .*: it is a directory; name a file$/],
  ];
  for (const [dest, re] of cases) {
    await t.rejects(writeAtomically(dest, chunks(['data'])), { code: 'E_OUTPUT', message: re }, dest);
  }
  t.same(readdirSync(dir), ['file'], 'nothing created');
});

t.test("dest '-' streams to stdout", async (t) => {
  const seen: Buffer[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((c: Uint8Array) => { seen.push(Buffer.from(c)); return true; }) as typeof process.stdout.write;
  let r;
  try {
    r = await writeAtomically('-', chunks(['to ', 'stdout']));
  } finally {
    process.stdout.write = write;
  }
  t.equal(Buffer.concat(seen).toString(), 'to stdout');
  t.same(r, { bytes: 9, sha256: sha('to stdout') });
});

t.test('atomicDirectory: builds beside dest, renames, replaces only a previous output', async (t) => {
  const parent = mkdtempSync(join(tmp, 'd-'));
  const out = join(parent, 'out');
  const fill = (content: string) => async (d: string) => {
    writeFileSync(join(d, 'vmlinuz'), content);
    writeFileSync(join(d, 'initrd.img'), content);
    writeFileSync(join(d, 'cmdline'), content);
    return 'result';
  };
  t.equal(await atomicDirectory(out, fill('one')), 'result');
  t.equal(readFileSync(join(out, 'cmdline'), 'utf8'), 'one');
  t.equal(statSync(out).mode & 0o777, 0o755);
  await atomicDirectory(out, fill('two'));
  t.equal(readFileSync(join(out, 'vmlinuz'), 'utf8'), 'two', 'a previous build is replaced');
  t.same(readdirSync(parent), ['out'], 'no temp or old directories left');

  // A failing fill: temp dir removed, previous output intact.
  await t.rejects(atomicDirectory(out, async (d) => { writeFileSync(join(d, 'vmlinuz'), 'half'); throw Object.assign(new Error('kernel fetch failed'), { code: 'E_TEST' }); }), { code: 'E_TEST' });
  t.equal(readFileSync(join(out, 'vmlinuz'), 'utf8'), 'two');
  t.same(readdirSync(parent), ['out']);

  // A directory holding something else is never deleted.
  const home = join(parent, 'home');
  mkdirSync(home);
  writeFileSync(join(home, 'thesis.tex'), 'precious');
  await t.rejects(atomicDirectory(home, fill('x')), { code: 'E_OUTPUT', message: /^cannot replace directory .*home: it holds thesis\.tex, which this build does not write; choose an empty or new directory$/ });
  t.equal(readFileSync(join(home, 'thesis.tex'), 'utf8'), 'precious');
  t.same(readdirSync(parent).sort(), ['home', 'out']);

  // A file in the way, a missing parent.
  writeFileSync(join(parent, 'afile'), '');
  await t.rejects(atomicDirectory(join(parent, 'afile'), fill('x')), { code: 'E_OUTPUT', message: /a file is in the way/ });
  await t.rejects(atomicDirectory(join(parent, 'no', 'such'), fill('x')), { code: 'E_OUTPUT', message: /^cannot create directory .*no\/such \(ENOENT\)/ });
  // An empty existing directory is fine.
  const empty = join(parent, 'empty');
  mkdirSync(empty);
  await atomicDirectory(empty, fill('e'));
  t.equal(readFileSync(join(empty, 'initrd.img'), 'utf8'), 'e');
});

t.test("dest '-' into a closed pipe: one-line E_OUTPUT, not a crash", async (t) => {
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const src = fileURLToPath(new URL('../src/output.ts', import.meta.url));
  // A child writes 64 MiB to stdout through writeAtomically('-'); `head -c 10` closes the pipe early.
  const script = `import { writeAtomically } from ${JSON.stringify(src)};
    async function* big() { for (let i = 0; i < 1024; i++) yield new Uint8Array(65536).fill(65); }
    writeAtomically('-', big()).then(() => console.error('NO ERROR'), (e) => console.error('CAUGHT', e.code, e.message));`;
  const r = spawnSync('sh', ['-c', `"$0" ${process.execArgv.map((a) => `'${a}'`).join(' ')} --input-type=module -e "$1" | head -c 10 > /dev/null`, process.execPath, script], { encoding: 'utf8' });
  t.match(r.stderr, /CAUGHT E_OUTPUT cannot write to standard output \(EPIPE\); the program reading it exited early/, r.stderr);
});
