// Dependency resolution: package names -> exact versions, optionally with the Depends/Pre-Depends
// closure. Greedy and deterministic, like a first pass of apt without backtracking: for each
// unsatisfied clause take the first alternative that has a usable candidate (a real package's newest
// satisfying version, else a provider). A package is selected once; a dependency loop therefore just
// meets an already-selected package and stops (dpkg itself installs loops like libc6 <-> libgcc-s1).
import { UnsatisfiableError, NotFoundError } from './errors.js';
import type { PackageIndexView } from './compact-index.js';
import type { PackageRecord } from './packages-index.js';
import { formatClause, parseRelations, type Alternative, type Clause } from './relation.js';
import { compareVersions, satisfiesVersion, type RelationOp } from './version.js';

/** A package as found in one suite. */
export interface Candidate extends PackageRecord {
  suite: string;
}

interface Provision {
  cand: Candidate;
  version?: string;
}

/** Every package of the searched suites, by name, newest version first. Looked up lazily. */
export class PackageUniverse {
  private readonly cands = new Map<string, Candidate[]>();
  private readonly provs = new Map<string, Provision[]>();
  private readonly made = new Map<PackageRecord, Candidate>();
  readonly suites: string[];

  /** `sources` in priority order: on equal versions the earlier suite's copy is kept. */
  constructor(private readonly sources: { suite: string; index: PackageIndexView }[]) {
    this.suites = sources.map((s) => s.suite);
  }

  /** One Candidate object per record, so identity comparisons hold. */
  private candidate(r: PackageRecord, suite: string): Candidate {
    let c = this.made.get(r);
    if (!c) this.made.set(r, (c = { ...r, suite }));
    return c;
  }

  /** Real packages of that name, newest first. */
  candidates(name: string): readonly Candidate[] {
    let list = this.cands.get(name);
    if (!list) {
      list = [];
      for (const { suite, index } of this.sources) {
        for (const r of index.byName(name)) if (!list.some((c) => c.version === r.version)) list.push(this.candidate(r, suite));
      }
      list.sort((a, b) => compareVersions(b.version, a.version));
      this.cands.set(name, list);
    }
    return list;
  }

  /** Packages whose Provides names `name` (with the provided version, if any). */
  providers(name: string): readonly Provision[] {
    let list = this.provs.get(name);
    if (!list) {
      list = [];
      for (const { suite, index } of this.sources) {
        for (const p of index.providers(name)) {
          const cand = this.candidate(p.record, suite);
          list.push(p.version ? { cand, version: p.version } : { cand });
        }
      }
      this.provs.set(name, list);
    }
    return list;
  }
}

function addProvisions(index: Map<string, Provision[]>, cand: Candidate): void {
  for (const clause of parseRelations(cand.provides)) {
    for (const alt of clause) {
      const p: Provision = { cand };
      if (alt.op === '=' && alt.version) p.version = alt.version;
      const list = index.get(alt.name);
      if (list) list.push(p);
      else index.set(alt.name, [p]);
    }
  }
}

export interface ResolveOptions {
  /** Follow Depends and Pre-Depends (default false: just the named packages). */
  closure?: boolean;
  /** Exact packages to use for these names (from a lockfile); other versions of them are ignored. */
  pins?: ReadonlyMap<string, Candidate>;
}

/** A requested name, optionally `name=version` as apt spells it. */
function parseRequest(req: string): Alternative {
  const eq = req.indexOf('=');
  if (eq > 0) return { name: req.slice(0, eq), op: '=', version: req.slice(eq + 1) };
  return { name: req };
}

const describe = (c: Candidate): string => `${c.name} ${c.version}`;

