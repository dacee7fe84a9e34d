// App inspection: what the user handed to `mkimage` (runnable JAR or x86-64 ELF) and what it needs.
export * from './errors.js';
export { inspectElf, isExecutable, type ElfInfo } from './elf.js';
export {
  resolveLibraryClosure, debianLibraryLookup, libraryCandidates, resolveInRoots, DEBIAN_AMD64_LIBRARY_DIRS,
  type LibraryLookup, type LibraryClosure, type ResolvedLibrary, type DebianLookupOptions,
} from './libs.js';
export { inspectJar, requireMainClass, MANIFEST_NAME, type JarInfo, type InspectJarOptions } from './jar.js';
export { parseManifest, getHeader, type Manifest, type ManifestSection } from './manifest.js';
export { ZipReader, type ZipEntry, type ZipDirectory } from './zip.js';
export { detectApp, type DetectedApp } from './detect.js';
