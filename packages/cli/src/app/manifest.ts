// META-INF/MANIFEST.MF parser, following the JAR File Specification ("Manifest Specification")
// and matching what the JDK's java.util.jar.Manifest accepts, so that a manifest we accept is one
// `java -jar` accepts too:
//   section:  *header +newline
//   header:   name ": " value, continued on following lines that start with one SPACE
//   newline:  CR LF | LF | CR (not followed by LF)
//   name:     alphanum *headerchar, at most 70 bytes; headerchar: alphanum | "-" | "_"
// Continuations are joined as bytes before UTF-8 decoding: writers split lines at 72 bytes, which
// can fall inside a multi-byte character.

/** JDK java.util.jar.Manifest reads lines into a 512-byte buffer; longer lines are "line too long". */
export const MAX_LINE_BYTES = 512;
/** JAR spec: a header name is 1 to 70 bytes (java.util.jar.Attributes.Name). */
export const MAX_NAME_BYTES = 70;

export interface ManifestSection {
  /** The value of `Name:` for per-entry sections; undefined for the main section. */
  name?: string;
  /** Header names as written, in order. Look up with get(). */
  headers: { name: string; value: string }[];
}

export interface Manifest {
  main: ManifestSection;
  sections: ManifestSection[];
  /** A last line with no newline, ignored as the JDK ignores it (a common hand-written mistake). */
  ignoredLastLine?: string;
}

export class ManifestSyntaxError extends Error {
  constructor(readonly line: number, readonly reason: string) {
    super(`line ${line}: ${reason}`);
  }
}

/** Header names compare case-insensitively (JAR spec). Returns the first match. */
export function getHeader(section: ManifestSection, name: string): string | undefined {
  const want = name.toLowerCase();
  return section.headers.find((h) => h.name.toLowerCase() === want)?.value;
}

const SPACE = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const COLON = 0x3a;

function isHeaderChar(b: number, first: boolean): boolean {
  const alnum = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
  return alnum || (!first && (b === 0x2d || b === 0x5f));
}

/**
 * Splits into lines, each without its newline. A last line without a newline is returned apart:
 * the JDK silently ignores it (so a Main-Class there gives "no main manifest attribute").
 */
function splitLines(bytes: Uint8Array): { lines: Uint8Array[]; unterminated?: Uint8Array } {
  const lines: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b !== CR && b !== LF) continue;
    const line = bytes.subarray(start, i);
    if (b === CR && bytes[i + 1] === LF) i++;
    if (i + 1 - start > MAX_LINE_BYTES) throw new ManifestSyntaxError(lines.length + 1, `line is longer than ${MAX_LINE_BYTES} bytes (continue it on the next line after a space)`);
    lines.push(line);
    start = i + 1;
  }
  return start < bytes.length ? { lines, unterminated: bytes.subarray(start) } : { lines };
}

/** Parses manifest bytes. Throws ManifestSyntaxError naming the line (1-based) and what is wrong. */
export function parseManifest(bytes: Uint8Array): Manifest {
  const { lines, unterminated } = splitLines(bytes);
  // The main section starts at the first line; every later section after a blank line.
  const main: ManifestSection = { headers: [] };
  const sections: ManifestSection[] = [main];
  let current: ManifestSection | undefined = main;
  let pending: { name: string; value: Uint8Array[]; line: number } | undefined;

  const flush = () => {
    if (!pending || !current) return;
    const value = Buffer.concat(pending.value).toString('utf8');
    if (current !== main && current.headers.length === 0) {
      // Per-entry sections start with Name (JDK: "invalid manifest format" otherwise).
      if (pending.name.toLowerCase() !== 'name') throw new ManifestSyntaxError(pending.line, `a section must start with "Name:", found "${pending.name}:"`);
      current.name = value;
    }
    current.headers.push({ name: pending.name, value });
    pending = undefined;
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const lineNo = i + 1;
    if (line.length === 0) {
      // A blank line ends a section; runs of blank lines between sections are allowed.
      flush();
      current = undefined;
      continue;
    }
    if (line[0] === SPACE) {
      if (!pending) throw new ManifestSyntaxError(lineNo, 'continuation line (starting with a space) with no header before it');
      pending.value.push(line.subarray(1));
      continue;
    }
    flush();
    if (!current) {
      current = { headers: [] };
      sections.push(current);
    }
    const colon = line.indexOf(COLON);
    if (colon <= 0) throw new ManifestSyntaxError(lineNo, 'expected "Name: value"');
    if (line[colon + 1] !== SPACE) throw new ManifestSyntaxError(lineNo, 'a header name must be followed by ": " (colon and space)');
    const nameBytes = line.subarray(0, colon);
    if (nameBytes.length > MAX_NAME_BYTES) throw new ManifestSyntaxError(lineNo, `header name longer than ${MAX_NAME_BYTES} bytes`);
    for (let j = 0; j < nameBytes.length; j++) {
      if (!isHeaderChar(nameBytes[j]!, j === 0)) throw new ManifestSyntaxError(lineNo, `invalid character in header name "${Buffer.from(nameBytes).toString('latin1')}"`);
    }
    pending = { name: Buffer.from(nameBytes).toString('ascii'), value: [line.subarray(colon + 2)], line: lineNo };
  }
  flush();
  const manifest: Manifest = { main, sections: sections.slice(1) };
  if (unterminated) manifest.ignoredLastLine = Buffer.from(unterminated).toString('utf8');
  return manifest;
}
