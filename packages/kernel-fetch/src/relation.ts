// Package relationship fields (Debian Policy §7.1): `Depends: a (>= 1.0) | b, c:any`.
// A field is an AND-list of clauses; each clause is an OR-list of alternatives.
import type { RelationOp } from './version.js';

export interface Alternative {
  /** Package name without any `:arch` qualifier. */
  name: string;
  /** Version constraint, when given. */
  op?: RelationOp;
  version?: string;
  /** The `:any`/`:native`/`:amd64` qualifier, when given (amd64-only here, so it changes nothing). */
  archQualifier?: string;
}

/** One comma-separated clause: satisfied when any alternative is. */
export type Clause = Alternative[];

const OPS: Record<string, RelationOp> = { '<<': '<<', '<=': '<=', '=': '=', '>=': '>=', '>>': '>>', '<': '<=', '>': '>=' };

// name[:arch] [(op version)] [[arch list]] [<profiles>]
const ALT = /^([a-z0-9][a-z0-9+.-]*)(?::([a-z0-9-]+))?\s*(?:\(\s*(<<|<=|=|>=|>>|<|>)\s*([A-Za-z0-9][^)\s]*)\s*\))?\s*(?:\[([^\]]*)\])?\s*(?:<[^>]*>\s*)*$/;

/** Parses one Depends-style field. Throws an Error naming the bad part. */
export function parseRelations(field: string | undefined): Clause[] {
  if (!field) return [];
  const out: Clause[] = [];
  for (const rawClause of field.split(',')) {
    const clauseText = rawClause.trim();
    if (!clauseText) continue;
    const clause: Clause = [];
    for (const rawAlt of clauseText.split('|')) {
      const text = rawAlt.trim().replace(/\s+/g, ' ');
      const m = ALT.exec(text);
      if (!m) throw new Error(`bad relation ${JSON.stringify(text)}`);
      // An architecture restriction list only appears in source packages; honour it for amd64 anyway.
      if (m[5] !== undefined && !archListMatches(m[5], 'amd64')) continue;
      const alt: Alternative = { name: m[1]! };
      if (m[2]) alt.archQualifier = m[2];
      if (m[3]) {
        alt.op = OPS[m[3]]!;
        alt.version = m[4]!;
      }
      clause.push(alt);
    }
    if (clause.length) out.push(clause);
  }
  return out;
}

function archListMatches(list: string, arch: string): boolean {
  const items = list.trim().split(/\s+/);
  const negated = items.every((a) => a.startsWith('!'));
  if (negated) return !items.includes('!' + arch);
  return items.includes(arch) || items.includes('any') || items.includes('linux-any');
}

/** Formats an alternative back to its Depends spelling (for messages). */
export function formatAlternative(a: Alternative): string {
  return a.op ? `${a.name} (${a.op} ${a.version})` : a.name;
}

/** Formats a clause back to its Depends spelling (for messages). */
export function formatClause(c: Clause): string {
  return c.map(formatAlternative).join(' | ');
}
