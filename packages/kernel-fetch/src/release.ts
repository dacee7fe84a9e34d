// InRelease: the clear-signed Release file of a suite (Debian wiki "DebianRepository/Format").
// The signature is checked with openpgp against the trusted keys; only the signed text is parsed.
// openpgp is imported when a signature is checked (not at start-up: a warm run may never need it).
import type * as openpgp from 'openpgp';
import { parseDeb822 } from './deb822.js';
import { ExpiredError, FormatError, SignatureError } from './errors.js';

export interface ReleaseFileEntry {
  /** Path relative to dists/<suite>/, e.g. 'main/binary-amd64/Packages.xz'. */
  path: string;
  size: number;
  sha256: string;
}

export interface Release {
  suite: string;
  codename: string;
  date: Date;
  validUntil?: Date;
  /** Every file of the SHA256 field, by path. */
  files: Map<string, ReleaseFileEntry>;
  /** Hex key IDs (long form) of the signatures that verified. */
  signedBy: string[];
}

/** A Date in the future by more than this is rejected ("not valid yet"), allowing for clock skew. */
const MAX_FUTURE_SKEW_MS = 24 * 3600 * 1000;

export interface VerifyOptions {
  /** Name used in error messages, e.g. the InRelease URL. */
  file: string;
  /** The suite we asked for: the file's Suite or Codename must match it. */
  suite: string;
  now?: Date;
}

/** Verifies a clear-signed InRelease and parses its signed content. */
export async function verifyInRelease(text: string, keys: openpgp.PublicKey[], opts: VerifyOptions): Promise<Release> {
  return (await verifyInReleaseSignature(text, keys, opts)).release;
}

/** What a signature check established, enough to parse the same signed text again without openpgp. */
export interface VerifiedRelease {
  release: Release;
  /** The signed text (what openpgp verified), as parsed into `release`. */
  body: string;
  /**
   * When the newest-expiring key that made a good signature expires (null: never). A record of
   * this verification is worth nothing past that instant.
   */
  keysExpire: Date | null;
}

/** Verifies a clear-signed InRelease, parses its signed content, and says until when the keys hold. */
export async function verifyInReleaseSignature(text: string, keys: openpgp.PublicKey[], opts: VerifyOptions): Promise<VerifiedRelease> {
  const { file } = opts;
  const openpgp = await import('openpgp');
  let message: openpgp.CleartextMessage;
  try {
    message = await openpgp.readCleartextMessage({ cleartextMessage: text });
  } catch (err) {
    throw new SignatureError(file, `not a clear-signed OpenPGP message (${(err as Error).message})`);
  }
  // Keys are checked at "now", so expired or revoked keys are refused too.
  const now = opts.now ?? new Date();
  // Fast path: verify against the single trusted key of one signature (Ed25519 ones first, they are
  // cheapest); InRelease usually carries several signatures by trusted keys and one is enough.
  const result = (await verifyCheapest(openpgp, message, keys, now)) ?? (await openpgp.verify({ message, verificationKeys: keys, date: now, expectSigned: false }));
  const good: string[] = [];
  const unknown: string[] = [];
  const bad: string[] = [];
  const trusted = new Set(keys.flatMap((k) => k.getKeyIDs().map((id) => id.toHex())));
  for (const sig of result.signatures) {
    const id = sig.keyID.toHex();
    try {
      await sig.verified;
      good.push(id);
    } catch (err) {
      if (trusted.has(id)) bad.push(`${id}: ${(err as Error).message}`);
      else unknown.push(id);
    }
  }
  if (!good.length) {
    if (!result.signatures.length) throw new SignatureError(file, 'carries no signature');
    if (bad.length) throw new SignatureError(file, `bad signature (${bad.join('; ')}); the file was altered or the mirror is broken`, { bad });
    throw new SignatureError(file, `signed only by keys that are not trusted (${unknown.join(', ')}); refusing it`, { unknown });
  }
  const body = String(result.data);
  return { release: parseRelease(body, good, opts), body, keysExpire: await latestExpiry(keys, good) };
}

/**
 * The latest instant until which one of the keys that made the good signatures `ids` stays valid
 * (null: one never expires). A signing subkey counts with its own expiry and its primary key's.
 * openpgp reports an invalid key as null: that, or no key found, gives the epoch (already over).
 */
async function latestExpiry(keys: openpgp.PublicKey[], ids: string[]): Promise<Date | null> {
  const EXPIRED = new Date(0);
  const asTime = (t: Date | number | null): number => (t === null ? 0 : t === Infinity ? Infinity : t instanceof Date ? t.getTime() : 0);
  let latest = 0;
  for (const key of keys) {
    const primary = asTime(await key.getExpirationTime());
    if (ids.includes(key.getKeyID().toHex())) latest = Math.max(latest, primary);
    for (const sub of key.subkeys) {
      if (ids.includes(sub.getKeyID().toHex())) latest = Math.max(latest, Math.min(primary, asTime(await sub.getExpirationTime())));
    }
  }
  return latest === Infinity ? null : latest > 0 ? new Date(latest) : EXPIRED;
}

