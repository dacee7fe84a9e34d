// CA certificates of an image, from Debian's `ca-certificates` package (fetched and verified like
// every other part): the Mozilla roots it ships as one PEM file each become
//   - the JRE's lib/security/cacerts, a JKS store written here (instead of the set frozen into the
//     JDK's jmods, which Debian's own JDK never uses: it links cacerts to ca-certificates-java's), and
//   - /etc/ssl/certs/ca-certificates.crt, the PEM bundle OpenSSL, GnuTLS and Go look for.
// Deterministic: entries in bytewise file name order, every date from SOURCE_DATE_EPOCH (or 0).
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileTree } from '@mkimage/rootfs';
import { encodeJks, type TrustedCertEntry } from './jks.js';
import { CodeError } from '../errors.js';

/** The Debian package and the directory in it holding one PEM file per root (`*.crt`). */
export const CA_CERTIFICATES_PACKAGE = 'ca-certificates';
export const MOZILLA_CERTS_DIR = 'usr/share/ca-certificates/mozilla';
/** Where Debian's update-ca-certificates puts the bundle (and where TLS libraries look). */
export const IMAGE_CA_BUNDLE = 'etc/ssl/certs/ca-certificates.crt';
/** The trust store a JRE reads by default, relative to java.home. */
export const JRE_CACERTS = 'lib/security/cacerts';

/** RFC 7468 §2: the textual encoding's boundaries for a certificate. */
const PEM_BEGIN = '-----BEGIN CERTIFICATE-----';
const PEM_END = '-----END CERTIFICATE-----';
/** RFC 7468 §2: generators wrap base64 lines at 64 characters. */
const PEM_LINE = 64;
/** X.690 §8.9: a certificate is a SEQUENCE (tag 0x30). */
const ASN1_SEQUENCE = 0x30;

export class CaCertError extends CodeError {}

export interface CaCertificate {
  /** File name in the package (`ACCVRAIZ1.crt`). */
  file: string;
  /** DER bytes. */
  der: Uint8Array;
}

const bytewise = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** The length a DER element claims for itself (header included), per X.690 §8.1.3. */
function derElementLength(der: Uint8Array): number | undefined {
  if (der.length < 2) return undefined;
  const first = der[1]!;
  if (first < 0x80) return 2 + first;
  const n = first & 0x7f;
  if (n === 0 || n > 4 || der.length < 2 + n) return undefined;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + der[2 + i]!;
  return 2 + n + len;
}

/** The single certificate of a PEM file, as DER; anything else is an error naming the file. */
export function pemCertificate(text: string, file: string): Uint8Array {
  const blocks = text.split(PEM_BEGIN).length - 1;
  if (blocks !== 1) throw new CaCertError('E_BAD_CERTIFICATE', `${file}: ${blocks} certificates in a file that should hold one PEM certificate`, { file });
  const start = text.indexOf(PEM_BEGIN) + PEM_BEGIN.length;
  const end = text.indexOf(PEM_END, start);
  if (end < 0) throw new CaCertError('E_BAD_CERTIFICATE', `${file}: no ${PEM_END} line`, { file });
  const b64 = text.slice(start, end).replace(/\s+/g, '');
  // Buffer's base64 decoder skips junk silently: check the alphabet ourselves.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) {
    throw new CaCertError('E_BAD_CERTIFICATE', `${file}: the certificate is not valid base64`, { file });
  }
  const der = new Uint8Array(Buffer.from(b64, 'base64'));
  if (der[0] !== ASN1_SEQUENCE || derElementLength(der) !== der.length) {
    throw new CaCertError('E_BAD_CERTIFICATE', `${file}: the certificate is not one DER SEQUENCE (${der.length} bytes)`, { file });
  }
  return der;
}

/** Reads every `*.crt` of an unpacked ca-certificates package, in bytewise file name order. */
export async function readCaCertificates(packageDir: string): Promise<CaCertificate[]> {
  const dir = join(packageDir, MOZILLA_CERTS_DIR);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.crt')).sort(bytewise);
  if (names.length === 0) {
    throw new CaCertError('E_NO_CERTIFICATES', `no ${MOZILLA_CERTS_DIR}/*.crt in the ${CA_CERTIFICATES_PACKAGE} package; is the package intact?`, { dir });
  }
  const certs: CaCertificate[] = [];
  for (const file of names) certs.push({ file, der: pemCertificate(await readFile(join(dir, file), 'utf8'), `${CA_CERTIFICATES_PACKAGE}: ${file}`) });
  return certs;
}

/** The key store alias of a certificate file: its name without `.crt`, in lower case (as JKS compares). */
export function aliasOf(file: string): string {
  return file.replace(/\.crt$/, '').toLowerCase();
}

/** A JRE's cacerts (JKS, password `changeit`) holding `certs`, dated `epoch` (seconds). */
export function cacertsKeystore(certs: readonly CaCertificate[], epoch: number): Uint8Array {
  const entries: TrustedCertEntry[] = certs.map((c) => ({ alias: aliasOf(c.file), dateMs: epoch * 1000, der: c.der }));
  return encodeJks(entries);
}

/** The PEM bundle: every certificate, re-encoded canonically (64-column base64), one after another. */
export function pemBundle(certs: readonly CaCertificate[]): string {
  return certs.map((c) => {
    const b64 = Buffer.from(c.der).toString('base64');
    const lines = [];
    for (let i = 0; i < b64.length; i += PEM_LINE) lines.push(b64.slice(i, i + PEM_LINE));
    return `${PEM_BEGIN}\n${lines.join('\n')}\n${PEM_END}\n`;
  }).join('');
}

/**
 * Puts the bundle at /etc/ssl/certs/ca-certificates.crt and, when the image has a JRE at `jre`
 * (a tree path), replaces its lib/security/cacerts with a store of the same certificates.
 */
export function addCaCertificates(tree: FileTree, certs: readonly CaCertificate[], opts: { epoch: number; jre?: string }): void {
  tree.mkdirp('etc/ssl/certs', { mode: 0o755 });
  tree.file(IMAGE_CA_BUNDLE, pemBundle(certs), { mode: 0o644, uid: 0, gid: 0 });
  if (opts.jre !== undefined) tree.file(`${opts.jre}/${JRE_CACERTS}`, cacertsKeystore(certs, opts.epoch), { mode: 0o644, uid: 0, gid: 0 });
}
