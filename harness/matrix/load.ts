// specs/matrices/*.yaml → Matrix. Every mistake is one UsageError naming the file, the key and what
// was expected, e.g. "specs/matrices/x.yaml: transfers[1]: expected a transfer plan (single, qemu,
// chunks:N,N… with sizes 1..1048576, random), got "qemuu"" (the schema's), or "src[1]: expected a
// revision id (…), got "v9.9"" (the runner's ids, checked here).
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_DEVICE, type DeviceConfig, type DeviceType } from '../device/mmio.ts';
import type { Outcome } from '../oracle/types.ts';
import { GUEST_ARCHES, type GuestArch, type ScenarioName, type WorkloadName } from '../runners/types.ts';
import { UsageError } from '../util/usage-error.ts';
import { CITATION_FORMS, parseCitation } from '../util/citations.ts';
import { loadYaml } from '../util/yamlSchema.ts';
import { RUNNER_KINDS } from './runnerKinds.ts';
import { MATRIX_RUNNERS, type DeviceCombine, type Direction, type ExpectRule, type KnownDefect, type Matrix, type MatrixRunner, type RuleWhen } from './types.ts';

/** What the loader needs to know about revisions: which ids exist (RevisionFacts adds the rest). */
export interface RevisionIds {
  ids(): string[];
  canonical?(id: string): string | null;
  base?(id: string): string;
  defaultOrder?(bases: string[]): string[];
}

/** The ids of one runner, or a function giving them for the runner the matrix names. */
export type IdsFor = RevisionIds | ((runner: MatrixRunner) => RevisionIds);

type Obj = Record<string, unknown>;

const show = (v: unknown): string => JSON.stringify(v) ?? String(v);

/** The runner a matrix text names (default sim), read before the runner's ids are loaded; null when invalid. */
export function peekRunner(text: string): MatrixRunner | null {
  try {
    const doc = parse(text, { prettyErrors: false }) as Obj | null;
    const r = doc && typeof doc === 'object' && !Array.isArray(doc) ? doc.runner : undefined;
    if (r === undefined) return 'sim';
    return (MATRIX_RUNNERS as readonly unknown[]).includes(r) ? (r as MatrixRunner) : null;
  } catch {
    return null;
  }
}