/**
 * Parses the signed text of an InRelease (already verified, by `signedBy`) and checks it against
 * the suite asked for and the clock: Suite/Codename, Date, Valid-Until, the SHA256 list.
 */
export function parseRelease(body: string, signedBy: string[], opts: VerifyOptions): Release {
  const { file } = opts;
  const now = opts.now ?? new Date();
  let paragraph;
  try {
    const paragraphs = parseDeb822(body);
    if (paragraphs.length !== 1) throw new Error(`expected one paragraph, found ${paragraphs.length}`);
    paragraph = paragraphs[0]!;
  } catch (err) {
    throw new FormatError(file, `malformed Release content: ${(err as Error).message}`);
  }
  const suite = paragraph['suite'] ?? '';
  const codename = paragraph['codename'] ?? '';
  if (suite !== opts.suite && codename !== opts.suite) {
    throw new FormatError(file, `is for suite ${codename || suite || '(none)'}, not ${opts.suite}; the mirror serves the wrong file`);
  }
  const date = parseDate(paragraph['date'], 'Date', file);
  if (!date) throw new FormatError(file, 'has no Date field');
  const validUntil = parseDate(paragraph['valid-until'], 'Valid-Until', file);
  if (validUntil && now.getTime() > validUntil.getTime()) {
    throw new ExpiredError(file, `expired: Valid-Until ${validUntil.toUTCString()} is in the past; the mirror is stale (try another mirror)`, {
      validUntil: validUntil.toISOString(),
    });
  }
  if (date.getTime() - now.getTime() > MAX_FUTURE_SKEW_MS) {
    throw new ExpiredError(file, `not valid yet: Date ${date.toUTCString()} is in the future; check this machine's clock`, { date: date.toISOString() });
  }
  const files = new Map<string, ReleaseFileEntry>();
  const sums = paragraph['sha256'];
  if (!sums) throw new FormatError(file, 'has no SHA256 field');
  for (const line of sums.split('\n')) {
    const t = line.trim();
    if (!t) continue;
    const m = /^([0-9a-f]{64})\s+(\d+)\s+(\S+)$/.exec(t);
    if (!m) throw new FormatError(file, `bad SHA256 line ${JSON.stringify(t.slice(0, 80))}`);
    files.set(m[3]!, { path: m[3]!, size: Number(m[2]), sha256: m[1]! });
  }
  const release: Release = { suite, codename, date, files, signedBy: [...signedBy] };
  if (validUntil) release.validUntil = validUntil;
  return release;
}

/** OpenPGP public-key algorithm ids of EdDSA (RFC 4880bis / RFC 9580 §9.1): cheap to verify. */
const EDDSA_ALGORITHMS = new Set([22, 27]);

type VerifyResult = Awaited<ReturnType<typeof openpgp.verify>>;

/**
 * Verifies with one trusted key at a time, cheapest signature first, and returns the first result in
 * which a signature verifies; undefined when none does (the caller then verifies with every key to
 * report precisely why).
 */
async function verifyCheapest(openpgp: typeof import('openpgp'), message: openpgp.CleartextMessage, keys: openpgp.PublicKey[], date: Date): Promise<VerifyResult | undefined> {
  // `signature` is a documented field of CleartextMessage that the typings leave out.
  const { signature } = message as unknown as { signature: openpgp.Signature };
  const packets = [...signature.packets].sort(
    (a, b) => Number(EDDSA_ALGORITHMS.has(b.publicKeyAlgorithm as number)) - Number(EDDSA_ALGORITHMS.has(a.publicKeyAlgorithm as number)),
  );
  for (const packet of packets) {
    const issuer = packet.issuerKeyID.toHex();
    const key = keys.find((k) => k.getKeyIDs().some((id) => id.toHex() === issuer));
    if (!key) continue;
    const result = await openpgp.verify({ message, verificationKeys: [key], date, expectSigned: false });
    for (const sig of result.signatures) {
      try {
        await sig.verified;
        return result;
      } catch {
        /* not this one */
      }
    }
  }
  return undefined;
}

function parseDate(v: string | undefined, field: string, file: string): Date | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v.replace(/\bUTC$/, 'GMT'));
  if (Number.isNaN(t)) throw new FormatError(file, `${field} ${JSON.stringify(v)} is not a date`);
  return new Date(t);
}
