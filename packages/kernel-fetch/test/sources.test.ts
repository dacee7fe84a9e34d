// Mirror discovery: option > environment > apt sources (one-line and deb822), per suite.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { findMirrors, parseDeb822Sources, parseSourcesList, readAptSources } from '../src/sources.js';
import { mirrorUrl } from '../src/transport.js';
import { tempDir } from './helpers/archive-fixture.js';

function aptDir(files: Record<string, string>): string {
  const dir = tempDir('apt');
  mkdirSync(join(dir, 'sources.list.d'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const ONE_LINE = `# a comment
deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] http://one.example/debian bookworm main contrib
deb-src http://src.example/debian bookworm main
deb http://one.example/debian bookworm-updates main # trailing comment
`;
const DEB822 = `Types: deb
# a commented line inside a paragraph
URIs: https://two.example/debian
Suites: trixie trixie-updates
Components: main

Types: deb deb-src
URIs: http://sec.example/debian-security
Suites: trixie-security
Components: main

Types: deb
URIs: http://disabled.example/debian
Suites: forky
Enabled: no

Types: deb
URIs: https://third-party.example/apt
Suites: nodistro
Components: main
`;

t.test('parses both formats', async (t) => {
  const one = parseSourcesList(ONE_LINE, 'sources.list');
  t.same(one.map((s) => [s.types[0], s.uris[0], s.suites[0], s.components]), [
    ['deb', 'http://one.example/debian', 'bookworm', ['main', 'contrib']],
    ['deb-src', 'http://src.example/debian', 'bookworm', ['main']],
    ['deb', 'http://one.example/debian', 'bookworm-updates', ['main']],
  ]);
  t.equal(one[0]!.origin, 'sources.list:2');
  const d = parseDeb822Sources(DEB822, 'x.sources');
  t.equal(d.length, 4);
  t.same(d[0]!.suites, ['trixie', 'trixie-updates']);
  t.equal(d[2]!.enabled, false);
});

t.test('picks per suite from the host configuration; ignores other suffixes', async (t) => {
  const dir = aptDir({ 'sources.list': ONE_LINE });
  writeFileSync(join(dir, 'sources.list.d', 'x.sources'), DEB822);
  writeFileSync(join(dir, 'sources.list.d', 'y.list.disabled'), 'deb http://ignored.example/debian bookworm main\n');
  t.equal(readAptSources(dir).length, 7);
  const b = findMirrors({ suite: 'bookworm', aptDir: dir, env: {} });
  t.equal(b.mirror.url, 'http://one.example/debian');
  t.equal(b.mirror.origin, join(dir, 'sources.list') + ':2');
  // No bookworm-security line: the trixie-security archive serves every security suite.
  t.equal(b.security.url, 'http://sec.example/debian-security');
  const tx = findMirrors({ suite: 'trixie', aptDir: dir, env: {} });
  t.equal(tx.mirror.url, 'https://two.example/debian');
  t.equal(tx.security.url, 'http://sec.example/debian-security');
  // forky is only in a disabled entry: fall back to another Debian archive line, never a third-party repo.
  t.equal(findMirrors({ suite: 'forky', aptDir: dir, env: {} }).mirror.url, 'http://one.example/debian');
});

t.test('option beats environment beats apt', async (t) => {
  const dir = aptDir({ 'sources.list': ONE_LINE });
  const env = { MKIMAGE_DEBIAN_MIRROR: 'file:///srv/mirror/', MKIMAGE_DEBIAN_SECURITY_MIRROR: 'http://envsec.example/x' };
  const e = findMirrors({ suite: 'bookworm', aptDir: dir, env });
  t.same([e.mirror.url, e.mirror.origin, e.security.url], ['file:///srv/mirror', 'MKIMAGE_DEBIAN_MIRROR', 'http://envsec.example/x']);
  const o = findMirrors({ suite: 'bookworm', aptDir: dir, env, mirror: 'https://opt.example/debian', securityMirror: 'https://opt.example/sec' });
  t.same([o.mirror.url, o.mirror.origin, o.security.url], ['https://opt.example/debian', '--mirror', 'https://opt.example/sec']);
  // Nothing for security anywhere: the main mirror is used for it too.
  const m = findMirrors({ suite: 'bookworm', aptDir: false, env: {}, mirror: 'file:///m' });
  t.same([m.security.url, m.security.origin], ['file:///m', 'main mirror']);
});

t.test('no mirror: one line saying how to give one; bad schemes refused', async (t) => {
  t.throws(() => findMirrors({ suite: 'bookworm', aptDir: aptDir({}), env: {} }), {
    code: 'E_NO_MIRROR',
    message: /^no Debian mirror for bookworm: pass --mirror URL or set MKIMAGE_DEBIAN_MIRROR/,
  });
  t.throws(() => findMirrors({ suite: 'bookworm', aptDir: false, env: {}, mirror: 'ftp://old.example/debian' }), {
    code: 'E_NO_MIRROR',
    message: /only http:\/\/, https:\/\/ and file:\/\/ mirrors are supported/,
  });
});

t.test('pool paths: "+" percent-encoded over http, literal on file://', async (t) => {
  const p = 'pool/main/b/busybox/busybox-static_1.35.0-4+b3_amd64.deb';
  t.equal(mirrorUrl('http://m.example/debian/', p), 'http://m.example/debian/pool/main/b/busybox/busybox-static_1.35.0-4%2Bb3_amd64.deb');
  t.equal(mirrorUrl('file:///srv/mirror', p), 'file:///srv/mirror/' + p);
});
