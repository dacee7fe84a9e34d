// The `control` file of a .deb: deb-control(5), a single deb822 paragraph.
//   Field: value
//    continuation lines start with a space or tab; " ." stands for an empty line.

/** Field names as written (e.g. "Package", "Depends") -> values; continuation lines joined by "\n". */
export type DebControl = Record<string, string>;

/** Parses a control paragraph; returns a reason string for malformed text. */
export function parseControl(text: string): DebControl | string {
  const out: DebControl = {};
  let last: string | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line === '') {
      if (lines.slice(i + 1).some((l) => l.trim() !== '')) return `line ${i + 1}: more than one paragraph`;
      break;
    }
    if (line.startsWith('#')) continue;
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (last === undefined) return `line ${i + 1}: continuation line before any field`;
      out[last] += `\n${line.slice(1)}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return `line ${i + 1}: expected "Field: value", got ${JSON.stringify(line.slice(0, 60))}`;
    last = line.slice(0, colon);
    if (Object.hasOwn(out, last)) return `line ${i + 1}: duplicate field ${last}`;
    out[last] = line.slice(colon + 1).trim();
  }
  return out;
}
