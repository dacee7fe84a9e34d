// Quoting for the POSIX shell (busybox ash) that runs the generated init scripts.

/** Quotes a value so the shell reads it back verbatim: spaces, quotes, `$`, newlines included. */
export function shQuote(value: string): string {
  if (value.includes('\0')) throw Object.assign(new Error(`a NUL byte cannot be passed through the init stage: ${JSON.stringify(value)}`), { code: 'E_BAD_ARGUMENT' });
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A shell command line whose words reach the program exactly as given. */
export function shWords(words: readonly string[]): string {
  return words.map(shQuote).join(' ');
}

/**
 * Splits an option string like `--java-opts "-Xmx256m -Dgreeting='hello world'"` into words,
 * honouring single quotes, double quotes and backslash escapes as a POSIX shell would (without
 * expansions).
 */
export function splitWords(input: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (c === "'") {
      const end = input.indexOf("'", i + 1);
      if (end < 0) throw Object.assign(new Error(`unterminated single quote in: ${input}`), { code: 'E_BAD_ARGUMENT' });
      cur += input.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      i++;
      for (; i < input.length && input[i] !== '"'; i++) {
        if (input[i] === '\\' && i + 1 < input.length && '"\\$`'.includes(input[i + 1]!)) i++;
        cur += input[i];
      }
      if (i >= input.length) throw Object.assign(new Error(`unterminated double quote in: ${input}`), { code: 'E_BAD_ARGUMENT' });
      inWord = true;
    } else if (c === '\\' && i + 1 < input.length) {
      cur += input[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/** Environment variable names the shell can export. */
export function isEnvName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}
