// specs/matrices/*.yaml → Matrix. Every mistake is one UsageError naming the file, the key and what
// was expected, e.g. "specs/matrices/x.yaml: transfers[1]: expected a transfer plan ('single', 'qemu',
// 'chunks:N,N…', 'random'), got 'qemuu'".
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_DEVICE, DEVICE_IDS, type DeviceConfig, type DeviceType } from '../device/mmio.ts';
import { OUTCOMES, type Outcome } from '../oracle/types.ts';
import type { ScenarioName, WorkloadName } from '../runners/types.ts';
import { parsePlan, planText } from '../transfer/plan.ts';
import { UsageError } from '../util/usage-error.ts';
import { CITATION_FORMS, parseCitation } from '../util/citations.ts';
import { RUNNER_KINDS, type RunnerKind } from './runnerKinds.ts';
import { DIRECTIONS, MATRIX_RUNNERS, type DeviceCombine, type Direction, type ExpectRule, type KnownDefect, type Matrix, type MatrixRunner, type RuleWhen } from './types.ts';

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

const TOP_KEYS = ['name', 'seed', 'runner', 'src', 'dst', 'order', 'workloads', 'scenarios', 'transfers', 'devices',
  'requests', 'inflight', 'requestSize', 'groups', 'known', 'expect', 'exclude'];
const WHEN_KEYS = ['src', 'dst', 'workload', 'transfer', 'device', 'scenario', 'direction', 'magic'];

const show = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v) ?? String(v));

/** The transfer module's own parser decides (harness/transfer/plan.ts); the matrix keeps the text. */
export function isTransferPlan(s: string): boolean {
  try {
    return planText(parsePlan(s)) === s;
  } catch {
    return false;
  }
}

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

