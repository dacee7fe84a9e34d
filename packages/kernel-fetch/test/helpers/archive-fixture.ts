// Test fixtures: small synthetic .deb files and a signed file:// Debian mirror built from them.
// Signed with a throwaway OpenPGP key generated per test run and trusted only by the tests.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as openpgp from 'openpgp';
import tarStream from 'tar-stream';

export interface FakePackage {
  name: string;
  version: string;
  arch?: string;
  depends?: string;
  preDepends?: string;
  provides?: string;
  /** Files of data.tar (path without leading './' -> content). */
  files?: Record<string, string | Uint8Array>;
}

export interface FakeSuite {
  suite: string;
  packages: FakePackage[];
  date?: Date;
  validUntil?: Date;
  /** Index compressions written and listed (default ['xz', 'gz']). */
  indexes?: ('xz' | 'gz' | 'none')[];
  /** Index compressions listed in InRelease but not written (default ['none'], as Debian does). */
  listedOnly?: ('xz' | 'gz' | 'none')[];
  /** Pool prefix (default 'pool/main'; security uses 'pool/updates/main'). */
  pool?: string;
  /** Also write and list main/Contents-amd64.gz (file path -> package), as Debian does. */
  contents?: boolean;
}

/** The fixed time every fixture entry carries, so fixtures are deterministic. */
const EPOCH = 1_700_000_000;

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function tarGz(entries: { name: string; data: Uint8Array | string; mode?: number; type?: 'file' | 'directory' }[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const e of entries) {
    const data = typeof e.data === 'string' ? Buffer.from(e.data) : Buffer.from(e.data);
    await new Promise<void>((resolve, reject) =>
      pack.entry(
        { name: e.name, type: e.type ?? 'file', mode: e.mode ?? (e.type === 'directory' ? 0o755 : 0o644), mtime: new Date(EPOCH * 1000), uname: 'root', gname: 'root', size: e.type === 'directory' ? 0 : data.length },
        e.type === 'directory' ? undefined : data,
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  }
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks), { level: 9 });
}

/** One `ar` member: 60-byte header (name/mtime/uid/gid/mode/size/magic) then data padded to even. */
function arMember(name: string, data: Buffer): Buffer {
  const field = (s: string, n: number): string => s.padEnd(n, ' ').slice(0, n);
  const header = field(name, 16) + field(String(EPOCH), 12) + field('0', 6) + field('0', 6) + field('100644', 8) + field(String(data.length), 10) + '`\n';
  return Buffer.concat([Buffer.from(header, 'latin1'), data, data.length % 2 ? Buffer.from('\n') : Buffer.alloc(0)]);
}

/** The control paragraph of a fake package. */
function controlText(p: FakePackage): string {
  let s = `Package: ${p.name}\nVersion: ${p.version}\nArchitecture: ${p.arch ?? 'amd64'}\nMaintainer: Test <test@example.invalid>\n`;
  if (p.preDepends) s += `Pre-Depends: ${p.preDepends}\n`;
  if (p.depends) s += `Depends: ${p.depends}\n`;
  if (p.provides) s += `Provides: ${p.provides}\n`;
  return s + `Description: synthetic test package ${p.name}\n mkimage kernel-fetch test fixture.\n`;
}

