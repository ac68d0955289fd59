// The five fuzz properties (issue #5). Each runs under fast-check with a seed and a budget (runs
// or seconds) and reports runs, known findings met, and at most one new violation, shrunk to a
// minimal case with the seed and path (and replayPath for command sequences) that replay it.
import fc from 'fast-check';
import { DEFAULT_DEVICE, DEVICE_IDS, type DeviceConfig, type DeviceType } from '../device/mmio.ts';
import { ACC_VF_DATA_SIZE } from '../formats/accVfData.ts';
import type { Outcome } from '../oracle/types.ts';
import type { WorkloadName } from '../runners/types.ts';
import { Rng } from '../util/rng.ts';
import { acceptanceRuleFor, checkedFieldNames, differingCheckedFields, mustRefuse, type AcceptanceRule } from './checkedFields.ts';
import type { FindingsLedger, PropertyName, Violation } from './findings.ts';
import { applyMutation, describeMutation, diffBytes, drawMutation, familyCount, mutatedField, mutationToJson, type Mutation } from './mutations.ts';
import type { FuzzOutcome, SensitivityTable } from './sensitivity.ts';
import type { FuzzTarget, SourceStream, StreamCheck } from './target.ts';
import { newModel, openSession, uapiCommandArbs, UapiViolation, type UapiReal } from './uapiCommands.ts';

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
  /** stream: mutations derived from each generated value (default 16) */
  batch?: number;
  /** stream: run the guest case for 1 in N accepted mutants (default 4; 0 = never, check only) */
  guestEvery?: number;
  /** stream/transfer: guest workloads behind the source streams */
  workloads?: readonly WorkloadName[];
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

/** Sensitivity-report row for mutants whose chunked delivery alone changes the unmutated stream's outcome. */
export const DELIVERY_FIELD = 'chunked delivery';

export const STREAM_WORKLOADS: readonly WorkloadName[] = ['user-polling', 'kernel-crypto'];

/** Streams written by every source revision with each guest workload at its stop point, on the default device. */
export function sourceStreams(t: FuzzTarget, workloads: readonly WorkloadName[] = STREAM_WORKLOADS, device: DeviceConfig = DEFAULT_DEVICE): SourceStream[] {
  return t.revisions.flatMap((src) => workloads.map((workload) => ({ src, workload, device, stream: t.save(src, device, workload) })));
}

function ruleOf(t: FuzzTarget, rev: string): AcceptanceRule | null {
  return acceptanceRuleFor(rev, t.traitsOf(rev));
}

const sameBytes = (a: Uint8Array | null, b: Uint8Array) => a !== null && a.length === b.length && diffBytes(a, b) === 0;

/**
 * The outcome of one stream at one destination: the check (no guest) first; an accepted stream then
 * runs the guest case when `withGuest`, else it stays `accepted` (not verified by a guest).
 * A case that refuses what the check accepted is a harness disagreement, reported as a violation.
 */
function classify(t: FuzzTarget, dst: string, s: SourceStream, m: Mutation | null, mutated: Uint8Array, chunks: number[] | null, withGuest: boolean):
  { res: StreamCheck; outcome: FuzzOutcome; disagreement?: string } {
  const res = t.check(dst, mutated, chunks, s.device);
  if (res.outcome !== 'migrated') return { res, outcome: res.outcome };
  if (!withGuest || !t.runMutated) return { res, outcome: 'accepted' };
  const run = t.runMutated({ src: s.src, dst, workload: s.workload, device: s.device, chunks, mutate: (x) => (m ? applyMutation(x, m) : x) });
  if (!sameBytes(run.original, s.stream)) {
    throw new Error(`${s.src} (${s.workload}) wrote different bytes in the case than in the checked save: the fuzzer's source world drifted from captureStream`);
  }
  const full = run.check;
  if (full.outcome === 'error') throw new Error(`${s.src} -> ${dst} ${s.workload}: the case ended in error: ${full.reason}`);
  if (full.outcome === 'refused') return { res: full, outcome: 'refused', disagreement: `checkStream accepted it, the case refused it (${full.errno ?? ''} at ${full.stage ?? '?'}: ${full.reason})` };
  return { res: full, outcome: full.outcome };
}