export function parseMatrix(text: string, file: string, idsFor: IdsFor): Matrix {
  const bad = (key: string, expected: string, got: unknown): never => {
    throw new UsageError(`${file}: ${key}: expected ${expected}, got ${show(got)}`);
  };
  let doc: unknown;
  try {
    doc = parse(text, { prettyErrors: false });
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    throw new UsageError(`${file}: not valid YAML (${msg})`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) bad('(top level)', 'a mapping of matrix keys', doc);
  const m = doc as Obj;
  for (const k of Object.keys(m)) if (!TOP_KEYS.includes(k)) bad(k, `one of the keys ${TOP_KEYS.join(', ')}`, k);

  const runner: MatrixRunner = m.runner === undefined ? 'sim'
    : (MATRIX_RUNNERS as readonly unknown[]).includes(m.runner) ? (m.runner as MatrixRunner) : bad('runner', `one of ${MATRIX_RUNNERS.join(', ')}`, m.runner);
  const kind = RUNNER_KINDS[runner];
  const revisions = typeof idsFor === 'function' ? idsFor(runner) : idsFor;
  const base = (id: string) => revisions.base?.(id) ?? id;

  const known = new Set(revisions.ids());
  const str = (key: string, v: unknown): string => (typeof v === 'string' && v.length > 0 ? v : bad(key, 'a non-empty string', v));
  const int = (key: string, v: unknown, dflt: number, min = 0): number => {
    if (v === undefined) return dflt;
    return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= 0xffffffff ? v : bad(key, `an integer ≥ ${min}`, v);
  };
  const list = (key: string, v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);

  // groups first: src/dst/rules may name them
  const groups: Record<string, string[]> = {};
  if (m.groups !== undefined) {
    if (!m.groups || typeof m.groups !== 'object' || Array.isArray(m.groups)) bad('groups', 'a mapping name → list of revision ids', m.groups);
    for (const [g, ids] of Object.entries(m.groups as Obj)) {
      if (!Array.isArray(ids)) bad(`groups.${g}`, 'a list of revision ids', ids);
      groups[g] = (ids as unknown[]).map((id, i) => revId(`groups.${g}[${i}]`, id));
    }
  }
  function revId(key: string, v: unknown): string {
    const s = str(key, v);
    if (revisions.canonical) {
      const what = runner === 'sim' ? `a revision id (${[...known].join(', ')}, or ktree:NAME of a registered build)` : kind.idText;
      return revisions.canonical(s) ?? bad(key, what, v);
    }
    if (known.has(s)) return s;
    if (known.has(`hisi-acc/${s}`)) return `hisi-acc/${s}`;
    return bad(key, `a revision id (${[...known].join(', ')})`, v);
  }
  const revList = (key: string, v: unknown, dflt: string[]): string[] => {
    if (v === undefined || v === 'all') return dflt;
    const out: string[] = [];
    list(key, v).forEach((x, i) => {
      const k = Array.isArray(v) ? `${key}[${i}]` : key;
      if (typeof x === 'string' && groups[x]) out.push(...groups[x]);
      else out.push(revId(k, x));
    });
    if (out.length === 0) bad(key, `at least one id (${kind.idText})`, v);
    return [...new Set(out)];
  };
  const enumList = <T extends string>(key: string, v: unknown, all: readonly T[], what: string, dflt: T[]): T[] => {
    if (v === undefined) return dflt;
    if (v === 'all') return [...all];
    return list(key, v).map((x, i) =>
      (all as readonly unknown[]).includes(x) ? (x as T) : bad(Array.isArray(v) ? `${key}[${i}]` : key, `${what} (${all.join(', ')})`, x));
  };
  const onRunner = runner === 'sim' ? '' : ` the ${runner} runner runs`;
  const transferText = kind.transfers ? `a transfer${onRunner} (${kind.transfers.join(', ')})`
    : `a transfer plan${onRunner} ('single', ${kind.refusedPlans.includes('qemu') ? '' : "'qemu', "}'chunks:N,N…', 'random')`;
  const isTransfer = (t: unknown): t is string => typeof t === 'string' &&
    (kind.transfers ? kind.transfers.includes(t) : isTransferPlan(t) && !kind.refusedPlans.includes(t));

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
    // other runners: 'all' is what the runner finds (vfio-host: MIGCOMPAT_VFIO_DEVICES), may be empty;
    // order ranks the ids' bases (qemu: builds), the rest in the runner's default order
    for (const k of ['src', 'dst'] as const) {
      if (runner === 'qemu' && (m[k] === undefined || m[k] === 'all')) bad(k, `a list of ids (${kind.idText}); the qemu runner has no 'all'`, m[k] ?? 'all');
    }
    src = revList('src', m.src, allIds);
    dst = revList('dst', m.dst, allIds);
    const given = m.order === undefined ? [] : [...new Set(revList('order', m.order, []).map(base))];
    const rest = [...new Set([...src, ...dst].map(base))].filter((b) => !given.includes(b));
    order = [...given, ...(revisions.defaultOrder ? revisions.defaultOrder(rest) : rest)];
  }

  const transfers = m.transfers === undefined ? [kind.transfers?.[0] ?? 'single'] : list('transfers', m.transfers).map((t, i) =>
    isTransfer(t) ? t : bad(`transfers[${i}]`, transferText, t));

  const workloadText = runner === 'sim' ? 'a workload' : `a workload${onRunner}`;
  const scenarioText = runner === 'sim' ? 'a scenario' : `a scenario${onRunner}`;
  const { devices, combine } = parseDevices(m.devices, bad);
  const knownDefects = parseKnown(m.known, bad, str);
  const when = (where: string, w: unknown): RuleWhen =>
    parseWhen(where, w, { bad, revList, enumList, list, kind, workloadText, scenarioText, isTransfer, transferText });
  const expect = parseExpect(m.expect, bad, knownDefects, when);
  const exclude = m.exclude === undefined ? [] : Array.isArray(m.exclude)
    ? m.exclude.map((w, i) => when(`exclude[${i}]`, w)) : bad('exclude', 'a list of conditions (the keys of a rule\'s when)', m.exclude);

  const inflight = int('inflight', m.inflight, 2);
  const requests = int('requests', m.requests, 8, 1);
  if (inflight > requests) bad('inflight', `at most requests (${requests})`, inflight);
  return {
    file,
    name: m.name === undefined ? file.replace(/^.*\//, '').replace(/\.ya?ml$/, '') : str('name', m.name),
    seed: int('seed', m.seed, 1),
    runner,
    src,
    dst,
    order,
    workloads: enumList<WorkloadName>('workloads', m.workloads, kind.workloads, workloadText, [...kind.defaultWorkloads]),
    scenarios: enumList<ScenarioName>('scenarios', m.scenarios, kind.scenarios, scenarioText, ['single-hop']),
    transfers: [...new Set(transfers as string[])],
    devices,
    combine,
    requests,
    inflight,
    requestSize: int('requestSize', m.requestSize, 64, 1),
    groups,
    known: knownDefects,
    expect,
    exclude,
  };
}

type Bad = (key: string, expected: string, got: unknown) => never;

const DEVICE_KEYS = ['type', 'qpNum', 'qpBase', 'queIsoCfg', 'hwMode', 'vfId'];

function parseDevices(v: unknown, bad: Bad): { devices: DeviceConfig[]; combine: DeviceCombine } {
  if (v === undefined) return { devices: [DEFAULT_DEVICE], combine: 'all' };
  let configs: unknown = v;
  let combine: DeviceCombine = 'all';
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Obj;
    for (const k of Object.keys(o)) if (k !== 'configs' && k !== 'combine') bad(`devices.${k}`, "'configs' or 'combine'", k);
    configs = o.configs;
    if (o.combine !== undefined) {
      if (o.combine !== 'all' && o.combine !== 'rotate') bad('devices.combine', "'all' (every case on every device) or 'rotate' (devices taken in turn)", o.combine);
      combine = o.combine as DeviceCombine;
    }
  }
  if (!Array.isArray(configs) || configs.length === 0) return bad('devices.configs', 'a non-empty list of device types or device configurations', configs);
  const types = Object.keys(DEVICE_IDS);
  const devices = configs.map((c, i): DeviceConfig => {
    const key = `devices.configs[${i}]`;
    if (typeof c === 'string') return types.includes(c) ? { ...DEFAULT_DEVICE, type: c as DeviceType } : bad(key, `a device type (${types.join(', ')})`, c);
    if (!c || typeof c !== 'object' || Array.isArray(c)) return bad(key, 'a device type or a mapping', c);
    const o = c as Obj;
    for (const k of Object.keys(o)) if (!DEVICE_KEYS.includes(k)) bad(`${key}.${k}`, `one of ${DEVICE_KEYS.join(', ')}`, k);
    const d = { ...DEFAULT_DEVICE };
    if (o.type !== undefined) d.type = types.includes(o.type as string) ? (o.type as DeviceType) : bad(`${key}.type`, `a device type (${types.join(', ')})`, o.type);
    for (const k of ['qpNum', 'qpBase', 'queIsoCfg', 'vfId'] as const) {
      if (o[k] === undefined) continue;
      const n = o[k];
      d[k] = typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff ? n : bad(`${key}.${k}`, 'an unsigned 32-bit integer', n);
    }
    if (o.hwMode !== undefined) d.hwMode = o.hwMode === 'vf-ctrl' || o.hwMode === 'pf-ctrl' ? o.hwMode : bad(`${key}.hwMode`, "'vf-ctrl' or 'pf-ctrl'", o.hwMode);
    return d;
  });
  return { devices, combine };
}

