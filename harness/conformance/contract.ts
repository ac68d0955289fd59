// The contract as data (specs/conformance/vfio-migration.yaml): clauses, each with the statement in
// our words, where the uAPI says it (the linux/vfio.h comment and the kernel that added it), which
// side it binds, the states and flags it concerns, and the named check that executes it. Loading
// validates everything (the schema specs/schemas/conformance-contract.schema.json, then what it
// cannot say), so a malformed file is one line and exit 2, before anything runs.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCitation } from '../util/citations.ts';
import { UsageError } from '../util/usage-error.ts';
import { readYaml, validateDoc } from '../util/yamlSchema.ts';
import type { MIG_FLAG, MigState } from '../vfio/types.ts';

export const CONFORMANCE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../specs/conformance');
export const DEFAULT_CONTRACT = resolve(CONFORMANCE_DIR, 'vfio-migration.yaml');

export type Side = 'driver' | 'vmm';
export type FlagName = keyof typeof MIG_FLAG;

export interface Clause {
  id: string;
  title: string;
  binds: Side;
  /** the uAPI statement, in our own words */
  statement: string;
  source: {
    /** the linux/vfio.h comment it comes from */
    header: string;
    /** kernel version that added the text (v5.18, v6.2) */
    since: string;
    /** the upstream commit that added it: `commit <id> (vX.Y)` */
    commit: string;
  };
  applies: {
    /** the states the clause concerns ('all' = every state the device supports) */
    states: MigState[] | 'all';
    /** flags the device must advertise for the clause to apply */
    flags: FlagName[];
  };
  check: { name: string; params: Record<string, unknown> };
}

export interface Contract {
  file: string;
  name: string;
  clauses: Clause[];
}

/** A check's parameter validation: throws a message (the loader prefixes file and clause). */
export type ParamCheck = (params: Record<string, unknown>) => void;

/** A contract file as the schema (specs/schemas/conformance-contract.schema.json) lets it through. */
interface ContractDoc {
  name: string;
  clauses: (Omit<Clause, 'applies' | 'check'> & { applies?: Partial<Clause['applies']>; check: { name: string; params?: Record<string, unknown> } })[];
}

export function loadContract(file = DEFAULT_CONTRACT, checks?: ReadonlyMap<string, ParamCheck>): Contract {
  return parseContract(readYaml('conformance-contract', file), file, checks);
}

/**
 * A contract from a parsed document. The shape (keys, ids, sides, versions, states, flags, check
 * names) is the schema's; here what it cannot say: repeated ids, the source commit as a citation,
 * and each check's own parameters.
 */
export function parseContract(doc: unknown, file: string, checks?: ReadonlyMap<string, ParamCheck>): Contract {
  validateDoc('conformance-contract', doc, file);
  const d = doc as ContractDoc;
  const seen = new Set<string>();
  const clauses = d.clauses.map((c, i): Clause => {
    const at = `${file}: clauses[${i}]`;
    if (seen.has(c.id)) throw new UsageError(`${at}.id: '${c.id}' is already used by an earlier clause`);
    seen.add(c.id);
    const commit = parseCitation(c.source.commit);
    if ('error' in commit || commit.kind !== 'commit') {
      throw new UsageError(`${at}.source.commit: expected 'commit <12-40 hex> (vX.Y)', got ${JSON.stringify(c.source.commit)}`);
    }
    const params = c.check.params ?? {};
    const validate = checks?.get(c.check.name);
    if (checks && !validate) throw new Error(`check '${c.check.name}' is in the contract schema but not in harness/conformance/checks`);
    try {
      validate?.(params);
    } catch (e) {
      throw new UsageError(`${at}.check.params: ${(e as Error).message}`);
    }
    return {
      id: c.id, title: c.title.trim(), binds: c.binds, statement: c.statement.trim(),
      source: { header: c.source.header, since: c.source.since, commit: c.source.commit },
      applies: { states: c.applies?.states ?? 'all', flags: c.applies?.flags ?? ['STOP_COPY'] },
      check: { name: c.check.name, params },
    };
  });
  return { file, name: d.name, clauses };
}

/** Select clauses by id (comma list); unknown ids are bad input. */
export function selectClauses(c: Contract, ids: string[] | null): Clause[] {
  if (!ids) return c.clauses;
  const known = new Set(c.clauses.map((x) => x.id));
  const bad = ids.filter((id) => !known.has(id));
  if (bad.length) throw new UsageError(`unknown clause ${bad.join(', ')} (clauses: ${[...known].join(', ')})`);
  return c.clauses.filter((x) => ids.includes(x.id));
}
