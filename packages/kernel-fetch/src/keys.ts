// Trust anchors: Debian's archive signing keys, shipped ASCII-armored in this package's keys/ folder
// (see keys/README.md for where they come from). openpgp is loaded only when a signature actually
// has to be checked: a warm run whose InRelease files were verified before never needs it.
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type * as openpgp from 'openpgp';

/** The keys/ folder of this package (next to dist/ and src/). */
export const BUNDLED_KEYS_DIR = fileURLToPath(new URL('../keys/', import.meta.url));

/** A public key given as armored text, binary bytes or an already-read openpgp key. */
export type TrustedKey = string | Uint8Array | openpgp.PublicKey;

/** The trusted keys, read on demand, and a digest of their source bytes. */
export interface TrustAnchors {
  /**
   * SHA256 over the keys exactly as given (their bytes, in order): a verification recorded under one
   * digest stands only for the same keys. Undefined when keys were given as parsed objects.
   */
  digest: string | undefined;
  /** The parsed public keys (loads openpgp the first time). */
  load(): Promise<openpgp.PublicKey[]>;
}

/** Reads every *.asc file in `dir` as armored public keys. */
export async function loadKeysFromDir(dir: string): Promise<openpgp.PublicKey[]> {
  const out: openpgp.PublicKey[] = [];
  for (const { text } of await readKeyFiles(dir)) out.push(...(await readKeys(text)));
  return out;
}

async function readKeyFiles(dir: string): Promise<Array<{ name: string; text: string }>> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.asc')).sort();
  return Promise.all(names.map(async (name) => ({ name, text: await readFile(join(dir, name), 'utf8') })));
}

async function readKeys(k: TrustedKey): Promise<openpgp.PublicKey[]> {
  if (typeof k === 'string' || k instanceof Uint8Array) {
    const openpgp = await import('openpgp');
    const keys = typeof k === 'string' ? await openpgp.readKeys({ armoredKeys: k }) : await openpgp.readKeys({ binaryKeys: k });
    return keys.map((x) => x.toPublic());
  }
  return [k];
}

/** Resolves the trust anchors: the given keys only, or else the bundled Debian keys. */
export async function loadTrustedKeys(keys?: TrustedKey[]): Promise<openpgp.PublicKey[]> {
  return (await trustAnchors(keys)).load();
}

/** The trust anchors without parsing them yet: the given keys only, or else the bundled Debian keys. */
export async function trustAnchors(keys?: TrustedKey[]): Promise<TrustAnchors> {
  const sources: TrustedKey[] = keys ?? (await readKeyFiles(BUNDLED_KEYS_DIR)).map((f) => f.text);
  const h = createHash('sha256').update(keys ? 'given\n' : `bundled\n`);
  let digest: string | undefined;
  if (sources.every((k) => typeof k === 'string' || k instanceof Uint8Array)) {
    for (const k of sources as Array<string | Uint8Array>) {
      const bytes = typeof k === 'string' ? Buffer.from(k, 'utf8') : k;
      h.update(`${bytes.length}\n`).update(bytes);
    }
    digest = h.digest('hex');
  }
  let loaded: Promise<openpgp.PublicKey[]> | undefined;
  const load = (): Promise<openpgp.PublicKey[]> => {
    loaded ??= (async () => (await Promise.all(sources.map(readKeys))).flat())();
    return loaded;
  };
  return { digest, load };
}
