// What the builder needs from a JAR: Main-Class, Multi-Release, Class-Path from the manifest, and
// the newest class file version inside (so it can warn when the app needs a newer JDK).
import { ManifestError, NoMainClassError } from './errors.js';
import { getHeader, parseManifest, ManifestSyntaxError, type Manifest } from './manifest.js';
import { ZipReader, type ZipEntry } from './zip.js';

export interface JarInfo {
  path: string;
  /** Main-Class of the main section; undefined when the JAR is not runnable with `java -jar`. */
  mainClass?: string;
  /** Multi-Release: true (JAR spec): classes under META-INF/versions/N/ override the base ones on Java N+. */
  multiRelease: boolean;
  /** Class-Path: relative URLs of other JARs, split on spaces. */
  classPath?: string[];
  /** Number of entries in the central directory. */
  entries: number;
  /** Highest class file major version among the base (non-versioned) classes read, e.g. 61. */
  classMajor?: number;
  /** The Java release that major version needs (major - 44: 52 -> 8, 61 -> 17). */
  javaRelease?: number;
  /** How many .class headers were read (bounded by maxClassFiles). */
  classFilesRead: number;
  /** Main-section headers as written (names keep their case). Empty without a manifest. */
  attributes: Record<string, string>;
  /** The whole parsed manifest, if there is one. */
  manifest?: Manifest;
  /** The archive uses zip64 structures. */
  zip64: boolean;
}

export interface InspectJarOptions {
  /** At most this many class headers are read, spread evenly over the archive. Default 512. */
  maxClassFiles?: number;
}

export const MANIFEST_NAME = 'META-INF/MANIFEST.MF';
/** Manifests are small; refuse to inflate a huge one (a zip bomb, or not a JAR). */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** JVM spec §4.1: ClassFile.magic. */
export const CLASS_MAGIC = 0xcafebabe;
/** JVM spec §4.1: major_version 45 is JDK 1.1; each release since Java 5 (49) adds one. */
const MAJOR_TO_RELEASE = 44;
/** JAR spec: versioned entries of a multi-release JAR live under this prefix. */
const VERSIONS_PREFIX = 'META-INF/versions/';

/** Inspects the JAR at `path`. Throws ZipFormatError (not a ZIP, or corrupt) or ManifestError. */
export async function inspectJar(path: string, opts: InspectJarOptions = {}): Promise<JarInfo> {
  const zip = await ZipReader.open(path);
  try {
    return await inspectOpenJar(zip, path, opts);
  } finally {
    await zip.close();
  }
}

async function inspectOpenJar(zip: ZipReader, path: string, opts: InspectJarOptions): Promise<JarInfo> {
  const entries = zip.entries;
  // The JDK finds the manifest by exact name; accept other cases too (some tools write them).
  const manifestEntry = entries.find((e) => e.name === MANIFEST_NAME)
    ?? entries.find((e) => e.name.toUpperCase() === MANIFEST_NAME);
  const info: JarInfo = { path, multiRelease: false, entries: entries.length, classFilesRead: 0, attributes: {}, zip64: zip.directory.zip64 };

  if (manifestEntry) {
    const bytes = await zip.read(manifestEntry, MAX_MANIFEST_BYTES);
    let manifest: Manifest;
    try {
      manifest = parseManifest(bytes);
    } catch (err) {
      if (err instanceof ManifestSyntaxError) throw new ManifestError(path, err.line, err.reason);
      throw err;
    }
    info.manifest = manifest;
    for (const h of manifest.main.headers) info.attributes[h.name] = h.value;
    const mainClass = getHeader(manifest.main, 'Main-Class')?.trim();
    if (mainClass) info.mainClass = mainClass;
    info.multiRelease = getHeader(manifest.main, 'Multi-Release')?.trim().toLowerCase() === 'true';
    const classPath = getHeader(manifest.main, 'Class-Path')?.split(' ').filter((s) => s !== '');
    if (classPath && classPath.length > 0) info.classPath = classPath;
  }

  // Class versions: base classes only (versioned ones are allowed to need a newer JVM by design).
  const classes = entries.filter((e) => e.name.endsWith('.class') && !e.name.startsWith(VERSIONS_PREFIX));
  let maxMajor: number | undefined;
  for (const entry of sample(classes, opts.maxClassFiles ?? 512)) {
    const major = await classMajor(zip, entry);
    info.classFilesRead++;
    if (major !== undefined && (maxMajor === undefined || major > maxMajor)) maxMajor = major;
  }
  if (maxMajor !== undefined) {
    info.classMajor = maxMajor;
    info.javaRelease = maxMajor - MAJOR_TO_RELEASE;
  }
  return info;
}

/** The major_version of a class entry, or undefined when it does not start with CAFEBABE. */
async function classMajor(zip: ZipReader, entry: ZipEntry): Promise<number | undefined> {
  const head = await zip.readHead(entry, 8);
  if (head.length < 8 || head.readUInt32BE(0) !== CLASS_MAGIC) return undefined;
  return head.readUInt16BE(6); // u4 magic, u2 minor_version, u2 major_version (JVM spec §4.1)
}

/** At most `max` items spread evenly over `items`, always including the first (deterministic). */
function sample<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  if (max <= 0) return [];
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(items[Math.floor((i * items.length) / max)]!);
  return out;
}

/** Throws NoMainClassError unless the JAR can be started with `java -jar`. */
export function requireMainClass(info: JarInfo): asserts info is JarInfo & { mainClass: string } {
  if (!info.mainClass) throw new NoMainClassError(info.path, info.manifest !== undefined, info.manifest?.ignoredLastLine);
}
