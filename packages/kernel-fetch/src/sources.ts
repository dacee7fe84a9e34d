// Finding a Debian mirror: explicit option > environment variable > the host's apt sources.
// apt reads `sources.list` and `sources.list.d/*.list` (one-line format) and `sources.list.d/*.sources`
// (deb822 format); see sources.list(5). Files with other suffixes are ignored, as apt does.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseDeb822 } from './deb822.js';
import { NoMirrorError } from './errors.js';

/** One `deb` entry of the apt configuration. */
export interface AptSource {
  types: string[];
  uris: string[];
  suites: string[];
  components: string[];
  enabled: boolean;
  /** The file (and line, for one-line entries) it came from, for messages. */
  origin: string;
}

/** Parses the one-line format: `deb [opt=val ...] URI suite [component...]`. */
export function parseSourcesList(text: string, origin: string): AptSource[] {
  const out: AptSource[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) return;
    const m = /^(\S+)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)(.*)$/.exec(line);
    if (!m) return; // apt would refuse the file; we just skip what we cannot read
    out.push({
      types: [m[1]!],
      uris: [m[3]!],
      suites: [m[4]!],
      components: m[5]!.trim().split(/\s+/).filter(Boolean),
      enabled: true,
      origin: `${origin}:${i + 1}`,
    });
  });
  return out;
}

/** Parses the deb822 format of `*.sources` files. */
export function parseDeb822Sources(text: string, origin: string): AptSource[] {
  let paragraphs;
  try {
    paragraphs = parseDeb822(text, { comments: true });
  } catch {
    return [];
  }
  const words = (v: string | undefined): string[] => (v ?? '').split(/\s+/).filter(Boolean);
  return paragraphs.map((p) => ({
    types: words(p['types']),
    uris: words(p['uris']),
    suites: words(p['suites']),
    components: words(p['components']),
    enabled: !/^(no|false|0)$/i.test(p['enabled'] ?? 'yes'),
    origin,
  }));
}

/** Reads every apt source under `aptDir` (normally /etc/apt). Unreadable files are skipped. */
export function readAptSources(aptDir = '/etc/apt'): AptSource[] {
  const out: AptSource[] = [];
  const read = (p: string): string | undefined => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return undefined;
    }
  };
  const main = read(join(aptDir, 'sources.list'));
  if (main !== undefined) out.push(...parseSourcesList(main, join(aptDir, 'sources.list')));
  let names: string[] = [];
  try {
    names = readdirSync(join(aptDir, 'sources.list.d')).sort();
  } catch {
    /* no directory */
  }
  for (const name of names) {
    const p = join(aptDir, 'sources.list.d', name);
    if (name.endsWith('.list')) out.push(...parseSourcesList(read(p) ?? '', p));
    else if (name.endsWith('.sources')) out.push(...parseDeb822Sources(read(p) ?? '', p));
  }
  return out;
}

// Suite names of the Debian archive itself, to tell it apart from third-party repositories in apt
// sources when no entry names the requested suite exactly.
const DEBIAN_SUITE = /^(buster|bullseye|bookworm|trixie|forky|duke|sid|experimental|oldoldstable|oldstable|stable|testing|unstable)(-updates|-backports|-proposed-updates|-security)?$/;

/** Normalises a mirror URL (no trailing slash) and checks its scheme. */
export function normaliseMirror(url: string, origin: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new NoMirrorError(`mirror ${JSON.stringify(url)} (from ${origin}) is not a URL; give e.g. --mirror http://<host>/debian or file:///path/to/mirror`, { url, origin });
  }
  if (!['http:', 'https:', 'file:'].includes(u.protocol)) {
    throw new NoMirrorError(`mirror ${url} (from ${origin}): only http://, https:// and file:// mirrors are supported`, { url, origin });
  }
  return url.replace(/\/+$/, '');
}

function usable(s: AptSource): boolean {
  return s.enabled && s.types.includes('deb') && s.uris.some((u) => /^(https?|file):/.test(u));
}

function pickApt(sources: AptSource[], suite: string, security: boolean): { url: string; origin: string } | undefined {
  const cands = sources.filter(usable);
  const exact = cands.find((s) => s.suites.includes(suite));
  const fallback = cands.find((s) =>
    s.suites.some((x) => DEBIAN_SUITE.test(x) && x.endsWith('-security') === security),
  );
  const hit = exact ?? fallback;
  if (!hit) return undefined;
  const url = hit.uris.find((u) => /^(https?|file):/.test(u))!;
  return { url, origin: hit.origin };
}

export interface MirrorOptions {
  /** The main suite, e.g. 'bookworm'. */
  suite: string;
  mirror?: string;
  securityMirror?: string;
  /** Environment to read MKIMAGE_DEBIAN_MIRROR / MKIMAGE_DEBIAN_SECURITY_MIRROR from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Where apt's configuration lives (default /etc/apt); `false` skips apt sources. */
  aptDir?: string | false;
}

export interface MirrorChoice {
  url: string;
  /** Where the URL came from: 'option', the variable name, an apt sources file, or 'main mirror'. */
  origin: string;
}

/**
 * Picks the main and security mirrors. The security mirror falls back to the main mirror (one archive
 * serving every suite, as a local file:// copy does); fetching `<suite>-security` there fails with a
 * message naming --security-mirror if it does not.
 */
export function findMirrors(opts: MirrorOptions): { mirror: MirrorChoice; security: MirrorChoice } {
  const env = opts.env ?? process.env;
  const apt = opts.aptDir === false ? [] : readAptSources(opts.aptDir);
  let mirror: MirrorChoice | undefined;
  if (opts.mirror) mirror = { url: opts.mirror, origin: '--mirror' };
  else if (env['MKIMAGE_DEBIAN_MIRROR']) mirror = { url: env['MKIMAGE_DEBIAN_MIRROR'], origin: 'MKIMAGE_DEBIAN_MIRROR' };
  else {
    const hit = pickApt(apt, opts.suite, false);
    if (hit) mirror = hit;
  }
  if (!mirror) {
    throw new NoMirrorError(
      `no Debian mirror for ${opts.suite}: pass --mirror URL or set MKIMAGE_DEBIAN_MIRROR (e.g. http://<host>/debian or file:///path/to/mirror), or add a deb line for ${opts.suite} to the apt sources`,
      { suite: opts.suite },
    );
  }
  mirror.url = normaliseMirror(mirror.url, mirror.origin);
  let security: MirrorChoice | undefined;
  if (opts.securityMirror) security = { url: opts.securityMirror, origin: '--security-mirror' };
  else if (env['MKIMAGE_DEBIAN_SECURITY_MIRROR']) security = { url: env['MKIMAGE_DEBIAN_SECURITY_MIRROR'], origin: 'MKIMAGE_DEBIAN_SECURITY_MIRROR' };
  else security = pickApt(apt, `${opts.suite}-security`, true);
  security ??= { url: mirror.url, origin: 'main mirror' };
  security.url = normaliseMirror(security.url, security.origin);
  return { mirror, security };
}
