// The contract as data (specs/conformance/vfio-migration.yaml): clauses, each with the statement in
// our words, where the uAPI says it (the linux/vfio.h comment and the kernel that added it), which
// side it binds, the states and flags it concerns, and the named check that executes it. Loading
// validates everything, so a malformed file is one line and exit 2, before anything runs.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { parseCitation } from '../util/citations.ts';
import { UsageError } from '../util/usage-error.ts';
import { MIG_FLAG, MIG_STATE_NAMES, type MigState } from '../vfio/types.ts';

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

const ID_RE = /^[a-z][a-z0-9-]*$/;
const VERSION_RE = /^v\d+\.\d+(?:\.\d+)?$/;

export function loadContract(file = DEFAULT_CONTRACT, checks?: ReadonlyMap<string, ParamCheck>): Contract {
  let doc: unknown;
  try {
    doc = YAML.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`contract ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  return parseContract(doc, file, checks);
}

export function parseContract(doc: unknown, file: string, checks?: ReadonlyMap<string, ParamCheck>): Contract {
  const d = doc as { name?: unknown; clauses?: unknown } | null;
  if (!d || typeof d !== 'object') throw new UsageError(`contract ${file}: expected a mapping with 'name' and 'clauses'`);
  if (typeof d.name !== 'string') throw new UsageError(`contract ${file}: name: expected a string`);
  if (!Array.isArray(d.clauses) || d.clauses.length === 0) throw new UsageError(`contract ${file}: clauses: expected a non-empty list`);
  const seen = new Set<string>();
  const clauses = d.clauses.map((raw: unknown, i: number) => {
    const c = raw as Record<string, unknown>;
    const at = `contract ${file}: clause ${typeof c?.id === 'string' ? `'${c.id}'` : i + 1}`;
    const bad = (key: string, want: string, got: unknown): never => {
      throw new UsageError(`${at}: ${key}: expected ${want}, got ${JSON.stringify(got) ?? 'nothing'}`);
    };
    if (!c || typeof c !== 'object') bad('(entry)', 'a mapping', c);
    if (typeof c.id !== 'string' || !ID_RE.test(c.id)) bad('id', 'lower-case words joined by -', c.id);
    if (seen.has(c.id as string)) throw new UsageError(`${at}: id: duplicate`);
    seen.add(c.id as string);
    for (const k of ['title', 'statement'] as const) if (typeof c[k] !== 'string' || !(c[k] as string).trim()) bad(k, 'a non-empty string', c[k]);
    if (c.binds !== 'driver' && c.binds !== 'vmm') bad('binds', 'driver or vmm', c.binds);
    const src = c.source as Record<string, unknown> | undefined;
    if (!src || typeof src !== 'object') bad('source', 'a mapping with header, since, commit', src);
    if (typeof src!.header !== 'string' || !src!.header) bad('source.header', 'the linux/vfio.h comment it comes from', src!.header);
    if (typeof src!.since !== 'string' || !VERSION_RE.test(src!.since)) bad('source.since', 'a kernel version like v6.2', src!.since);
    const commit = typeof src!.commit === 'string' ? parseCitation(src!.commit) : null;
    if (!commit || 'error' in commit || commit.kind !== 'commit') bad('source.commit', "'commit <12-40 hex> (vX.Y)'", src!.commit);
    const ap = (c.applies ?? {}) as Record<string, unknown>;
    const states = ap.states ?? 'all';
    if (states !== 'all' && (!Array.isArray(states) || !states.every((s) => MIG_STATE_NAMES.includes(s as MigState)))) {
      bad('applies.states', `'all' or a list of ${MIG_STATE_NAMES.join(', ')}`, states);
    }
    const flags = ap.flags ?? ['STOP_COPY'];
    if (!Array.isArray(flags) || !flags.every((f) => Object.hasOwn(MIG_FLAG, f as string))) bad('applies.flags', `a list of ${Object.keys(MIG_FLAG).join(', ')}`, flags);
    const ch = c.check as Record<string, unknown> | undefined;
    if (!ch || typeof ch.name !== 'string') bad('check.name', 'the name of a check', ch?.name);
    const params = (ch!.params ?? {}) as Record<string, unknown>;
    if (typeof params !== 'object' || Array.isArray(params)) bad('check.params', 'a mapping', ch!.params);
    if (checks) {
      const validate = checks.get(ch!.name as string);
      if (!validate) throw new UsageError(`${at}: check.name: unknown check '${String(ch!.name)}' (known: ${[...checks.keys()].join(', ')})`);
      try {
        validate(params);
      } catch (e) {
        throw new UsageError(`${at}: check.params: ${(e as Error).message}`);
      }
    }
    return {
      id: c.id as string, title: (c.title as string).trim(), binds: c.binds as Side, statement: (c.statement as string).trim(),
      source: { header: src!.header as string, since: src!.since as string, commit: src!.commit as string },
      applies: { states: states as MigState[] | 'all', flags: flags as FlagName[] },
      check: { name: ch!.name as string, params },
    } satisfies Clause;
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
