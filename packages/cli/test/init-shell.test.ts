import t from 'tap';
import { execFileSync } from 'node:child_process';
import { shQuote, shWords, splitWords } from '../src/init/shell.js';

const tricky = ['plain', 'a b', "it's", '$HOME', '`id`', 'back\\slash', 'new\nline', '', '"dq"', '*', '-x'];

t.test('quoted words reach a POSIX shell verbatim', async (t) => {
  const out = execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${shWords(tricky)}`]);
  t.same(out.toString('utf8').split('\0').slice(0, -1), tricky);
});

t.test('safe words stay unquoted; NUL is refused', async (t) => {
  t.equal(shQuote('-Xmx256m'), '-Xmx256m');
  t.equal(shQuote('a b'), "'a b'");
  t.throws(() => shQuote('a\0b'), { code: 'E_BAD_ARGUMENT' });
});

t.test('splitWords parses option strings like a shell would', async (t) => {
  t.same(splitWords(`-Xmx256m  -Dgreeting='hello world' -Dq="a \\"b\\"" x\\ y`), ['-Xmx256m', '-Dgreeting=hello world', '-Dq=a "b"', 'x y']);
  t.same(splitWords('   '), []);
  t.same(splitWords("''"), ['']);
  t.throws(() => splitWords("'open"), { code: 'E_BAD_ARGUMENT' });
});
