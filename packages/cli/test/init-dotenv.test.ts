// The boot-time dotenv parser runs in busybox awk inside the machine. Here it runs in the host's awk
// and, when the Debian busybox is available, in that busybox; the exports it prints are evaluated
// by a POSIX shell and the resulting environment compared with what the file meant.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CMDLINE_AWK, DOTENV_AWK } from '../src/init/dotenv.js';

const dir = mkdtempSync(join(tmpdir(), 'mkimage-dotenv-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const program = join(dir, 'dotenv.awk');
writeFileSync(program, DOTENV_AWK);
const cmdlineProgram = join(dir, 'cmdline.awk');
writeFileSync(cmdlineProgram, CMDLINE_AWK);

/** awk implementations to check: the host's, and busybox's when a busybox binary is around. */
const awks: Array<[string, string[]]> = [['host awk', ['awk']]];
const busybox = process.env.MKIMAGE_TEST_BUSYBOX;
if (busybox && existsSync(busybox)) awks.push(['busybox awk', [busybox, 'awk']]);
else t.comment('busybox awk not checked here: set MKIMAGE_TEST_BUSYBOX (the boot tests exercise it in the guest)');

function parse(awk: string[], program: string, input: string, src = 'test'): { env: Record<string, string>; comments: string[] } {
  const file = join(dir, 'input');
  writeFileSync(file, input);
  const out = execFileSync(awk[0]!, [...awk.slice(1), '-v', `src=${src}`, '-f', program, file], { encoding: 'utf8' });
  // Evaluate exactly as the init script does, then dump the environment NUL-separated.
  const r = spawnSync('/usr/bin/env', ['-i', '/bin/sh', '-c', `eval "$1"; env -0`, 'sh', out], { encoding: 'utf8' });
  const env: Record<string, string> = {};
  for (const kv of r.stdout.split('\0').filter(Boolean)) {
    const i = kv.indexOf('=');
    if (!['PWD', 'SHLVL', '_', 'OLDPWD'].includes(kv.slice(0, i))) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return { env, comments: out.split('\n').filter((l) => l.startsWith('# ')) };
}

for (const [name, awk] of awks) {
  t.test(`${name}: values, quotes, escapes, comments`, async (t) => {
    const { env, comments } = parse(awk, program, [
      '# a comment', '', 'PLAIN=hello world  ', 'export EXPORTED=yes', 'TRAILING=value # comment',
      "SINGLE='its' ", `LITERAL='$HOME \\n "x"'`, 'DOUBLE="line1\\nline2\\t\\"q\\" \\$HOME \\\\"',
      'MULTI="first', 'second"', 'EMPTY=', 'QUOTE_IN_VALUE=a\'b', '  INDENTED = spaced', 'CRLF=dos\r', 'URL=http://x/?a=b#frag',
    ].join('\n'));
    t.same(env, {
      PLAIN: 'hello world', EXPORTED: 'yes', TRAILING: 'value', SINGLE: 'its', LITERAL: '$HOME \\n "x"',
      DOUBLE: 'line1\nline2\t"q" $HOME \\', MULTI: 'first\nsecond', EMPTY: '', QUOTE_IN_VALUE: "a'b",
      INDENTED: 'spaced', CRLF: 'dos', URL: 'http://x/?a=b#frag',
    });
    t.same(comments, []);
  });

  t.test(`${name}: malformed lines are reported by number, without their values, and skipped`, async (t) => {
    const { env, comments } = parse(awk, program, ['GOOD=1', 'no equals sign SECRET', '1BAD=x', "OPEN='secret", 'AFTER=2', 'TEXT="x" y', 'LAST="never closed secret'].join('\n'), 'fw_cfg');
    t.same(env, { GOOD: '1', AFTER: '2' });
    t.same(comments, [
      '# mkimage-init: fw_cfg line 2: expected KEY=VALUE; line skipped',
      '# mkimage-init: fw_cfg line 3: invalid variable name; line skipped',
      '# mkimage-init: fw_cfg line 4: unterminated single quote; line skipped',
      '# mkimage-init: fw_cfg line 6: text after the closing quote; line skipped',
      '# mkimage-init: fw_cfg line 7: unterminated double quote; line skipped',
    ]);
    t.notMatch(comments.join('\n'), /secret/, 'values never reach the console');
  });

  t.test(`${name}: mkimage.env.* words from the kernel command line`, async (t) => {
    const { env } = parse(awk, cmdlineProgram, 'console=ttyS0 mkimage.env.A=1 quiet mkimage.env.GREETING="hello world" mkimage.envX=no mkimage.env.EQ=a=b "mkimage.env.Q=x y"\n');
    t.same(env, { A: '1', GREETING: 'hello world', EQ: 'a=b', Q: 'x y' });
  });
}
