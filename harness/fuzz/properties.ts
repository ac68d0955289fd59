// The five fuzz properties (issue #5). Each runs under fast-check with a seed and a budget (runs
// or seconds) and reports runs, known findings met, and at most one new violation, shrunk to a
// minimal case with the seed and path (and replayPath for command sequences) that replay it.
import fc from 'fast-check';
import { DEFAULT_DEVICE, DEVICE_IDS, type DeviceConfig, type DeviceType } from '../device/mmio.ts';
import type { Outcome } from '../oracle/types.ts';
import { acceptanceRuleFor, checkedFieldNames, differingCheckedFields, mustRefuse, type AcceptanceRule } from './checkedFields.ts';
import type { FindingsLedger, PropertyName, Violation } from './findings.ts';
import { applyMutation, changes, describeMutation, mutatedField, mutationArb, mutationToJson, type Mutation } from './mutations.ts';
import type { SensitivityTable } from './sensitivity.ts';
import type { FuzzTarget, SourceStream } from './target.ts';
import { newModel, uapiCommandArbs, UapiViolation, type UapiReal } from './uapiCommands.ts';

export interface RunOptions {
  seed: number;
  /** run count; ignored when `seconds` is set */
  numRuns?: number;
  seconds?: number;
  /** replay: fast-check path (and replayPath for uapi) of a failure */
  path?: string;
  replayPath?: string;
  /** called about every 64 runs with the runs so far */
  onProgress?(runs: number): void;
}

export interface PropertyResult {
  property: PropertyName;
  seed: number;
  runs: number;
  ms: number;
  /** a new (unregistered) violation was found; `violation` holds it, shrunk */
  failed: boolean;
  violation?: Violation;
  /** fast-check's report of the failure (seed, path, counterexample) */
  report?: string;
  /** the property needs an engine feature that is not there (reason) */
  unavailable?: string;
}

/** Thrown inside a predicate for a violation the registry does not know. */
export class PropertyViolation extends Error {
  override name = 'PropertyViolation';
  constructor(readonly v: Omit<Violation, 'seed' | 'path' | 'replayPath'>) {
    super(`${v.kind} on ${v.revision}: ${v.detail}`);
  }
}

const bigintSafe = (_k: string, v: unknown) => (typeof v === 'bigint' ? '0x' + v.toString(16) : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v);

/** Chunk sizes from cut points (null = one write). */
export function chunksOf(length: number, cuts: readonly number[] | null): number[] | null {
  if (!cuts) return null;
  const cs = [...new Set(cuts.filter((c) => c > 0 && c < length))].sort((a, b) => a - b);
  if (!cs.length) return null;
  const out: number[] = [];
  let prev = 0;
  for (const c of [...cs, length]) {
    out.push(c - prev);
    prev = c;
  }
  return out;
}

const cutsArb = (maxLen: number, min = 0) => fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, maxLen - 1) }), { minLength: min, maxLength: 4 });

/**
 * Runs a property under the budget. A time budget runs batches of 1,000 runs with seeds seed,
 * seed+1, … until the time is up (fast-check's time-limit plugin costs more than the checks), so a
 * failure's reported seed is its batch's and replays alone.
 */
function check<T>(prop: fc.IProperty<T>, o: RunOptions): fc.RunDetails<unknown> {
  if (o.path) return fc.check(prop, { seed: o.seed, path: o.path, endOnFailure: true }) as fc.RunDetails<unknown>;
  if (!o.seconds) return fc.check(prop, { seed: o.seed, numRuns: o.numRuns ?? 100 }) as fc.RunDetails<unknown>;
  const end = Date.now() + o.seconds * 1000;
  let out: fc.RunDetails<unknown>;
  let seed = o.seed;
  do out = fc.check(prop, { seed: seed++, numRuns: 1000 }) as fc.RunDetails<unknown>;
  while (!out.failed && Date.now() < end);
  return out;
}

interface Counter {
  runs: number;
  failing: boolean;
}

