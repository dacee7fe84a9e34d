// The JRE's cacerts (JKS) and the PEM bundle from Debian's ca-certificates, read back by tools we
// did not write: Debian's keytool (run from the JDK sysroot), OpenSSL and node's X509 parser.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findMirrors, openArchive } from '@mkimage/kernel-fetch';
import {
  CA_CERTIFICATES_PACKAGE, MOZILLA_CERTS_DIR, aliasOf, cacertsKeystore, pemBundle, pemCertificate, readCaCertificates,
} from '../src/runtime/cacerts.js';
import { JKS_MAGIC, decodeJks, encodeJks, modifiedUtf8 } from '../src/runtime/jks.js';
import { openDebianJdk } from '../src/runtime/jdk.js';
import { tempDir } from './helpers/live.js';

/** A DER SEQUENCE of `n` content bytes (enough for the codec; keytool gets real certificates below). */
function fakeDer(n: number, fill: number): Uint8Array {
  const body = new Uint8Array(n).fill(fill);
  const len = n < 0x80 ? [n] : [0x82, n >> 8, n & 0xff];
  return Uint8Array.from([0x30, ...len, ...body]);
}

t.test('modified UTF-8 as DataOutput.writeUTF writes it', async (t) => {
  t.same(Buffer.from(modifiedUtf8('netlock_arany_=class_gold=_főtanúsítvány')), Buffer.from('netlock_arany_=class_gold=_főtanúsítvány', 'utf8'), 'BMP text equals UTF-8');
  t.same([...modifiedUtf8('a\0b')], [0x61, 0xc0, 0x80, 0x62], 'NUL is C0 80');
  t.same([...modifiedUtf8('\u{1F600}')], [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80], 'a supplementary character is two 3-byte surrogates');
});

t.test('JKS: encode then decode gives the entries back; the digest and header are checked', async (t) => {
  const entries = [
    { alias: 'first', dateMs: 1_700_000_000_000, der: fakeDer(10, 1) },
    { alias: 'zweite-ü', dateMs: 0, der: fakeDer(300, 2) },
  ];
  const bytes = encodeJks(entries);
  t.equal(Buffer.from(bytes).readUInt32BE(0), JKS_MAGIC);
  const back = decodeJks(bytes);
  t.same(back.map((e) => [e.alias, e.dateMs, Buffer.from(e.der).toString('hex')]), entries.map((e) => [e.alias, e.dateMs, Buffer.from(e.der).toString('hex')]));
  t.same(Buffer.from(encodeJks(entries)), Buffer.from(bytes), 'deterministic');

  const flipped = Uint8Array.from(bytes);
  flipped[40] ^= 1;
  t.throws(() => decodeJks(flipped), { code: 'E_BAD_KEYSTORE', message: /digest does not match/ }, 'a changed body byte');
  t.throws(() => decodeJks(bytes, 'not-changeit'), { code: 'E_BAD_KEYSTORE', message: /digest/ }, 'another password');
  const badMagic = Uint8Array.from(bytes);
  badMagic[0] = 0;
  t.throws(() => decodeJks(badMagic), { code: 'E_BAD_KEYSTORE', message: /magic/ });
  t.throws(() => decodeJks(bytes.subarray(0, 20)), { code: 'E_BAD_KEYSTORE' }, 'truncated');
  t.throws(() => encodeJks([entries[0]!, { ...entries[1]!, alias: 'FIRST' }]), { code: 'E_DUPLICATE_ALIAS' }, 'aliases are case-insensitive');
});