/** Resolves `names`; the result is sorted by package name. */
export function resolvePackages(universe: PackageUniverse, names: string[], opts: ResolveOptions = {}): Candidate[] {
  const pins = opts.pins ?? new Map<string, Candidate>();
  const selected = new Map<string, Candidate>();
  const neededBy = new Map<string, string>();
  const provided = new Map<string, Provision[]>();
  const queue: Candidate[] = [];
  const where = universe.suites.join(', ');

  const candidates = (name: string): readonly Candidate[] => {
    const pin = pins.get(name);
    return pin ? [pin] : universe.candidates(name);
  };
  const providers = (name: string): Provision[] => {
    const out = universe.providers(name).filter((p) => {
      const pin = pins.get(p.cand.name);
      return !pin || pin.version === p.cand.version;
    });
    for (const pin of pins.values()) {
      if (!pin.provides || out.some((p) => p.cand === pin)) continue;
      if (universe.candidates(pin.name).some((c) => c.version === pin.version)) continue;
      const tmp = new Map<string, Provision[]>();
      addProvisions(tmp, pin);
      out.push(...(tmp.get(name) ?? []));
    }
    return out.sort((a, b) => (a.cand.name < b.cand.name ? -1 : a.cand.name > b.cand.name ? 1 : compareVersions(b.cand.version, a.cand.version)));
  };
  const select = (c: Candidate, by: string): void => {
    selected.set(c.name, c);
    neededBy.set(c.name, by);
    const tmp = new Map<string, Provision[]>();
    addProvisions(tmp, c);
    for (const [n, list] of tmp) provided.set(n, [...(provided.get(n) ?? []), ...list]);
    queue.push(c);
  };
  const okVersion = (version: string | undefined, alt: Alternative): boolean =>
    !alt.op || (version !== undefined && satisfiesVersion(version, alt.op as RelationOp, alt.version!));
  const isSatisfied = (alt: Alternative): boolean => {
    const s = selected.get(alt.name);
    if (s && okVersion(s.version, alt)) return true;
    return (provided.get(alt.name) ?? []).some((p) => okVersion(p.version, alt));
  };
  /** The candidate to select for `alt`, or a reason why there is none. */
  const choose = (alt: Alternative): Candidate | string => {
    const already = selected.get(alt.name);
    if (already) return `${describe(already)} is already selected (needed by ${neededBy.get(alt.name)})`;
    const real = candidates(alt.name);
    const hit = real.find((c) => okVersion(c.version, alt));
    if (hit) return hit;
    const provs = providers(alt.name).filter((p) => okVersion(p.version, alt));
    const prov = provs.find((p) => !selected.has(p.cand.name)) ?? provs[0];
    if (prov && !selected.has(prov.cand.name)) return prov.cand;
    if (real.length) {
      const pinned = pins.has(alt.name) ? ' (pinned by the lockfile; run with --update-lock)' : '';
      return `available ${alt.name} versions ${real.map((c) => c.version).join(', ')} do not satisfy ${alt.op} ${alt.version}${pinned}`;
    }
    if (universe.providers(alt.name).length) return `no provider of ${alt.name} satisfies ${alt.op ?? ''} ${alt.version ?? ''}`.trim();
    return `no package ${alt.name} in ${where}`;
  };

  for (const req of names) {
    const alt = parseRequest(req);
    if (isSatisfied(alt)) continue;
    if (!candidates(alt.name).length && !providers(alt.name).length) {
      throw new NotFoundError(`package ${alt.name} not found in ${where} (amd64); check the name (apt-cache search) or the suite`, {
        package: alt.name,
        suites: universe.suites,
      });
    }
    const real = candidates(alt.name);
    if (!real.length) {
      const provs = providers(alt.name).filter((p) => okVersion(p.version, alt));
      const names = [...new Set(provs.map((p) => p.cand.name))];
      if (names.length !== 1) {
        throw new NotFoundError(`${alt.name} is a virtual package provided by ${names.join(', ') || 'nothing usable'}; name one of them`, {
          package: alt.name,
          providers: names,
        });
      }
    }
    const c = choose(alt);
    if (typeof c === 'string') throw new NotFoundError(`package ${req}: ${c}`, { package: alt.name });
    select(c, 'the request');
  }

  if (opts.closure) {
    while (queue.length) {
      const pkg = queue.shift()!;
      let clauses: Clause[];
      try {
        clauses = [...parseRelations(pkg.preDepends), ...parseRelations(pkg.depends)];
      } catch (err) {
        throw new UnsatisfiableError(`${describe(pkg)} (${pkg.suite}): cannot read its dependencies: ${(err as Error).message}`, { package: pkg.name });
      }
      for (const clause of clauses) {
        if (clause.some(isSatisfied)) continue;
        const reasons: string[] = [];
        let picked: Candidate | undefined;
        for (const alt of clause) {
          const c = choose(alt);
          if (typeof c === 'string') reasons.push(c);
          else {
            picked = c;
            break;
          }
        }
        if (!picked) {
          throw new UnsatisfiableError(`${describe(pkg)} (${pkg.suite}) depends on "${formatClause(clause)}", which cannot be satisfied: ${reasons.join('; ')}`, {
            package: pkg.name,
            version: pkg.version,
            dependency: formatClause(clause),
            reasons,
          });
        }
        select(picked, describe(pkg));
      }
    }
  }
  return [...selected.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