function finish(property: PropertyName, o: RunOptions, c: Counter, t0: number, out: fc.RunDetails<unknown>, ledger: FindingsLedger): PropertyResult {
  const r: PropertyResult = { property, seed: o.seed, runs: c.runs, ms: Date.now() - t0, failed: false };
  if (!out.failed) return r;
  const err = out.errorInstance as Error | undefined;
  const report = `${property}: property failed after ${out.numRuns} run(s), shrunk ${out.numShrinks} time(s)\n` +
    `{ seed: ${out.seed}, path: "${out.counterexamplePath}" }\ncounterexample: ${JSON.stringify(out.counterexample, bigintSafe)}\n${err?.message ?? ''}`;
  if (err instanceof PropertyViolation || err instanceof UapiViolation) {
    const v: Violation = err instanceof PropertyViolation
      ? { ...err.v, seed: out.seed, path: out.counterexamplePath ?? undefined }
      : { property, kind: err.kind, revision: ((out.counterexample as unknown[] | null)?.[0] as { rev?: string } | undefined)?.rev ?? '?', detail: err.detail, minimal: {}, seed: out.seed, path: out.counterexamplePath ?? undefined };
    if (err instanceof UapiViolation) {
      const [pick, cmds] = out.counterexample as [{ rev: string }, unknown];
      const text = String(cmds);
      const m = /replayPath="([^"]*)"/.exec(text);
      v.revision = pick.rev;
      v.replayPath = m?.[1];
      v.minimal = { revision: pick.rev, commands: text.replace(/\s*\/\*replayPath=.*\*\//, '') };
    }
    ledger.add(v);
    return { ...r, failed: true, violation: v, report };
  }
  // not a violation: the harness itself threw
  throw new Error(`${property} property: harness error at seed ${out.seed} path ${out.counterexamplePath}: ${err?.stack ?? err}`);
}

function tick(c: Counter, o: RunOptions): void {
  c.runs++;
  if ((c.runs & 63) === 0) o.onProgress?.(c.runs);
}

/** Streams written by every source revision, on the default device. */
export function sourceStreams(t: FuzzTarget, device: DeviceConfig = DEFAULT_DEVICE): SourceStream[] {
  return t.revisions.map((src) => ({ src, device, stream: t.save(src, device) }));
}

function ruleOf(t: FuzzTarget, rev: string): AcceptanceRule | null {
  return acceptanceRuleFor(rev, t.traitsOf(rev));
}

// ---- property 1: stream mutation (measurement + must-hold) ----
export function streamProperty(t: FuzzTarget, o: RunOptions, ledger: FindingsLedger, table: SensitivityTable): PropertyResult {
  const t0 = Date.now();
  const sources = sourceStreams(t);
  const pairs = t.revisions.flatMap((dst) => sources.map((s) => ({ dst, s })));
  const rules = new Map(t.revisions.map((r) => [r, ruleOf(t, r)]));
  const checkedNames = new Map(t.revisions.map((r) => [r, new Set(rules.get(r) ? checkedFieldNames(rules.get(r)!) : [])]));
  const c: Counter = { runs: 0, failing: false };
  // arbitraries are built once per source stream: building them per run cost more than the checks
  const perSrc = new Map(sources.map((s) => [s.src, fc.tuple(mutationArb(s.stream), fc.option(cutsArb(s.stream.length + 64), { freq: 2 }))]));
  const arb = fc.constantFrom(...pairs).chain(({ dst, s }) =>
    perSrc.get(s.src)!.map(([m, cuts]) => [{ dst, src: s.src }, m, cuts] as const));
  const byKey = new Map(sources.map((s) => [s.src, s]));
  const prop = fc.property(arb, ([{ dst, src }, m, cuts]) => {
    const s = byKey.get(src)!;
    if (!changes(s.stream, m)) return true;
    const mutated = applyMutation(s.stream, m);
    const chunks = chunksOf(mutated.length, cuts);
    const res = t.check(dst, mutated, chunks, s.device);
    const field = mutatedField(s.stream, m);
    const rule = rules.get(dst) ?? null;
    if (!c.failing) {
      tick(c, o);
      table.record(dst, field, rule ? checkedNames.get(dst)!.has(field) : false, res.outcome, diffBytes(s.stream, mutated), () => ({
        src, mutation: describeMutation(m) + (chunks ? ` in chunks ${chunks.join(',')}` : ''), size: diffBytes(s.stream, mutated),
        errno: res.errno, reason: res.reason, data: { ...mutationToJson(m), chunks },
      }));
    }
    const why = rule ? mustRefuse(rule, mutated, s.device) : null;
    if (why && res.outcome !== 'refused') {
      const v = { property: 'stream' as const, kind: 'checked-field-not-refused', revision: dst,
        detail: `${why}, yet ${res.outcome} (${res.reason})`, minimal: { src, dst, mutation: mutationToJson(m), chunks } };
      if (ledger.isKnown('stream', v.kind, dst)) {
        ledger.add(v);
        return true;
      }
      c.failing = true;
      throw new PropertyViolation(v);
    }
    return true;
  });
  return finish('stream', o, c, t0, check(prop, o), ledger);
}

