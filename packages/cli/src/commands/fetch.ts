// `mkimage fetch <package...>`: resolve, download and verify Debian packages; optionally extract them.
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { extractDeb, openArchive, ttyProgress, type ResolvedPackage } from '@mkimage/kernel-fetch';

interface FetchArgs {
  packages: string[];
  extract?: string;
  closure: boolean;
  suite: string;
  mirror?: string;
  'security-mirror'?: string;
  'cache-dir'?: string;
  offline: boolean;
  lock?: string;
  'update-lock': boolean;
  keyring?: string[];
}

/** pnpm runs scripts from the workspace root; the user's relative paths mean their own directory. */
const userPath = (p: string): string => resolve(process.env['INIT_CWD'] ?? process.cwd(), p);

class OutputExistsError extends Error {
  readonly code = 'E_OUTPUT_EXISTS';
  constructor(readonly data: { path: string }) {
    super(`${data.path} exists and is not empty; --extract needs a new or empty directory`);
  }
}

export const fetchCommand: CommandModule<object, FetchArgs> = {
  command: 'fetch <packages..>',
  describe: 'Resolve, download and verify Debian packages (amd64); print name, version, suite and SHA256',
  builder: (y) =>
    y
      .positional('packages', { type: 'string', array: true, demandOption: true, describe: 'package names, or name=version' })
      .option('extract', { type: 'string', describe: 'unpack every package into this new directory, like dpkg-deb -x' })
      .option('closure', { type: 'boolean', default: false, describe: 'also fetch the Depends/Pre-Depends closure' })
      .option('suite', { type: 'string', default: 'bookworm', describe: 'Debian suite; its -updates and -security suites are searched too' })
      .option('mirror', { type: 'string', describe: 'Debian mirror URL (http, https, file); default MKIMAGE_DEBIAN_MIRROR, then apt sources' })
      .option('security-mirror', { type: 'string', describe: 'security archive URL; default MKIMAGE_DEBIAN_SECURITY_MIRROR, then apt sources' })
      .option('cache-dir', { type: 'string', describe: 'cache directory (default $XDG_CACHE_HOME/mkimage)' })
      .option('offline', { type: 'boolean', default: false, describe: 'make no network request; use only the cache' })
      .option('lock', { type: 'string', describe: 'lockfile: use exactly the versions it lists (written when absent)' })
      .option('update-lock', { type: 'boolean', default: false, describe: 'resolve afresh and rewrite the lockfile (default ./mkimage.lock)' })
      .option('keyring', { type: 'string', array: true, describe: 'trust these ASCII-armored public keys instead of the bundled Debian archive keys' }) as never,
  handler: async (argv) => {
    const lockFile = argv.lock ? userPath(argv.lock) : argv['update-lock'] ? userPath('mkimage.lock') : undefined;
    // A lock that exists is used, not rewritten, unless --update-lock says so.
    const writeLock = !!lockFile && (argv['update-lock'] || !existsSync(lockFile));
    const trustedKeys = argv.keyring ? await Promise.all(argv.keyring.map((k) => readFile(userPath(k), 'utf8'))) : undefined;
    const archive = await openArchive({
      suite: argv.suite,
      mirror: argv.mirror,
      securityMirror: argv['security-mirror'],
      cacheDir: argv['cache-dir'] ? userPath(argv['cache-dir']) : undefined,
      offline: argv.offline,
      lockFile,
      updateLock: argv['update-lock'],
      trustedKeys,
      onProgress: ttyProgress(),
    });
    const packages = await archive.resolve(argv.packages, { closure: argv.closure });
    const debs = new Map<ResolvedPackage, string>();
    for (const p of packages) debs.set(p, await archive.download(p));
    if (argv.extract) await extractAll(userPath(argv.extract), debs);
    if (writeLock) await archive.saveLock();
    const w = Math.max(...packages.map((p) => p.name.length));
    const v = Math.max(...packages.map((p) => p.version.length));
    const s = Math.max(...packages.map((p) => p.suite.length));
    for (const p of packages) {
      process.stdout.write(`${p.name.padEnd(w)}  ${p.version.padEnd(v)}  ${p.suite.padEnd(s)}  ${p.sha256}\n`);
    }
  },
};

/** Extracts into a temp directory beside `dest`, then renames: `dest` appears complete or not at all. */
async function extractAll(dest: string, debs: Map<ResolvedPackage, string>): Promise<void> {
  let existing: string[] | undefined;
  try {
    existing = await readdir(dest);
  } catch {
    /* absent: fine */
  }
  if (existing && existing.length) throw new OutputExistsError({ path: dest });
  // Parents we create are removed again on failure, so a failed run leaves no trace at all.
  const createdParent = await mkdir(dirname(dest), { recursive: true });
  const tmp = join(dirname(dest), `.${basename(dest)}.mkimage-${process.pid}.tmp`);
  await rm(tmp, { recursive: true, force: true });
  let done = false;
  try {
    for (const [pkg, deb] of debs) {
      await extractDeb(deb, tmp, { verified: true }).catch((err: unknown) => { // downloaded through the archive: SHA256 checked
        // The extractor names the cached file; say which package that is.
        if (err instanceof Error) err.message = `${pkg.name} ${pkg.version}: ${err.message}`;
        throw err;
      });
    }
    await mkdir(tmp, { recursive: true }); // even an empty package set yields the directory
    if (existing) await rmdir(dest);
    await rename(tmp, dest);
    done = true;
  } finally {
    await rm(tmp, { recursive: true, force: true });
    if (!done && createdParent) await rm(createdParent, { recursive: true, force: true });
  }
}
