// Debian's merged /usr (trixie on): packages ship usr/bin, usr/lib and usr/lib64 where bookworm's
// shipped bin, lib and lib64 (the top-level names are base-files' symlinks then). Code that looks
// for a file inside an unpacked package tries both places, bookworm's first.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';

/** `rel` (relative to a package root) and its merged-/usr place, in the order to try them. */
export function mergedUsrPaths(rel: string): [string, string] {
  return [rel, `usr/${rel}`];
}

/** The first existing of `rel`'s two places under `root`, or undefined. */
export async function findInPackage(root: string, rel: string): Promise<string | undefined> {
  for (const p of mergedUsrPaths(rel).map((r) => join(root, r))) {
    if (await stat(p).catch(() => undefined)) return p;
  }
  return undefined;
}
