// Debian version comparison, as dpkg does it (Debian Policy §5.6.12; dpkg lib/dpkg/version.c
// `dpkg_version_compare` and `verrevcmp`). A version is [epoch:]upstream[-revision].

export interface ParsedVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

/** Splits a version into epoch, upstream version and Debian revision. */
export function parseVersion(v: string): ParsedVersion {
  const s = v.trim();
  let epoch = 0;
  let rest = s;
  const colon = s.indexOf(':');
  if (colon >= 0) {
    const e = s.slice(0, colon);
    if (!/^\d+$/.test(e)) throw new Error(`version ${JSON.stringify(v)}: epoch ${JSON.stringify(e)} is not a number`);
    epoch = Number(e);
    rest = s.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  if (dash >= 0) return { epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1) };
  return { epoch, upstream: rest, revision: '' };
}

/** Sort weight of one character in the non-digit part: '~' sorts before everything, even the end. */
function order(c: number): number {
  if (c >= 0x30 && c <= 0x39) return 0; // digit: never reached in the non-digit loop
  if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return c; // letters sort by ASCII
  if (c === 0x7e) return -1; // '~'
  if (c) return c + 256; // other punctuation after all letters
  return 0; // end of string
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/** dpkg's `verrevcmp`: alternating non-digit and digit runs. */
function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a.charCodeAt(i))) || (j < b.length && !isDigit(b.charCodeAt(j)))) {
      const ac = i < a.length ? order(a.charCodeAt(i)) : 0;
      const bc = j < b.length ? order(b.charCodeAt(j)) : 0;
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (i < a.length && a.charCodeAt(i) === 0x30) i++;
    while (j < b.length && b.charCodeAt(j) === 0x30) j++;
    while (i < a.length && isDigit(a.charCodeAt(i)) && j < b.length && isDigit(b.charCodeAt(j))) {
      if (!firstDiff) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (i < a.length && isDigit(a.charCodeAt(i))) return 1;
    if (j < b.length && isDigit(b.charCodeAt(j))) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

/** Compares two Debian versions: negative when a < b, 0 when equal, positive when a > b. */
export function compareVersions(a: string, b: string): number {
  const va = parseVersion(a);
  const vb = parseVersion(b);
  if (va.epoch !== vb.epoch) return va.epoch > vb.epoch ? 1 : -1;
  const u = verrevcmp(va.upstream, vb.upstream);
  if (u) return Math.sign(u);
  return Math.sign(verrevcmp(va.revision, vb.revision));
}

/** A version relation operator as written in Depends (Policy §7.1); '<' and '>' are the deprecated forms. */
export type RelationOp = '<<' | '<=' | '=' | '>=' | '>>';

/** True when `version` satisfies `op ref`. */
export function satisfiesVersion(version: string, op: RelationOp, ref: string): boolean {
  const c = compareVersions(version, ref);
  switch (op) {
    case '<<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '=':
      return c === 0;
    case '>=':
      return c >= 0;
    case '>>':
      return c > 0;
  }
}
