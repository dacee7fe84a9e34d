// Names on FAT: long-name validation and the 8.3 short name ("basis name" + numeric tail ~N) that
// every long name is paired with (fatgen103, "Name Matching In Short & Long Names" and the
// basis-name generation algorithm).

/** Characters allowed in a short name besides A-Z and 0-9 (fatgen103, DIR_Name rules). */
const SHORT_SPECIALS = new Set([...'$%\'-_@~`!(){}^#&']);
/** Characters a long name cannot hold (fatgen103: plus control characters). */
const LONG_FORBIDDEN = /[\u0000-\u001f"*/:<>?\\|]/;
export const MAX_LONG_NAME = 255;

/** Why `name` cannot be a FAT long name, or undefined when it can. */
export function longNameProblem(name: string): string | undefined {
  if (name.length > MAX_LONG_NAME) return `longer than ${MAX_LONG_NAME} UTF-16 units`;
  const bad = LONG_FORBIDDEN.exec(name);
  if (bad) return `holds ${JSON.stringify(bad[0])}, which FAT does not allow in names`;
  if (/[. ]$/.test(name)) return 'ends with a dot or a space, which FAT strips';
  return undefined;
}

/** 11-byte DIR_Name of base + ext, space padded. */
function pack(base: string, ext: string): Uint8Array {
  const out = new Uint8Array(11).fill(0x20);
  for (let i = 0; i < base.length; i++) out[i] = base.charCodeAt(i);
  for (let i = 0; i < ext.length; i++) out[8 + i] = ext.charCodeAt(i);
  // A name starting with 0xE5 (free marker) is stored as 0x05 (fatgen103); only reachable via non-ASCII, not here.
  return out;
}

export function shortNameKey(n: Uint8Array): string {
  return Buffer.from(n).toString('latin1');
}

/** The short name for `name` in a directory whose short names so far are `taken`; whether a long name is needed. */
export function makeShortName(name: string, taken: Set<string>): { short: Uint8Array; needsLong: boolean } {
  let lossy = false;
  const conv = (s: string): string => {
    let out = '';
    for (const ch of s.toUpperCase()) {
      if (ch === ' ') { lossy = true; continue; }
      if ((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || SHORT_SPECIALS.has(ch)) out += ch;
      else { out += '_'; lossy = true; }
    }
    return out;
  };
  const stripped = name.replace(/^\.+/, (m) => { if (m) lossy = true; return ''; });
  const dot = stripped.lastIndexOf('.');
  const rawBase = dot >= 0 ? stripped.slice(0, dot) : stripped;
  const rawExt = dot >= 0 ? stripped.slice(dot + 1) : '';
  let base = conv(rawBase.replace(/\./g, () => { lossy = true; return ''; }));
  let ext = conv(rawExt);
  const fits = base.length >= 1 && base.length <= 8 && ext.length <= 3;
  if (base.length === 0) base = '_';
  base = base.slice(0, 8);
  ext = ext.slice(0, 3);
  const exact = fits && !lossy && (ext ? `${base}.${ext}` : base) === name;
  const plain = pack(base, ext);
  if (!lossy && fits && !taken.has(shortNameKey(plain))) {
    return { short: plain, needsLong: !exact };
  }
  // Numeric tail: BASIS~N, the basis shortened so that "~N" fits in 8 characters.
  for (let n = 1; n < 1_000_000; n++) {
    const tail = `~${n}`;
    const cand = pack(base.slice(0, 8 - tail.length) + tail, ext);
    if (!taken.has(shortNameKey(cand))) return { short: cand, needsLong: true };
  }
  throw new Error(`no free short name for ${name}`); // a million clashes in one directory
}

/** Whether `label` can be a volume label (short-name characters and spaces, at most 11). */
export function labelBytes(label: string): Uint8Array | undefined {
  const up = label.toUpperCase();
  if (up.length > 11 || up.length === 0) return undefined;
  for (const ch of up) {
    if (!(ch === ' ' || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || SHORT_SPECIALS.has(ch))) return undefined;
  }
  return Uint8Array.from(Buffer.from(up.padEnd(11, ' '), 'latin1'));
}