function diffBytes(a: Uint8Array, b: Uint8Array): number {
  let n = Math.abs(a.length - b.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) n++;
  return n;
}

// ---- property 2: transfer invariance ----
export function transferProperty(t: FuzzTarget, o: RunOptions, ledger: FindingsLedger): PropertyResult {
  const t0 = Date.now();
  const sources = sourceStreams(t);
  const accepted = t.revisions.flatMap((dst) => sources
    .filter((s) => t.check(dst, s.stream, null, s.device).outcome === 'migrated')
    .map((s) => ({ dst, src: s.src })));
  if (!accepted.length) return { property: 'transfer', seed: o.seed, runs: 0, ms: 0, failed: false, unavailable: 'no stream is accepted with one write' };
  const byKey = new Map(sources.map((s) => [s.src, s]));
  const c: Counter = { runs: 0, failing: false };
  const prop = fc.property(fc.constantFrom(...accepted), cutsArb(176, 1), ({ dst, src }, cuts) => {
    const s = byKey.get(src)!;
    const chunks = chunksOf(s.stream.length, cuts)!;
    if (!c.failing) tick(c, o);
    const one = t.check(dst, s.stream, null, s.device);
    const many = t.check(dst, s.stream, chunks, s.device);
    if (many.outcome === one.outcome) return true;
    const v = { property: 'transfer' as const, kind: 'chunking-changes-verdict', revision: dst,
      detail: `one write: ${one.outcome}; chunks ${chunks.join(',')}: ${many.outcome} (${many.errno ?? ''} ${many.reason})`,
      minimal: { src, dst, chunks } };
    if (ledger.isKnown('transfer', v.kind, dst)) {
      ledger.add(v);
      return true;
    }
    c.failing = true;
    throw new PropertyViolation(v);
  });
  return finish('transfer', o, c, t0, check(prop, o), ledger);
}

// ---- property 3: configurations ----
const TYPES = Object.keys(DEVICE_IDS) as DeviceType[];
const deviceArb: fc.Arbitrary<DeviceConfig> = fc.record({
  type: fc.constantFrom(...TYPES),
  qpNum: fc.integer({ min: 1, max: 64 }),
  qpBase: fc.integer({ min: 0, max: 960 }),
  queIsoCfg: fc.constantFrom(0, 1),
  hwMode: fc.constant('vf-ctrl' as const),
  vfId: fc.integer({ min: 1, max: 63 }),
});
/** A destination that is usually the same device with a few fields changed (so both verdicts occur). */
const dstFrom = (src: DeviceConfig): fc.Arbitrary<DeviceConfig> =>
  fc.record({
    type: fc.option(fc.constantFrom(...TYPES), { freq: 4 }),
    qpNum: fc.option(fc.integer({ min: 1, max: 64 }), { freq: 4 }),
    qpBase: fc.option(fc.integer({ min: 0, max: 960 }), { freq: 2 }),
    queIsoCfg: fc.option(fc.constantFrom(0, 1), { freq: 4 }),
    vfId: fc.option(fc.integer({ min: 1, max: 63 }), { freq: 2 }),
  }).map((ch) => ({
    ...src, type: ch.type ?? src.type, qpNum: ch.qpNum ?? src.qpNum, qpBase: ch.qpBase ?? src.qpBase,
    queIsoCfg: ch.queIsoCfg ?? src.queIsoCfg, vfId: ch.vfId ?? src.vfId,
  }));