export interface StreamPair {
  dst: string;
  s: SourceStream;
  /** the unmutated stream's outcome at this destination (guest run when accepted) */
  baseline: FuzzOutcome;
  reason: string;
  /** the check's outcome alone (no guest) */
  check: Outcome;
}

/** Every (destination, source stream) with its unmutated baseline. */
export function streamPairs(t: FuzzTarget, workloads: readonly WorkloadName[] = STREAM_WORKLOADS): StreamPair[] {
  const sources = sourceStreams(t, workloads);
  return t.revisions.flatMap((dst) => sources.map((s) => {
    const c = classify(t, dst, s, null, s.stream, null, true);
    return { dst, s, baseline: c.outcome, reason: c.res.reason, check: t.check(dst, s.stream, null, s.device).outcome };
  }));
}

// ---- property 1: stream mutation (measurement + must-hold) ----
/**
 * Each fast-check value is a cheap descriptor (pair, mutation family, seed, cut points); the
 * predicate derives `batch` mutations from it with a seeded generator (drawMutation) and checks
 * each: generation, not checking, dominated the cost of one arbitrary per mutation. Accepted
 * mutants run the guest case for 1 in `guestEvery` (deterministic in the seed; 0 = never).
 * Pairs whose unmutated stream is already broken (a known incompatibility) say nothing about a
 * field and are left out; the report lists them.
 */
export function streamProperty(t: FuzzTarget, o: RunOptions, ledger: FindingsLedger, table: SensitivityTable): PropertyResult {
  const t0 = Date.now();
  const batch = o.batch ?? 16;
  const guestEvery = t.runMutated ? o.guestEvery ?? 4 : 0;
  const all = streamPairs(t, o.workloads ?? STREAM_WORKLOADS);
  for (const p of all) table.baseline(p.dst, `${p.s.src} (${p.s.workload})`, p.baseline, p.reason);
  const pairs = all.filter((p) => p.baseline !== 'broken' && p.baseline !== 'error');
  if (!pairs.length) return { property: 'stream', seed: o.seed, runs: 0, ms: 0, failed: false, unavailable: 'every source/destination pair is broken unmutated' };
  table.guestEvery = guestEvery;
  const rules = new Map(t.revisions.map((r) => [r, ruleOf(t, r)]));
  const checkedNames = new Map(t.revisions.map((r) => [r, new Set(rules.get(r) ? checkedFieldNames(rules.get(r)!) : [])]));
  const families = Math.max(...pairs.map((p) => familyCount(p.s.stream)));
  const c: Counter = { runs: 0, failing: false };
  // no bias: fast-check's bias toward small integers would favour the first pairs and families
  const arb = fc.tuple(fc.noBias(fc.nat(pairs.length - 1)), fc.noBias(fc.nat(families - 1)), fc.noBias(fc.nat(0xffffffff)),
    fc.option(cutsArb(ACC_VF_DATA_SIZE + 64), { freq: 2 }));
  const prop = fc.property(arb, ([pi, fam, seed, cuts]) => {
    const { dst, s } = pairs[pi];
    const rng = new Rng(seed);
    const pick = new Rng(seed ^ 0x5bd1e995);
    const family = fam % familyCount(s.stream);
    const rule = rules.get(dst) ?? null;
    // what the chunking alone does to the unmutated stream (most of a batch shares one chunk list)
    const byChunks = new Map<string, Outcome>();
    const chunkingAlone = (chunks: number[]) => {
      const k = chunks.join(',');
      let out = byChunks.get(k);
      if (!out) byChunks.set(k, (out = t.check(dst, s.stream, chunks, s.device).outcome));
      return out;
    };
    for (let i = 0; i < batch; i++) {
      const m = drawMutation(s.stream, family, rng);
      const runGuest = guestEvery > 0 && pick.u32() % guestEvery === 0;
      const mutated = applyMutation(s.stream, m);
      const size = diffBytes(s.stream, mutated);
      if (size === 0) continue;
      const chunks = chunksOf(mutated.length, cuts);
      const { res, outcome, disagreement } = classify(t, dst, s, m, mutated, chunks, runGuest);
      // an outcome the chunking causes on its own (offset-blind copies) is not the field's: counted apart
      const field = chunks && mutated.length === s.stream.length && chunkingAlone(chunks) !== pairs[pi].check ? DELIVERY_FIELD : mutatedField(s.stream, m);
      const minimal = { src: s.src, workload: s.workload, dst, mutation: mutationToJson(m), chunks };
      if (!c.failing) {
        tick(c, o);
        table.record(dst, field, rule ? checkedNames.get(dst)!.has(field) : false, outcome, size, () => ({
          src: `${s.src} (${s.workload})`, mutation: describeMutation(m) + (chunks ? ` in chunks ${chunks.join(',')}` : ''), size,
          errno: res.errno, reason: res.reason, data: { ...mutationToJson(m), chunks, workload: s.workload },
        }));
      }
      if (disagreement) fail(ledger, c, { property: 'stream', kind: 'check-disagrees-with-case', revision: dst, detail: `${describeMutation(m)}: ${disagreement}`, minimal });
      const why = rule ? mustRefuse(rule, mutated, s.device) : null;
      if (why && res.outcome !== 'refused') {
        fail(ledger, c, { property: 'stream', kind: 'checked-field-not-refused', revision: dst, detail: `${why}, yet ${outcome} (${res.reason})`, minimal });
      }
    }
    return true;
  });
  return finish('stream', o, c, t0, check(prop, o), ledger);
}