export function readMatrixText(path: string): { name: string; text: string } {
  const name = relative(process.cwd(), path) || path;
  try {
    return { name, text: readFileSync(path, 'utf8') };
  } catch (e) {
    throw new UsageError(`${name}: cannot read the matrix (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

export function loadMatrixFile(path: string, revisions: IdsFor): Matrix {
  const { name, text } = readMatrixText(path);
  return parseMatrix(text, name, revisions);
}

type OneOrMany<T> = T | T[];
interface WhenDoc {
  src?: OneOrMany<string>;
  dst?: OneOrMany<string>;
  workload?: OneOrMany<string>;
  transfer?: OneOrMany<string>;
  device?: OneOrMany<string>;
  scenario?: OneOrMany<string>;
  direction?: OneOrMany<string>;
  magic?: 'accepted' | 'rejected';
  arch?: OneOrMany<string>;
}
type DeviceDoc = DeviceType | Partial<DeviceConfig>;
/** A matrix as the schema (specs/schemas/matrix.schema.json) lets it through. */
interface MatrixDoc {
  name?: string;
  seed?: number;
  runner?: MatrixRunner;
  src?: OneOrMany<string>;
  dst?: OneOrMany<string>;
  order?: OneOrMany<string>;
  workloads?: OneOrMany<string>;
  scenarios?: OneOrMany<string>;
  transfers?: OneOrMany<string>;
  arch?: OneOrMany<string>;
  devices?: DeviceDoc[] | { configs: DeviceDoc[]; combine?: DeviceCombine };
  requests?: number;
  inflight?: number;
  requestSize?: number;
  groups?: Record<string, string[]>;
  known?: Record<string, { description: string; link: string }>;
  expect?: { when?: WhenDoc; outcome?: Outcome; known?: string }[];
  exclude?: WhenDoc[];
}

const list = <T>(v: OneOrMany<T>): T[] => (Array.isArray(v) ? v : [v]);

/**
 * Validate and expand a matrix text. The shape (keys, types, the workloads, scenarios and transfers
 * each runner takes, device configurations, rules) is the schema's; what is left here needs the
 * runner's revision ids or the rest of the file: ids and group names, known-defect references,
 * inflight <= requests, and the defaults.
 */
export function parseMatrix(text: string, file: string, idsFor: IdsFor): Matrix {
  const bad = (key: string, expected: string, got: unknown): never => {
    throw new UsageError(`${file}: ${key}: expected ${expected}, got ${show(got)}`);
  };
  const m = loadYaml('matrix', text, file) as MatrixDoc;
  const runner: MatrixRunner = m.runner ?? 'sim';
  const kind = RUNNER_KINDS[runner];
  const revisions = typeof idsFor === 'function' ? idsFor(runner) : idsFor;
  const base = (id: string) => revisions.base?.(id) ?? id;
  const known = new Set(revisions.ids());

  function revId(key: string, s: string): string {
    if (revisions.canonical) {
      const what = runner === 'sim' ? `a revision id (${[...known].join(', ')}, or ktree:NAME of a registered build)` : kind.idText;
      return revisions.canonical(s) ?? bad(key, what, s);
    }
    if (known.has(s)) return s;
    if (known.has(`hisi-acc/${s}`)) return `hisi-acc/${s}`;
    return bad(key, `a revision id (${[...known].join(', ')})`, s);
  }
  // groups first: src/dst/rules may name them
  const groups: Record<string, string[]> = {};
  for (const [g, ids] of Object.entries(m.groups ?? {})) groups[g] = ids.map((id, i) => revId(`groups.${g}[${i}]`, id));
  const revList = (key: string, v: OneOrMany<string> | undefined, dflt: string[]): string[] => {
    if (v === undefined || v === 'all') return dflt;
    const out: string[] = [];
    list(v).forEach((x, i) => {
      if (groups[x]) out.push(...groups[x]);
      else out.push(revId(Array.isArray(v) ? `${key}[${i}]` : key, x));
    });
    return [...new Set(out)];
  };
  const enumList = <T extends string>(v: OneOrMany<string> | undefined, all: readonly T[], dflt: T[]): T[] =>
    v === undefined ? dflt : v === 'all' ? [...all] : [...new Set(list(v) as T[])];

  const allIds = [...known];
  let order: string[];
  let src: string[];
  let dst: string[];
  if (runner === 'sim') {
    order = m.order === undefined ? allIds : revList('order', m.order, allIds);
    for (const id of allIds) if (!order.includes(id)) order.push(id);
    src = revList('src', m.src, order);
    dst = revList('dst', m.dst, order);
  } else {
    // other runners: 'all' is what the runner finds (vfio-host: MIGCOMPAT_VFIO_DEVICES), may be empty
    // (the qemu runner has none: the schema requires its lists); order ranks the ids' bases (qemu:
    // builds), the rest in the runner's default order
    src = revList('src', m.src, allIds);
    dst = revList('dst', m.dst, allIds);
    const given = m.order === undefined ? [] : [...new Set(revList('order', m.order, []).map(base))];
    const rest = [...new Set([...src, ...dst].map(base))].filter((b) => !given.includes(b));
    order = [...given, ...(revisions.defaultOrder ? revisions.defaultOrder(rest) : rest)];
  }

  const when = (where: string, w: WhenDoc = {}): RuleWhen => {
    const out: RuleWhen = {};
    if (w.src !== undefined) out.src = revList(`${where}.src`, w.src, []);
    if (w.dst !== undefined) out.dst = revList(`${where}.dst`, w.dst, []);
    if (w.workload !== undefined) out.workload = enumList<WorkloadName>(w.workload, kind.workloads, []);
    if (w.scenario !== undefined) out.scenario = enumList<ScenarioName>(w.scenario, kind.scenarios, []);
    if (w.direction !== undefined) out.direction = list(w.direction) as Direction[];
    if (w.transfer !== undefined) out.transfer = list(w.transfer);
    if (w.device !== undefined) out.device = list(w.device);
    if (w.magic !== undefined) out.magic = w.magic;
    if (w.arch !== undefined) out.arch = enumList<GuestArch>(w.arch, GUEST_ARCHES, []);
    return out;
  };
  const knownDefects: Record<string, KnownDefect> = {};
  for (const [id, d] of Object.entries(m.known ?? {})) {
    if ('error' in parseCitation(d.link)) bad(`known.${id}.link`, `a citation (${CITATION_FORMS})`, d.link);
    knownDefects[id] = { id, description: d.description, link: d.link };
  }
  const expect = (m.expect ?? []).map((r, i): ExpectRule => {
    const where = `expect[${i}]`;
    if (r.known !== undefined && !knownDefects[r.known]) {
      bad(`${where}.known`, `an id declared under known: (${Object.keys(knownDefects).join(', ') || 'none declared'})`, r.known);
    }
    // a known defect's outcome is the one the case will have once fixed (default: migrated)
    const outcome: Outcome = r.outcome ?? 'migrated';
    const w = when(`${where}.when`, r.when);
    return r.known ? { where, when: w, outcome, known: r.known } : { where, when: w, outcome };
  });
  const exclude = (m.exclude ?? []).map((w, i) => when(`exclude[${i}]`, w));

  const requests = m.requests ?? 8;
  const inflight = m.inflight ?? 2;
  if (inflight > requests) bad('inflight', `at most requests (${requests})`, inflight);
  const { devices, combine } = devicesOf(m.devices);
  return {
    file,
    name: m.name ?? file.replace(/^.*\//, '').replace(/\.ya?ml$/, ''),
    seed: m.seed ?? 1,
    runner,
    src,
    dst,
    order,
    workloads: enumList<WorkloadName>(m.workloads, kind.workloads, [...kind.defaultWorkloads]),
    scenarios: enumList<ScenarioName>(m.scenarios, kind.scenarios, ['single-hop']),
    transfers: m.transfers === undefined ? [kind.transfers?.[0] ?? 'single'] : [...new Set(list(m.transfers))],
    // only the qemu runner's schema lets `arch` through; every other runner's cases are x86_64's
    arches: enumList<GuestArch>(m.arch, GUEST_ARCHES, ['x86_64']),
    devices,
    combine,
    requests,
    inflight,
    requestSize: m.requestSize ?? 64,
    groups,
    known: knownDefects,
    expect,
    exclude,
  };
}

function devicesOf(v: MatrixDoc['devices']): { devices: DeviceConfig[]; combine: DeviceCombine } {
  if (v === undefined) return { devices: [DEFAULT_DEVICE], combine: 'all' };
  const { configs, combine = 'all' } = Array.isArray(v) ? { configs: v } : v;
  return { devices: configs.map((c) => (typeof c === 'string' ? { ...DEFAULT_DEVICE, type: c } : { ...DEFAULT_DEVICE, ...c })), combine };
}