export function configProperty(t: FuzzTarget, o: RunOptions, ledger: FindingsLedger): PropertyResult {
  const t0 = Date.now();
  const c: Counter = { runs: 0, failing: false };
  const arb = fc.tuple(fc.constantFrom(...t.revisions), fc.constantFrom(...t.revisions), deviceArb)
    .chain(([src, dst, sd]) => fc.tuple(fc.constant({ src, dst }), fc.constant(sd), dstFrom(sd)));
  const prop = fc.property(arb, ([{ src, dst }, sd, dd]) => {
    if (!c.failing) tick(c, o);
    const stream = t.save(src, sd);
    const res = t.check(dst, stream, null, dd);
    const rule = ruleOf(t, dst);
    if (!rule) return true;
    const why = mustRefuse(rule, stream, dd);
    const refused = res.outcome === 'refused';
    if (refused === (why !== null)) return true;
    const kind = refused ? 'config-refused-without-cause' : 'config-accepted-with-difference';
    const v = { property: 'config' as const, kind, revision: dst,
      detail: `${src} -> ${dst}: ${why ?? `no checked field differs (${differingCheckedFields(sd, dd).join(',') || 'none'})`}; got ${res.outcome} (${res.errno ?? ''} ${res.reason})`,
      minimal: { src, dst, srcDevice: sd, dstDevice: dd } };
    if (ledger.isKnown('config', kind, dst)) {
      ledger.add(v);
      return true;
    }
    c.failing = true;
    throw new PropertyViolation(v);
  });
  return finish('config', o, c, t0, check(prop, o), ledger);
}

// ---- property 4: uAPI command sequences ----
export function uapiProperty(t: FuzzTarget, o: RunOptions, ledger: FindingsLedger, maxCommands = 30): PropertyResult {
  const t0 = Date.now();
  const open = t.openDevice;
  if (!open) return { property: 'uapi', seed: o.seed, runs: 0, ms: 0, failed: false, unavailable: 'the engine has no simulated device factory yet' };
  const c: Counter = { runs: 0, failing: false };
  const cmds = fc.commands(uapiCommandArbs(), { maxCommands, ...(o.replayPath ? { replayPath: o.replayPath } : {}) });
  const prop = fc.property(fc.constantFrom(...t.revisions.map((rev) => ({ rev }))), cmds, ({ rev }, seq) => {
    if (!c.failing) tick(c, o);
    const d = open.call(t, rev);
    const flags = d.dev.migrationFlags();
    if (!flags.ok) throw new Error(`${rev}: GET MIGRATION failed ${flags.errno}`);
    const real: UapiReal = {
      revision: rev, dev: d.dev, reopen: d.reopen, fds: new Map(),
      onKnown: (kind, detail) => {
        if (!ledger.isKnown('uapi', kind, rev)) return false;
        ledger.add({ property: 'uapi', kind, revision: rev, detail, minimal: { revision: rev } });
        return true;
      },
    };
    try {
      fc.modelRun(() => ({ model: newModel(flags.value), real }), seq);
    } catch (e) {
      if (e instanceof UapiViolation) c.failing = true;
      throw e;
    }
  });
  return finish('uapi', o, c, t0, check(prop, o), ledger);
}

// ---- property 5: migration transparency ----
export function transparencyProperty(t: FuzzTarget, o: RunOptions, ledger: FindingsLedger): PropertyResult {
  const t0 = Date.now();
  const run = t.transparency;
  if (!run) return { property: 'transparency', seed: o.seed, runs: 0, ms: 0, failed: false, unavailable: 'the engine has no workload runner yet' };
  const c: Counter = { runs: 0, failing: false };
  const arb = fc.record({
    rev: fc.constantFrom(...t.revisions),
    workload: fc.constantFrom('user-polling', 'kernel-crypto'),
    requests: fc.integer({ min: 1, max: 24 }),
    stopFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    inflight: fc.integer({ min: 0, max: 4 }),
    seed: fc.nat(),
  });
  const prop = fc.property(arb, (a) => {
    if (!c.failing) tick(c, o);
    const stopAfter = Math.floor(a.stopFrac * a.requests);
    const base = { workload: a.workload, requests: a.requests, stopAfter, inflight: Math.min(a.inflight, a.requests - stopAfter), seed: a.seed };
    const plain = run.call(t, a.rev, { ...base, migrate: false });
    const moved = run.call(t, a.rev, { ...base, migrate: true });
    const i = firstDiff(plain, moved);
    if (i < 0) return true;
    const v = { property: 'transparency' as const, kind: `guest-visible-difference:${a.workload}`, revision: a.rev,
      detail: `result ${i} differs: without migration ${plain[i] ?? '(none)'}, with migration ${moved[i] ?? '(none)'}`,
      minimal: { revision: a.rev, ...base } };
    if (ledger.isKnown('transparency', v.kind, a.rev)) {
      ledger.add(v);
      return true;
    }
    c.failing = true;
    throw new PropertyViolation(v);
  });
  return finish('transparency', o, c, t0, check(prop, o), ledger);
}

function firstDiff(a: string[], b: string[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return -1;
}

export type { Mutation, Outcome };
