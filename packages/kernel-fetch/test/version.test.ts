// Debian version comparison, checked against dpkg itself.
import { execFileSync } from 'node:child_process';
import t from 'tap';
import { compareVersions, parseVersion, satisfiesVersion } from '../src/version.js';
import { parseRelations } from '../src/relation.js';

// [a, b, expected sign] — classic cases from dpkg's own test suite and Debian Policy §5.6.12.
const CASES: [string, string, number][] = [
  ['1.0', '1.0', 0],
  ['1.0', '1.1', -1],
  ['1.0-1', '1.0-2', -1],
  ['1:1.0', '2.0', 1],
  ['0:1.0', '1.0', 0],
  ['1.0~rc1', '1.0', -1],
  ['1.0~~', '1.0~', -1],
  ['1.0~', '1.0', -1],
  ['1.0', '1.0+b1', -1],
  ['1.0+dfsg', '1.0', 1],
  ['1.0a', '1.0', 1],
  ['1.0.1', '1.0a', 1], // punctuation sorts after letters,
  ['1.10', '1.9', 1],
  ['1.001', '1.1', 0],
  ['2.36-9+deb12u1', '2.36-9', 1],
  ['2.36-9+deb12u10', '2.36-9+deb12u9', 1],
  ['1.2-1~deb12u1', '1.2-1', -1],
  ['6.1.140-1', '6.1.99-1', 1],
  ['1:1.35.0-4+b3', '1.36', 1],
  ['17.0.21.1+2-1~deb12u1', '17.0.21+9-1', 1],
  ['a', 'B', 1],
  ['1.0-1', '1.0-1.1', -1],
  ['1.0-', '1.0', 0],
  ['1-2-3', '1-2-4', -1],
  ['0.0.0+', '0.0.0', 1],
  ['1.0.', '1.0', 1],
];

const dpkg = (a: string, op: string, b: string): boolean => {
  try {
    execFileSync('dpkg', ['--compare-versions', a, op, b], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

t.test('compareVersions agrees with the table and with dpkg --compare-versions', async (t) => {
  for (const [a, b, want] of CASES) {
    t.equal(compareVersions(a, b), want, `${a} vs ${b}`);
    t.equal(compareVersions(b, a), -want, `${b} vs ${a}`);
    const dpkgSays = dpkg(a, 'lt', b) ? -1 : dpkg(a, 'gt', b) ? 1 : 0;
    t.equal(dpkgSays, want, `dpkg agrees on ${a} vs ${b}`);
  }
});

t.test('a seeded random sweep agrees with dpkg', async (t) => {
  let seed = 12345;
  const rnd = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) >>> 16) % n;
  const parts = ['0', '1', '2', '10', '01', 'a', 'b', '~', '+', '.', '~rc', '+b1', 'z'];
  const make = (): string => {
    let s = String(rnd(3));
    for (let i = rnd(5); i > 0; i--) s += parts[rnd(parts.length)];
    if (rnd(3) === 0) s = `${rnd(3)}:${s}`;
    if (rnd(2) === 0) s += `-${rnd(4)}${parts[rnd(parts.length)]}`;
    return s;
  };
  const pairs: [string, string][] = [];
  for (let i = 0; i < 60; i++) pairs.push([make(), make()]);
  // One dpkg call per pair is slow; a shell loop prints all answers at once.
  const script = pairs.map(([a, b]) => `if dpkg --compare-versions '${a}' lt '${b}'; then echo -1; elif dpkg --compare-versions '${a}' eq '${b}'; then echo 0; else echo 1; fi`).join('\n');
  const answers = execFileSync('sh', ['-c', script], { encoding: 'utf8' }).trim().split('\n').map(Number);
  pairs.forEach(([a, b], i) => t.equal(compareVersions(a, b), answers[i], `${a} vs ${b} (seed 12345, pair ${i})`));
});

t.test('parseVersion and satisfiesVersion', async (t) => {
  t.same(parseVersion('1:2.3-4-5'), { epoch: 1, upstream: '2.3-4', revision: '5' });
  t.same(parseVersion('2.3'), { epoch: 0, upstream: '2.3', revision: '' });
  t.throws(() => parseVersion('x:1.0'), /epoch "x" is not a number/);
  t.ok(satisfiesVersion('2.36-9', '>=', '2.36'));
  t.notOk(satisfiesVersion('2.36-9', '>>', '2.36-9'));
  t.ok(satisfiesVersion('2.36-9', '<<', '2.36-9+deb12u1'));
  t.ok(satisfiesVersion('1.0', '=', '0:1.0'));
  t.notOk(satisfiesVersion('1.0', '<=', '1.0~'));
});

t.test('parseRelations: clauses, alternatives, constraints, qualifiers', async (t) => {
  t.same(parseRelations('libc6 (>= 2.34), libfoo:any (<< 2~) | libbar, python3:any, x (>2)'), [
    [{ name: 'libc6', op: '>=', version: '2.34' }],
    [{ name: 'libfoo', archQualifier: 'any', op: '<<', version: '2~' }, { name: 'libbar' }],
    [{ name: 'python3', archQualifier: 'any' }],
    [{ name: 'x', op: '>=', version: '2' }],
  ]);
  t.same(parseRelations('a [amd64], b [!amd64], c [i386] | d'), [[{ name: 'a' }], [{ name: 'd' }]]);
  t.same(parseRelations(''), []);
  t.throws(() => parseRelations('libc6 (>= )'), /bad relation/);
  t.throws(() => parseRelations('Bad_Name'), /bad relation/);
});