t.test('PEM: one certificate per file, valid base64, one DER element', async (t) => {
  const der = fakeDer(200, 7);
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n');
  const pem = `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
  t.same(Buffer.from(pemCertificate(pem, 'x.crt')), Buffer.from(der));
  t.equal(pemBundle([{ file: 'x.crt', der }]), `-----BEGIN CERTIFICATE-----\n${b64.trimEnd()}\n-----END CERTIFICATE-----\n`, 'the bundle re-encodes at 64 columns');
  t.throws(() => pemCertificate(pem + pem, 'two.crt'), { code: 'E_BAD_CERTIFICATE', message: /two\.crt: 2 certificates/ });
  t.throws(() => pemCertificate(pem.replace(b64, `*${b64.slice(1)}`), 'junk.crt'), { code: 'E_BAD_CERTIFICATE', message: /base64/ });
  const short = Buffer.from(der.subarray(0, 100)).toString('base64');
  t.throws(() => pemCertificate(`-----BEGIN CERTIFICATE-----\n${short}\n-----END CERTIFICATE-----\n`, 'cut.crt'), { code: 'E_BAD_CERTIFICATE', message: /DER/ });
  t.throws(() => pemCertificate('-----BEGIN CERTIFICATE-----\nAAAA\n', 'open.crt'), { code: 'E_BAD_CERTIFICATE', message: /END/ });
});

let skip: string | false = false;
try {
  findMirrors({ suite: 'bookworm' });
} catch (err) {
  skip = `no Debian mirror configured (${(err as Error).message})`;
  t.comment(`skipping the keytool checks: ${skip}`);
}

t.test('cacerts from Debian ca-certificates, listed by Debian keytool; a corrupted store is rejected', { skip }, async (t) => {
  const { dir, cleanup } = await tempDir('mkimage-cacerts-');
  t.teardown(cleanup);
  const archive = await openArchive({ suite: 'bookworm' });
  const [pkg] = await archive.resolve([CA_CERTIFICATES_PACKAGE]);
  const pkgDir = await archive.unpack(pkg!);
  const files = readdirSync(join(pkgDir, MOZILLA_CERTS_DIR)).filter((n) => n.endsWith('.crt'));
  const certs = await readCaCertificates(pkgDir);
  t.ok(files.length > 100, `${files.length} PEM files in ${CA_CERTIFICATES_PACKAGE} ${pkg!.version}`);
  t.equal(certs.length, files.length);
  for (const c of certs) {
    // node's own PEM and X.509 parser must see the same DER.
    const x = new X509Certificate(readFileSync(join(pkgDir, MOZILLA_CERTS_DIR, c.file)));
    if (!x.raw.equals(Buffer.from(c.der))) t.fail(`${c.file}: DER differs from node's reading`);
  }

  const store = join(dir, 'cacerts');
  const bytes = cacertsKeystore(certs, 1_234_567_890);
  writeFileSync(store, bytes);
  t.same(Buffer.from(cacertsKeystore(certs, 1_234_567_890)), Buffer.from(bytes), 'the same certificates and epoch give the same bytes');
  t.not(Buffer.from(cacertsKeystore(certs, 0)).equals(Buffer.from(bytes)), true, 'the epoch is what dates the entries');

  const jdk = await openDebianJdk({ suite: 'bookworm' });
  const loader = await jdk.sysroot.loader();
  const keytool = (args: string[]): { status: number | null; out: string } => {
    // Not Sysroot.run: keytool reports its errors on stdout, which run() drops on failure.
    const r = spawnSync(loader, ['--library-path', jdk.sysroot.libraryPath(), join(jdk.sysroot.dir, jdk.home, 'bin', 'keytool'), ...args], {
      encoding: 'utf8', env: { LANG: 'C.UTF-8', TZ: 'UTC' },
    });
    return { status: r.status, out: r.stdout + r.stderr };
  };
  const listed = keytool(['-list', '-keystore', store, '-storepass', 'changeit']);
  t.equal(listed.status, 0, 'keytool -list succeeds');
  t.match(listed.out, /Keystore type: JKS/);
  t.equal(Number(/Your keystore contains (\d+) entr/.exec(listed.out)?.[1]), files.length, 'keytool counts as many entries as PEM files');
  // Each alias with its certificate's SHA-256, as keytool prints them.
  const seen = new Map<string, string>();
  const re = /^(.+), ([A-Z][a-z]{2} \d+, \d{4}), trustedCertEntry,\s*\nCertificate fingerprint \(SHA-256\): ([0-9A-F:]+)$/gm;
  for (const m of listed.out.matchAll(re)) seen.set(m[1]!, m[3]!.replace(/:/g, '').toLowerCase());
  t.equal(seen.size, certs.length, 'keytool lists every entry as a trusted certificate');
  const mismatched = certs.filter((c) => seen.get(aliasOf(c.file)) !== createHash('sha256').update(c.der).digest('hex')).map((c) => c.file);
  t.same(mismatched, [], 'every alias carries its file\'s certificate');
  t.match(listed.out, /, Feb 13, 2009, trustedCertEntry/, 'entries are dated from the epoch given');

  const tampered = Uint8Array.from(bytes);
  tampered[bytes.length - 1] ^= 0xff;
  writeFileSync(store, tampered);
  const rejected = keytool(['-list', '-keystore', store, '-storepass', 'changeit']);
  t.not(rejected.status, 0, 'keytool rejects a store whose digest is wrong');
  t.match(rejected.out, /tampered with, or password was incorrect/);
  const body = Uint8Array.from(bytes);
  body[1000] ^= 0x01;
  writeFileSync(store, body);
  t.match(keytool(['-list', '-keystore', store, '-storepass', 'changeit']).out, /tampered/, 'and one whose body changed');

  const bundle = join(dir, 'ca-certificates.crt');
  writeFileSync(bundle, pemBundle(certs));
  const ossl = spawnSync('openssl', ['storeutl', '-noout', '-certs', bundle], { encoding: 'utf8' });
  t.equal(ossl.status, 0, 'openssl reads the bundle');
  t.match(ossl.stdout, new RegExp(`^Total found: ${files.length}$`, 'm'), 'openssl finds every certificate in the bundle');
  writeFileSync(bundle, pemBundle(certs).replace(/\n[A-Za-z0-9+/]{64}\n/, '\n!!!\n'));
  const broken = spawnSync('openssl', ['storeutl', '-noout', '-certs', bundle], { encoding: 'utf8' });
  t.notMatch(broken.stdout, new RegExp(`^Total found: ${files.length}$`, 'm'), 'a damaged bundle does not read back whole');
});