/** Builds a .deb: ar(debian-binary, control.tar.gz, data.tar.gz). */
export async function buildDeb(p: FakePackage): Promise<Buffer> {
  const control = await tarGz([
    { name: './', data: '', type: 'directory' },
    { name: './control', data: controlText(p) },
  ]);
  const files = p.files ?? { [`usr/share/doc/${p.name}/README`]: `${p.name} ${p.version}\n` };
  const dirs = new Set<string>();
  for (const f of Object.keys(files)) {
    const parts = f.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  const data = await tarGz([
    { name: './', data: '', type: 'directory' },
    ...[...dirs].sort().map((d) => ({ name: `./${d}/`, data: '', type: 'directory' as const })),
    ...Object.keys(files).sort().map((f) => ({ name: `./${f}`, data: files[f]! })),
  ]);
  return Buffer.concat([
    Buffer.from('!<arch>\n'),
    arMember('debian-binary', Buffer.from('2.0\n')),
    arMember('control.tar.gz', control),
    arMember('data.tar.gz', data),
  ]);
}

export function poolPath(pool: string, p: FakePackage): string {
  const src = p.name.startsWith('lib') ? p.name.slice(0, 4) : p.name[0]!;
  const version = p.version.replace(/^\d+:/, ''); // Debian drops the epoch from file names
  return `${pool}/${src}/${p.name}/${p.name}_${version}_${p.arch ?? 'amd64'}.deb`;
}

export interface BuiltMirror {
  root: string;
  url: string;
  /** name=version -> { filename, sha256, size } */
  debs: Map<string, { filename: string; sha256: string; size: number }>;
}

/** Writes the pool and Packages indexes of every suite, and an InRelease signed by `signers`. */
export async function writeMirror(root: string, suites: FakeSuite[], signers: openpgp.PrivateKey[]): Promise<BuiltMirror> {
  const debs = new Map<string, { filename: string; sha256: string; size: number }>();
  for (const s of suites) {
    const pool = s.pool ?? 'pool/main';
    let packages = '';
    for (const p of s.packages) {
      const deb = await buildDeb(p);
      const filename = poolPath(pool, p);
      mkdirSync(join(root, dirname(filename)), { recursive: true });
      writeFileSync(join(root, filename), deb);
      debs.set(`${p.name}=${p.version}`, { filename, sha256: sha256(deb), size: deb.length });
      packages += controlText(p).replace(/^Description:/m, `Filename: ${filename}\nSize: ${deb.length}\nSHA256: ${sha256(deb)}\nDescription:`) + '\n';
    }
    const dir = join(root, 'dists', s.suite, 'main', 'binary-amd64');
    mkdirSync(dir, { recursive: true });
    const plain = Buffer.from(packages);
    const variants: Record<string, Buffer> = {
      none: plain,
      gz: gzipSync(plain, { level: 9 }),
      // Small blocks make a multi-block xz stream, as Debian's real Packages.xz is.
      xz: execFileSync('xz', ['-T1', '--block-size=1024', '-c'], { input: plain }),
    };
    const suffix = { none: '', gz: '.gz', xz: '.xz' };
    const listed: [string, Buffer][] = [];
    for (const kind of s.indexes ?? ['xz', 'gz']) {
      writeFileSync(join(dir, `Packages${suffix[kind]}`), variants[kind]!);
      listed.push([`main/binary-amd64/Packages${suffix[kind]}`, variants[kind]!]);
    }
    for (const kind of s.listedOnly ?? ['none']) listed.push([`main/binary-amd64/Packages${suffix[kind]}`, variants[kind]!]);
    if (s.contents) {
      const rows = s.packages.flatMap((p) => Object.keys(p.files ?? { [`usr/share/doc/${p.name}/README`]: '' }).map((f) => `${f.padEnd(60)} misc/${p.name}`));
      const gz = gzipSync(Buffer.from(rows.sort().join('\n') + '\n'));
      writeFileSync(join(root, 'dists', s.suite, 'main', 'Contents-amd64.gz'), gz);
      listed.push(['main/Contents-amd64.gz', gz]);
    }
    await writeRelease(root, s, listed, signers);
  }
  return { root, url: pathToFileURL(root).href, debs };
}

/** The unsigned Release text of a suite listing `files`. */
export function releaseText(s: FakeSuite, files: [string, Buffer][]): string {
  const date = s.date ?? new Date();
  let t = `Origin: Debian\nLabel: Debian\nSuite: ${s.suite}\nCodename: ${s.suite}\nDate: ${date.toUTCString().replace('GMT', 'UTC')}\n`;
  if (s.validUntil) t += `Valid-Until: ${s.validUntil.toUTCString().replace('GMT', 'UTC')}\n`;
  t += 'Architectures: amd64\nComponents: main\nSHA256:\n';
  for (const [name, data] of [...files].sort((a, b) => (a[0] < b[0] ? -1 : 1))) t += ` ${sha256(data)} ${String(data.length).padStart(8)} ${name}\n`;
  return t;
}

export async function clearsign(text: string, signers: openpgp.PrivateKey[]): Promise<string> {
  const message = await openpgp.createCleartextMessage({ text });
  return openpgp.sign({ message, signingKeys: signers });
}

async function writeRelease(root: string, s: FakeSuite, files: [string, Buffer][], signers: openpgp.PrivateKey[]): Promise<void> {
  const signed = await clearsign(releaseText(s, files), signers);
  writeFileSync(join(root, 'dists', s.suite, 'InRelease'), signed);
}

/** A throwaway signing key (Ed25519). */
export async function makeKey(name = 'mkimage test archive'): Promise<{ privateKey: openpgp.PrivateKey; publicKey: openpgp.PublicKey; armored: string }> {
  const { privateKey, publicKey } = await openpgp.generateKey({ userIDs: [{ name }], format: 'object' });
  return { privateKey, publicKey, armored: publicKey.armor() };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `mkimage-${prefix}-`));
}

