// The Packages index (Debian wiki "DebianRepository/Format#A.22Packages.22_Indices"): one deb822
// paragraph per binary package. We keep only the fields resolution and download need (compact-index.ts
// caches them).
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/** One binary package as an index lists it. */
export interface PackageRecord {
  name: string;
  version: string;
  /** 'amd64' or 'all'. */
  arch: string;
  /** Pool path relative to the mirror root, e.g. 'pool/main/b/busybox/busybox-static_1.35.0-4+b3_amd64.deb'. */
  filename: string;
  size: number;
  sha256: string;
  depends?: string;
  preDepends?: string;
  provides?: string;
}

/** Architectures usable on an amd64 system. */
export const USABLE_ARCHES = new Set(['amd64', 'all']);

// The deb822 fields kept, and the record key each one fills.
const FIELDS = [
  ['package', 'name'],
  ['version', 'version'],
  ['architecture', 'arch'],
  ['filename', 'filename'],
  ['size', 'size'],
  ['sha256', 'sha256'],
  ['depends', 'depends'],
  ['pre-depends', 'preDepends'],
  ['provides', 'provides'],
] as const;
type Key = (typeof FIELDS)[number][1];
const FIELD_BY_NAME = new Map<string, Key>(FIELDS.map(([f, k]) => [f, k]));
const REQUIRED: Key[] = ['name', 'version', 'arch', 'filename', 'size', 'sha256'];

/**
 * Parses a Packages text stream. Paragraphs for other architectures or lacking a field needed to
 * download and verify the package are dropped.
 */
export async function parsePackages(input: Readable | AsyncIterable<Uint8Array | string>): Promise<PackageRecord[]> {
  const out: PackageRecord[] = [];
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let cur: Partial<Record<Key, string>> = {};
  let any = false;
  const finish = (): void => {
    if (any && REQUIRED.every((k) => cur[k] !== undefined) && USABLE_ARCHES.has(cur.arch!) && /^\d+$/.test(cur.size!)) {
      out.push({ ...cur, size: Number(cur.size) } as unknown as PackageRecord);
    }
    cur = {};
    any = false;
  };
  const line = (l: string): void => {
    if (l === '' || l === '\r') {
      finish();
      return;
    }
    const c = l.charCodeAt(0);
    if (c === 0x20 || c === 0x09) return; // continuation of a field we do not keep (Description...)
    const colon = l.indexOf(':');
    if (colon <= 0) return;
    const key = FIELD_BY_NAME.get(l.slice(0, colon).toLowerCase());
    any = true;
    if (key) cur[key] = l.slice(colon + 1).trim();
  };
  for await (const chunk of input) {
    const text = carry + (typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer));
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      line(text.slice(start, nl));
      start = nl + 1;
    }
    carry = text.slice(start);
  }
  carry += decoder.end();
  if (carry) line(carry);
  finish();
  return out;
}