/** A violation: counted when the registry knows it, else thrown to fail (and shrink) the property. */
function fail(ledger: FindingsLedger, c: Counter, v: Omit<Violation, 'seed' | 'path' | 'replayPath'>): void {
  if (ledger.isKnown(v.property, v.kind, v.revision)) {
    ledger.add(v);
    return;
  }
  c.failing = true;
  throw new PropertyViolation(v);
}

// ---- property 2: transfer invariance ----
/**
 * A stream accepted in one write keeps its outcome in any chunking. Outcomes are the case's when
 * the target runs guests (an accepted chunking must also migrate the guest as the single write does).
 */
export function transferProperty(t: FuzzTarget, o: RunOptions, ledger: FindingsLedger): PropertyResult {
  const t0 = Date.now();
  const accepted = streamPairs(t, o.workloads ?? ['user-polling']).filter((p) => p.baseline === 'migrated' || p.baseline === 'accepted');
  if (!accepted.length) return { property: 'transfer', seed: o.seed, runs: 0, ms: 0, failed: false, unavailable: 'no stream is accepted with one write' };
  const c: Counter = { runs: 0, failing: false };
  const prop = fc.property(fc.constantFrom(...accepted), cutsArb(ACC_VF_DATA_SIZE, 1), ({ dst, s, baseline }, cuts) => {
    const chunks = chunksOf(s.stream.length, cuts)!;
    if (!c.failing) tick(c, o);
    const many = classify(t, dst, s, null, s.stream, chunks, true);
    if (many.outcome === baseline) return true;
    fail(ledger, c, { property: 'transfer', kind: 'chunking-changes-verdict', revision: dst,
      detail: `one write: ${baseline}; chunks ${chunks.join(',')}: ${many.outcome} (${many.res.errno ?? ''} ${many.res.reason})`,
      minimal: { src: s.src, dst, workload: s.workload, chunks } });
    return true;
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

// ---- property 4: uAPI command sequences, judged by the conformance clauses ----
export function uapiProperty(t: FuzzTarget, o: RunOptions, ledger: FindingsLedger, maxCommands = 30): PropertyResult {
  const t0 = Date.now();
  const open = t.openDevice;
  if (!open) return { property: 'uapi', seed: o.seed, runs: 0, ms: 0, failed: false, unavailable: 'the engine has no simulated device factory yet' };
  const c: Counter = { runs: 0, failing: false };
  const cmds = fc.commands(uapiCommandArbs(), { maxCommands, ...(o.replayPath ? { replayPath: o.replayPath } : {}) });
  const prop = fc.property(fc.constantFrom(...t.revisions.map((rev) => ({ rev }))), cmds, ({ rev }, seq) => {
    if (!c.failing) tick(c, o);
    const d = open.call(t, rev);
    let dev = d.dev;
    const handle = {
      get dev() {
        return dev;
      },
      reopen() {
        dev = d.reopen();
        return dev;
      },
      close() {
        dev.close();
      },
    };
    const session = openSession(handle);
    if (session.monitor.flags === null) throw new Error(`${rev}: GET MIGRATION failed ${session.steps[0]?.res}`);
    const real: UapiReal = {
      revision: rev, session,
      onKnown: (kind, detail) => {
        if (!ledger.isKnown('uapi', kind, rev)) return false;
        ledger.add({ property: 'uapi', kind, revision: rev, detail, minimal: { revision: rev } });
        return true;
      },
    };
    try {
      fc.modelRun(() => ({ model: newModel(), real }), seq);
    } catch (e) {
      if (e instanceof UapiViolation) c.failing = true;
      throw e;
    }
  });
  return finish('uapi', o, c, t0, check(prop, o), ledger);
}

// ---- property 5: migration transparency ----
const TRANSPARENCY_WORKLOADS: readonly WorkloadName[] = ['user-polling', 'kernel-crypto', 'ras-recovery', 'no-driver', 'driver-unloaded'];

/**
 * Random workloads and stop points: the guest-visible results of a same-revision migration equal
 * those of the same workload never migrated (a refused migration leaves the guest on the source,
 * which must be invisible too).
 */
export function transparencyProperty(t: FuzzTarget, o: RunOptions, ledger: FindingsLedger): PropertyResult {
  const t0 = Date.now();
  const run = t.transparency;
  if (!run) return { property: 'transparency', seed: o.seed, runs: 0, ms: 0, failed: false, unavailable: 'the engine has no workload runner yet' };
  const c: Counter = { runs: 0, failing: false };
  const arb = fc.record({
    rev: fc.constantFrom(...t.revisions),
    workload: fc.constantFrom(...TRANSPARENCY_WORKLOADS),
    transfer: fc.constantFrom('single', 'qemu'),
    requests: fc.integer({ min: 0, max: 24 }),
    inflightFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    requestSize: fc.constantFrom(16, 64, 256, 4096),
    seed: fc.nat(0xffff),
  });
  const prop = fc.property(arb, (a) => {
    if (!c.failing) tick(c, o);
    const base = { workload: a.workload, transfer: a.transfer, requests: a.requests, inflight: Math.floor(a.inflightFrac * a.requests), requestSize: a.requestSize, seed: a.seed };
    const plain = run.call(t, a.rev, { ...base, migrate: false });
    const moved = run.call(t, a.rev, { ...base, migrate: true });
    const i = firstDiff(plain, moved);
    if (i < 0) return true;
    fail(ledger, c, { property: 'transparency', kind: `guest-visible-difference:${a.workload}`, revision: a.rev,
      detail: `without migration: ${plain[i] ?? '(nothing)'}; with migration: ${moved[i] ?? '(nothing)'}`,
      minimal: { revision: a.rev, ...base } });
    return true;
  });
  return finish('transparency', o, c, t0, check(prop, o), ledger);
}

function firstDiff(a: string[], b: string[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return -1;
}

export type { Mutation, Outcome };
