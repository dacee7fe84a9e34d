// Boot-time configuration in one dotenv format, parsed inside the machine by busybox awk (the only
// interpreter there). The awk programs print `export KEY='value'` lines for the init script to
// eval; a malformed line becomes a `# mkimage-init: ...` comment line, which the init script shows
// on the console (by line number, never its value: values may be secrets) and eval ignores.
//
// Format: `KEY=VALUE` per line, optional `export ` prefix, `#` comment lines and blank lines.
// VALUE is unquoted (trimmed; ` #` starts a comment), 'single-quoted' (literal), or "double-quoted"
// (escapes \n \t \r \" \\ \$; may span lines until the closing quote).

/** Shared awk helpers: shell single-quoting. */
const AWK_QUOTE = String.raw`
function shq(s) { gsub(/'/, "'\\''", s); return "'" s "'" }
function emit(k, v) { print "export " k "=" shq(v) }
function bad(n, why) { printf "# mkimage-init: %s line %d: %s; line skipped\n", src, n, why }
`;

/** Parses a dotenv file given as the awk input; `src` (awk -v) names it in messages. */
export const DOTENV_AWK = AWK_QUOTE + String.raw`
BEGIN { inq = 0 }
{
  sub(/\r$/, "")
  if (inq) {
    line = $0; rest = line
    if (dq_scan(rest)) { inq = 0; if (dq_tail_ok()) emit(key, val); else bad(NR, "text after the closing quote") } else { val = val "\n" }
    next
  }
  line = $0
  sub(/^[ \t]+/, "", line)
  if (line == "" || substr(line, 1, 1) == "#") next
  sub(/^export[ \t]+/, "", line)
  eq = index(line, "=")
  if (eq == 0) { bad(NR, "expected KEY=VALUE"); next }
  key = substr(line, 1, eq - 1); sub(/[ \t]+$/, "", key)
  if (key !~ /^[A-Za-z_][A-Za-z0-9_]*$/) { bad(NR, "invalid variable name"); next }
  v = substr(line, eq + 1); sub(/^[ \t]+/, "", v)
  c = substr(v, 1, 1)
  if (c == "'") {
    end = index(substr(v, 2), "'")
    if (end == 0) { bad(NR, "unterminated single quote"); next }
    tail = substr(v, end + 2); sub(/^[ \t]+/, "", tail)
    if (tail != "" && substr(tail, 1, 1) != "#") { bad(NR, "text after the closing quote"); next }
    emit(key, substr(v, 2, end - 1)); next
  }
  if (c == "\"") {
    val = ""; startline = NR
    if (!dq_scan(substr(v, 2))) { inq = 1; val = val "\n" }
    else if (dq_tail_ok()) emit(key, val)
    else bad(NR, "text after the closing quote")
    next
  }
  sub(/[ \t]+#.*$/, "", v); sub(/[ \t]+$/, "", v)
  emit(key, v)
}
END { if (inq) bad(startline, "unterminated double quote") }
# After a closing quote only blanks or a comment may follow.
function dq_tail_ok(    t) { t = dqrest; sub(/^[ \t]+/, "", t); return t == "" || substr(t, 1, 1) == "#" }
# Appends the double-quoted text in s to val, handling escapes; 1 when the closing quote was seen.
function dq_scan(s,    i, ch, nx) {
  for (i = 1; i <= length(s); i++) {
    ch = substr(s, i, 1)
    if (ch == "\\" && i < length(s)) {
      nx = substr(s, ++i, 1)
      if (nx == "n") val = val "\n"; else if (nx == "t") val = val "\t"; else if (nx == "r") val = val "\r"
      else if (nx == "\"" || nx == "\\" || nx == "$") val = val nx; else val = val "\\" nx
    } else if (ch == "\"") {
      dqrest = substr(s, i + 1)
      return 1
    } else val = val ch
  }
  return 0
}
`;

/**
 * Reads `mkimage.env.KEY=VALUE` words from the kernel command line (the kernel does not put dotted
 * parameters into init's environment). Words follow the kernel's own rule: double quotes group
 * spaces and are removed, nothing is escaped.
 */
export const CMDLINE_AWK = AWK_QUOTE + String.raw`
{
  s = $0; n = length(s); w = ""; inq = 0; have = 0
  for (i = 1; i <= n + 1; i++) {
    ch = (i <= n) ? substr(s, i, 1) : " "
    if (ch == "\"") { inq = !inq; have = 1; continue }
    if (!inq && (ch == " " || ch == "\t" || ch == "\n")) { if (have) word(w); w = ""; have = 0; continue }
    w = w ch; have = 1
  }
}
function word(w,    eq, k) {
  if (substr(w, 1, 12) != "mkimage.env.") return
  eq = index(w, "="); if (eq == 0) return
  k = substr(w, 13, eq - 13)
  if (k !~ /^[A-Za-z_][A-Za-z0-9_]*$/) { bad(0, "invalid variable name in mkimage.env." k); return }
  emit(k, substr(w, eq + 1))
}
`;