function parseKnown(v: unknown, bad: Bad, str: (k: string, v: unknown) => string): Record<string, KnownDefect> {
  const out: Record<string, KnownDefect> = {};
  if (v === undefined) return out;
  if (!v || typeof v !== 'object' || Array.isArray(v)) bad('known', 'a mapping id → {description, link}', v);
  for (const [id, d] of Object.entries(v as Obj)) {
    if (!/^[a-z0-9][a-z0-9._-]*$/i.test(id)) bad(`known.${id}`, 'an id of letters, digits, dot, dash or underscore', id);
    if (!d || typeof d !== 'object' || Array.isArray(d)) bad(`known.${id}`, 'a mapping {description, link}', d);
    const o = d as Obj;
    for (const k of Object.keys(o)) if (k !== 'description' && k !== 'link') bad(`known.${id}.${k}`, "'description' or 'link'", k);
    const description = str(`known.${id}.description`, o.description);
    if (description.includes('\n')) bad(`known.${id}.description`, 'one line', description);
    const link = str(`known.${id}.link`, o.link);
    const cited = parseCitation(link);
    if ('error' in cited) bad(`known.${id}.link`, `a citation (${CITATION_FORMS})`, link);
    out[id] = { id, description, link };
  }
  return out;
}

interface WhenContext {
  bad: Bad;
  revList: (k: string, v: unknown, d: string[]) => string[];
  enumList: <T extends string>(k: string, v: unknown, all: readonly T[], what: string, d: T[]) => T[];
  list: (k: string, v: unknown) => unknown[];
  kind: RunnerKind;
  workloadText: string;
  scenarioText: string;
  isTransfer: (t: unknown) => t is string;
  transferText: string;
}

