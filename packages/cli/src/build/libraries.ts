// The shared libraries an image needs: the DT_NEEDED closure of every ELF in it (the app, or the
// JRE's launcher and native libraries), found the way ld.so will find them at boot, inside Debian
// packages. A library no unpacked package has is looked up in the archive's Contents index, its
// package fetched, and the search retried.
import { lstatSync, statSync } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { inspectElf, isElfMagic, type ElfInfo } from '../app/elf.js';
import { MissingLibraryError } from '../app/errors.js';
import { libraryCandidates, resolveInRoots, resolveLibraryClosure } from '../app/libs.js';
import { mergedUsrPaths } from '../merged-usr.js';

/** A directory tree placed in the image at `imagePath` (e.g. the jlinked JRE at usr/lib/jvm/jre). */
export interface PlacedTree { hostDir: string; imagePath: string }

export interface LibraryPlan {
  /** Library files to copy into the image: image path -> host path. */
  files: Map<string, string>;
  /** The dynamic loader, when any ELF is dynamically linked. */
  interpreter?: { imagePath: string; hostPath: string };
}

export interface LibraryRequest {
  /** ELF files in the image: host path -> image path of the file. */
  elfs: Array<{ hostPath: string; imagePath: string }>;
  /** Trees already in the image (their own libraries satisfy $ORIGIN RUNPATHs). */
  placed: PlacedTree[];
  /** Unpacked Debian packages to search, in order. */
  roots: string[];
  /** Fetches the package that ships `soname` and returns its unpacked directory, or undefined. */
  provide?: (soname: string) => Promise<string | undefined>;
}

function imageDir(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** Resolves the closure of every ELF; returns the files to add (outside the placed trees). */
export async function planLibraries(req: LibraryRequest): Promise<LibraryPlan> {
  const files = new Map<string, string>();
  const imagePathOf = new Map<string, string>(req.elfs.map((e) => [e.hostPath, e.imagePath]));
  const roots = [...req.roots];
  let interpreter: LibraryPlan['interpreter'];

  // Where a list of candidate paths leads depends only on the roots (and the unchanging files), so
  // a search is done once per candidate list while the roots stay the same; every ELF of a JRE asks
  // for libc.so.6 and friends again. A repeated search replays the same map updates, in order.
  const searches = new Map<string, Promise<{ host: string; candidate: string; placed: boolean } | undefined>>();
  const search = async (candidates: string[]): Promise<{ host: string; candidate: string; placed: boolean } | undefined> => {
    for (const candidate of candidates) {
      // Inside a placed tree (e.g. libjvm.so via the JRE's $ORIGIN RUNPATH): already in the image.
      const placed = req.placed.find((p) => candidate === p.imagePath || candidate.startsWith(p.imagePath + '/'));
      if (placed) {
        const host = join(placed.hostDir, candidate.slice(placed.imagePath.length));
        if (statSync(host, { throwIfNoEntry: false })?.isFile()) return { host, candidate, placed: true };
        continue;
      }
      const host = await resolveInRoots(roots, candidate);
      if (host !== undefined && lstatSync(host).isFile()) return { host, candidate, placed: false };
    }
    return undefined;
  };
  const lookupOnce = async (soname: string, neededBy: ElfInfo): Promise<string | undefined> => {
    const origin = imagePathOf.get(neededBy.path);
    const candidates = libraryCandidates(soname, neededBy, { imageDirOf: () => (origin === undefined ? undefined : imageDir(origin)) });
    const key = candidates.join('\0');
    let found = searches.get(key);
    if (!found) searches.set(key, (found = search(candidates)));
    const r = await found;
    if (!r) return undefined;
    if (!r.placed) files.set(r.candidate, r.host);
    imagePathOf.set(r.host, r.candidate);
    return r.host;
  };

  // A library a placed tree ships under that name, wherever it sits: the JRE's launcher dlopen()s
  // lib/server/libjvm.so by path, and ld.so then satisfies libjava.so's DT_NEEDED libjvm.so with it.
  const shippedIn = new Map<string, string>();
  for (const tree of req.placed) {
    for (const [imagePath, hostPath] of await filesBelow(tree)) {
      const name = imagePath.slice(imagePath.lastIndexOf('/') + 1);
      if (!shippedIn.has(name)) shippedIn.set(name, hostPath);
    }
  }

  const lookup = async (soname: string, neededBy: ElfInfo): Promise<string | undefined> => {
    const found = (await lookupOnce(soname, neededBy)) ?? shippedIn.get(soname);
    if (found !== undefined || !req.provide) return found;
    const root = await req.provide(soname);
    if (root === undefined) return undefined;
    roots.push(root);
    searches.clear(); // a new root can change where a search ends
    return lookupOnce(soname, neededBy);
  };

  // Every ELF of a JRE needs libc.so.6 and friends again: each file's headers are read once. The
  // ELFs themselves are read ahead, all at once (reads are many and small); their closures are
  // still resolved one after another, in order, so the plan does not depend on timing.
  const inspected = new Map<string, Promise<ElfInfo>>();
  const inspect = (path: string): Promise<ElfInfo> => {
    let info = inspected.get(path);
    if (!info) inspected.set(path, (info = inspectElf(path)));
    return info;
  };
  const heads = req.elfs.map((elf) => {
    const head = hasElfMagic(elf.hostPath).then((isElf) => (isElf ? inspect(elf.hostPath) : undefined));
    head.catch(() => undefined); // awaited in order below; don't report it unhandled meanwhile
    return head;
  });
  for (const head of heads) {
    const info = await head;
    if (!info) continue;
    const closure = await resolveLibraryClosure(info, lookup, inspect);
    for (const e of [info, ...closure.libraries.map((l) => l.info)]) {
      if (!e.interpreter || interpreter) continue;
      const rel = e.interpreter.replace(/^\/+/, '');
      // Merged-/usr packages (trixie's libc6) ship /usr/lib64/ld-linux-x86-64.so.2 and leave the
      // /lib64 link to base-files: the image still gets the loader at the path PT_INTERP names.
      const [bookworm, merged] = mergedUsrPaths(rel);
      const host = (await resolveInRoots(roots, bookworm)) ?? (await resolveInRoots(roots, merged));
      if (!host) throw new MissingLibraryError(e.interpreter, e.path);
      interpreter = { imagePath: rel, hostPath: host };
    }
  }
  return { files, ...(interpreter ? { interpreter } : {}) };
}

async function hasElfMagic(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0);
    return bytesRead === 4 && isElfMagic(head);
  } finally {
    await fh.close();
  }
}

/** Regular files of a placed tree: image path -> host path, in sorted order. */
async function filesBelow(tree: PlacedTree): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(tree.hostDir, rel), { withFileTypes: true });
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else if (e.isFile()) out.push([`${tree.imagePath}/${r}`, join(tree.hostDir, r)]);
    }
  };
  await walk('');
  return out;
}