/** Every path under `dir` (files and directories, relative), sorted: to prove nothing new appeared. */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names.sort()) {
      const p = join(d, n);
      out.push(relative(dir, p));
      if (statSync(p).isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

/** The standard fixture archive: three suites with a loop, alternatives, Provides, epochs and '+'. */
export function standardSuites(): FakeSuite[] {
  return [
    {
      suite: 'bookworm',
      contents: true,
      packages: [
        { name: 'app', version: '1.0-1', depends: 'libfoo (>= 1.1) | libalt, virt-thing (>= 2), libc6' },
        { name: 'libfoo', version: '1.0-1', preDepends: 'libc6 (>= 2.36)' },
        { name: 'libalt', version: '3.0-1' },
        { name: 'libc6', version: '2.36-9', depends: 'libgcc-s1' },
        { name: 'libgcc-s1', version: '12.2.0-14', depends: 'libc6 (>= 2.35)' },
        { name: 'provider', version: '1.0-1', provides: 'virt-thing (= 2.0)', arch: 'all' },
        { name: 'old-provider', version: '1.0-1', provides: 'virt-thing' },
        { name: 'busybox-static', version: '1:1.35.0-4+b3', files: { 'bin/busybox': 'not really busybox\n' } },
        { name: 'linux-image-cloud-amd64', version: '6.1.1-1', depends: 'linux-image-6.1.0-9-cloud-amd64 (= 6.1.1-1)' },
        { name: 'linux-image-6.1.0-9-cloud-amd64', version: '6.1.1-1', files: { 'boot/vmlinuz-6.1.0-9-cloud-amd64': 'kernel 9\n' } },
        { name: 'needs-missing', version: '1.0-1', depends: 'does-not-exist (>= 1)' },
        { name: 'needs-newer', version: '1.0-1', depends: 'libalt (>= 4) | libfoo (>> 2)' },
      ],
    },
    {
      suite: 'bookworm-updates',
      indexes: ['xz'],
      listedOnly: ['none'],
      packages: [{ name: 'libfoo', version: '1.2-1~deb12u1', preDepends: 'libc6 (>= 2.36)' }],
    },
    {
      suite: 'bookworm-security',
      pool: 'pool/updates/main',
      indexes: ['xz'],
      listedOnly: ['none', 'gz'],
      packages: [
        { name: 'linux-image-cloud-amd64', version: '6.1.2-1', depends: 'linux-image-6.1.0-10-cloud-amd64 (= 6.1.2-1)' },
        { name: 'linux-image-6.1.0-10-cloud-amd64', version: '6.1.2-1', files: { 'boot/vmlinuz-6.1.0-10-cloud-amd64': 'kernel 10\n' } },
        { name: 'libc6', version: '2.36-9+deb12u1', depends: 'libgcc-s1' },
      ],
    },
  ];
}
