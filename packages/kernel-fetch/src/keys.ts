// Trust anchors: Debian's archive signing keys, shipped ASCII-armored in this package's keys/ folder
// (see keys/README.md for where they come from).
import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import * as openpgp from 'openpgp';

/** The keys/ folder of this package (next to dist/ and src/). */
export const BUNDLED_KEYS_DIR = fileURLToPath(new URL('../keys/', import.meta.url));

/** A public key given as armored text, binary bytes or an already-read openpgp key. */
export type TrustedKey = string | Uint8Array | openpgp.PublicKey;

/** Reads every *.asc file in `dir` as armored public keys. */
export async function loadKeysFromDir(dir: string): Promise<openpgp.PublicKey[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.asc')).sort();
  const out: openpgp.PublicKey[] = [];
  for (const n of names) out.push(...(await readKeys(await readFile(join(dir, n), 'utf8'))));
  return out;
}

async function readKeys(k: TrustedKey): Promise<openpgp.PublicKey[]> {
  if (typeof k === 'string') return (await openpgp.readKeys({ armoredKeys: k })).map((x) => x.toPublic());
  if (k instanceof Uint8Array) return (await openpgp.readKeys({ binaryKeys: k })).map((x) => x.toPublic());
  return [k];
}

/** Resolves the trust anchors: the given keys only, or else the bundled Debian keys. */
export async function loadTrustedKeys(keys?: TrustedKey[]): Promise<openpgp.PublicKey[]> {
  if (!keys) return loadKeysFromDir(BUNDLED_KEYS_DIR);
  const out: openpgp.PublicKey[] = [];
  for (const k of keys) out.push(...(await readKeys(k)));
  return out;
}