function parseWhen(where: string, v: unknown, c: WhenContext): RuleWhen {
  const { bad, revList, enumList, list } = c;
  const when: RuleWhen = {};
  if (!v || typeof v !== 'object' || Array.isArray(v)) return bad(where, `a mapping of ${WHEN_KEYS.join(', ')}`, v);
  const w = v as Obj;
  for (const k of Object.keys(w)) if (!WHEN_KEYS.includes(k)) bad(`${where}.${k}`, `one of ${WHEN_KEYS.join(', ')}`, k);
  if (w.src !== undefined) when.src = revList(`${where}.src`, w.src, []);
  if (w.dst !== undefined) when.dst = revList(`${where}.dst`, w.dst, []);
  if (w.workload !== undefined) when.workload = enumList(`${where}.workload`, w.workload, c.kind.workloads, c.workloadText, []);
  if (w.scenario !== undefined) when.scenario = enumList(`${where}.scenario`, w.scenario, c.kind.scenarios, c.scenarioText, []);
  if (w.direction !== undefined) when.direction = enumList<Direction>(`${where}.direction`, w.direction, DIRECTIONS, 'a direction', []);
  if (w.transfer !== undefined) when.transfer = list(`${where}.transfer`, w.transfer).map((t, j) =>
    c.isTransfer(t) ? t : bad(`${where}.transfer[${j}]`, c.transferText, t));
  if (w.device !== undefined) when.device = list(`${where}.device`, w.device).map((t, j) =>
    typeof t === 'string' && t in DEVICE_IDS ? t : bad(`${where}.device[${j}]`, `a device type (${Object.keys(DEVICE_IDS).join(', ')})`, t));
  if (w.magic !== undefined) {
    if (!c.kind.magicRules) bad(`${where}.magic`, 'no magic condition (only the sim runner knows which magic a destination accepts)', w.magic);
    when.magic = w.magic === 'accepted' || w.magic === 'rejected' ? w.magic : bad(`${where}.magic`, "'accepted' or 'rejected'", w.magic);
  }
  return when;
}

function parseExpect(v: unknown, bad: Bad, known: Record<string, KnownDefect>, when: (where: string, w: unknown) => RuleWhen): ExpectRule[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) return bad('expect', 'a list of rules {when, outcome | known}', v);
  return v.map((r, i): ExpectRule => {
    const where = `expect[${i}]`;
    if (!r || typeof r !== 'object' || Array.isArray(r)) return bad(where, 'a rule {when, outcome | known}', r);
    const o = r as Obj;
    for (const k of Object.keys(o)) if (!['when', 'outcome', 'known'].includes(k)) bad(`${where}.${k}`, "'when', 'outcome' or 'known'", k);
    const w: RuleWhen = o.when === undefined ? {} : when(`${where}.when`, o.when);
    let knownId: string | undefined;
    if (o.known !== undefined) {
      if (typeof o.known !== 'string' || !known[o.known]) bad(`${where}.known`, `an id declared under known: (${Object.keys(known).join(', ') || 'none declared'})`, o.known);
      knownId = o.known as string;
    }
    let outcome: Outcome;
    if (o.outcome === undefined) outcome = knownId ? 'migrated' : bad(`${where}.outcome`, `one of ${OUTCOMES.join(', ')} (or known: ID)`, undefined);
    else outcome = (OUTCOMES as readonly unknown[]).includes(o.outcome) ? (o.outcome as Outcome) : bad(`${where}.outcome`, `one of ${OUTCOMES.join(', ')}`, o.outcome);
    return knownId ? { where, when: w, outcome, known: knownId } : { where, when: w, outcome };
  });
}
