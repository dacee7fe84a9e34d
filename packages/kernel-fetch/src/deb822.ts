// The deb822 control format (Debian Policy §5.1): paragraphs of `Field: value` lines separated by
// blank lines; a line starting with space or tab continues the previous field. Field names are
// case-insensitive, so paragraphs are keyed by the lower-cased name.

/** One paragraph: lower-cased field name -> value (continuation lines joined with '\n'). */
export type Paragraph = Record<string, string>;

export interface Deb822Options {
  /** Skip lines starting with '#' (allowed in apt's .sources files, not in archive indexes). */
  comments?: boolean;
}

/** Parses a whole deb822 text into its paragraphs. Throws a plain Error naming the line on junk. */
export function parseDeb822(text: string, opts: Deb822Options = {}): Paragraph[] {
  const out: Paragraph[] = [];
  let cur: Paragraph | undefined;
  let last: string | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (opts.comments && line.startsWith('#')) continue;
    if (line.trim() === '') {
      if (cur) out.push(cur);
      cur = undefined;
      last = undefined;
      continue;
    }
    if (line[0] === ' ' || line[0] === '\t') {
      if (!cur || last === undefined) throw new Error(`line ${i + 1}: continuation line without a field`);
      cur[last] += '\n' + line.slice(1);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`line ${i + 1}: expected "Field: value", got ${JSON.stringify(line.slice(0, 60))}`);
    cur ??= {};
    last = line.slice(0, colon).toLowerCase();
    cur[last] = line.slice(colon + 1).trim();
  }
  if (cur) out.push(cur);
  return out;
}

/** Formats one paragraph (fields in the given order; multi-line values indented by one space). */
export function formatParagraph(fields: [name: string, value: string][]): string {
  let s = '';
  for (const [name, value] of fields) {
    const [first, ...rest] = value.split('\n');
    s += `${name}: ${first}\n`;
    for (const r of rest) s += ` ${r === '' ? '.' : r}\n`;
  }
  return s;
}
