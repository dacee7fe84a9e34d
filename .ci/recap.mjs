// Passes the TAP stream through unchanged and, just before tap's closing summary line, repeats
// every failure (the subtest path, the failing line and its YAML diagnostics). CI logs are often
// shown only from the end, where a failure reported mid-stream would otherwise be out of sight.
import { createInterface } from 'node:readline';

const MAX_DIAG_LINES = 40;
const SUMMARY = /^# \{ total:/;
const SUBTEST = /^(\s*)# Subtest: (.*)$/;
const NOT_OK = /^(\s*)not ok \d+ - (.*)$/;

const failures = [];
const path = []; // [indent, name] of the enclosing subtests
let diag = null; // the failure whose YAML block is being read, with its indent

for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (SUMMARY.test(line) && failures.length > 0) {
    process.stdout.write(`# ${failures.length} failing line(s), repeated here:\n`);
    for (const f of failures) process.stdout.write(`${f.lines.join('\n')}\n`);
  }
  process.stdout.write(`${line}\n`);

  if (diag) {
    const inside = line.trim() === '' || (line.startsWith(diag.indent) && line.length > diag.indent.length);
    if (inside && diag.lines.length > 0 && diag.lines.length < MAX_DIAG_LINES) diag.lines.push(`    ${line.trim() === '' ? '' : line.slice(diag.indent.length)}`);
    if (!inside || line.trim() === '...') diag = null;
    if (diag || inside) continue;
  }
  const sub = SUBTEST.exec(line);
  if (sub) {
    const indent = sub[1].length;
    while (path.length && path[path.length - 1][0] >= indent) path.pop();
    path.push([indent, sub[2]]);
    continue;
  }
  const bad = NOT_OK.exec(line);
  if (bad) {
    const indent = bad[1].length;
    const names = path.filter(([i]) => i < indent).map(([, n]) => n);
    const own = [...names, bad[2].replace(/ # time=.*$/, '')];
    // A subtest fails because a child did: the child's entry already names it.
    if (failures.some((f) => f.path.length > own.length && own.every((n, k) => f.path[k] === n))) {
      diag = { indent: `${bad[1]}  `, lines: [] };
      continue;
    }
    const lines = [`# not ok: ${own.join(' > ')}`];
    failures.push({ path: own, lines });
    diag = { indent: `${bad[1]}  `, lines };
  }
}
