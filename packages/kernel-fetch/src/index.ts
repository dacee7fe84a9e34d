// @mkimage/kernel-fetch: a verified Debian archive client.
export { openArchive, Archive, defaultSuites, type ArchiveOptions, type ResolvedPackage } from './archive.js';
export { resolveKernel, type KernelResolution } from './kernel-package.js';
export { readLockFile, writeLockFile, parseLock, formatLock, LOCK_FILE_NAME, type LockEntry } from './lockfile.js';
export { compareVersions, satisfiesVersion, parseVersion, type RelationOp, type ParsedVersion } from './version.js';
export { parseRelations, type Alternative, type Clause } from './relation.js';
export { findMirrors, readAptSources, parseSourcesList, parseDeb822Sources, type AptSource, type MirrorChoice, type MirrorOptions } from './sources.js';
export { verifyInRelease, type Release, type ReleaseFileEntry } from './release.js';
export { loadTrustedKeys, BUNDLED_KEYS_DIR, type TrustedKey } from './keys.js';
export { defaultCacheDir } from './cache.js';
export type { IndexFile } from './suite.js';
export type { ProgressEvent } from './transport.js';
export { mirrorUrl } from './transport.js';
export { parseDeb822, type Paragraph } from './deb822.js';
export * from './errors.js';
export * from './compress/index.js';
export * from './deb/index.js';
export * from './kernel/index.js';
export * from './contents/index.js';
