// Model against real code (`migcompat ktree compare`): the same check probes (streams × chunkings ×
// destination configurations), save probes (workloads × devices × device faults), uAPI scripts
// (PRE_COPY and PRECOPY_INFO, writes after a failed write, a second resume session, reset in each
// state: probeScripts.ts) and a matrix slice run on a model revision and on the real code of the
// same version; every disagreement is a fidelity finding with both sides' evidence. Known ones are
// listed in specs/findings/ktree.yaml.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_DEVICE, type DeviceConfig, type DeviceType } from '../device/mmio.ts';
import type { DeviceFaults } from '../device/qmvf.ts';
import { loadRevision } from '../drivers/registry.ts';
import { judge } from '../oracle/judge.ts';
import type { Evidence, TimelineEvent } from '../oracle/types.ts';
import { destinationFor } from '../runners/simCheck.ts';
import type { CaseSpec, WorkloadName } from '../runners/types.ts';
import { UsageError } from '../util/usage-error.ts';
import { readYaml } from '../util/yamlSchema.ts';
import { hostActions, runJob, type Job, type JobResult } from './jobs.ts';
import { runJobsInChild } from './pool.ts';
import { probeScripts } from './probeScripts.ts';
import { resolveKtree, type KtreeEntry } from './registry.ts';

export const FINDINGS_FILE = resolve('specs/findings/ktree.yaml');

export interface Finding {
  job: string;
  /** evidence field that differs ('error' when one side could not run the job) */
  field: string;
  model: unknown;
  real: unknown;
  /** id of the registry entry that explains it, or null (unrecorded: fails CI) */
  known: string | null;
}

export interface KnownFidelityFinding {
  id: string;
  model: string;
  real: string;
  /** regular expressions on the job id and the field */
  job: string;
  field: string;
  explanation: string;
}

export interface CompareReport {
  model: string;
  real: string;
  jobs: number;
  /** jobs whose evidence is identical on both sides */
  agreed: number;
  /** jobs with no unrecorded disagreement */
  agreedOrKnown: number;
  /** cases whose oracle verdict (outcome) is the same on both sides: [same, cases] */
  verdicts: [number, number];
  /** jobs by kind: [agreed, total] */
  byKind: Record<string, [number, number]>;
  findings: Finding[];
  unrecorded: number;
  seconds: { model: number; real: number };
  /** what the reader should know about the pair, e.g. the point release fetched is not the model's */
  notes: string[];
}

export interface CompareOptions {
  /** 'quick' keeps a few jobs per kind (tests), 'full' is the CI self-check */
  scope?: 'quick' | 'full';
  jobTimeoutMs?: number;
  findingsFile?: string;
}

// ---- probe sets ---------------------------------------------------------------------------------

const STREAM_SOURCES = ['hisi-acc/v5.18', 'hisi-acc/v6.16'];
// single write, QEMU's plan, byte-wise start, a split inside the body, the header alone first, and
// a header followed by a 1-byte write (the match check runs at 40 bytes, then again)
const CHUNKINGS = ['single', 'qemu', 'chunks:1,175', 'chunks:100,76', 'chunks:40,136', 'chunks:40,1,135'];

function setU32(b: Buffer, off: number, v: number): Buffer {
  const c = Buffer.from(b);
  c.writeUInt32LE(v >>> 0, off);
  return c;
}

/** Streams a destination is probed with: real sources' output and hand-made variants of it. */
export function probeStreams(model: string): { name: string; hex: string }[] {
  const out: { name: string; hex: string }[] = [];
  const base: Record<string, Buffer> = {};
  for (const src of [...STREAM_SOURCES, model]) {
    const r = runJob({ kind: 'save', id: 's', rev: src, device: DEFAULT_DEVICE, workload: 'kernel-crypto', seed: 7 }, loadRevision);
    const hex = String(r.evidence?.stream ?? '');
    if (!hex) continue;
    base[src] = Buffer.from(hex, 'hex');
    out.push({ name: `from ${src}`, hex });
  }
  const b = base[model] ?? Object.values(base)[0];
  if (!b || b.length < 176) return out;
  const v = (name: string, buf: Buffer) => out.push({ name, hex: buf.toString('hex') });
  v('bad magic', setU32(b, 0, 0x12345678));
  v('V2 major 2', setU32(b, 28, 2));
  v('V2 minor 7', setU32(b, 28, 0x00070001));
  v('dev_id HPRE', setU32(b, 12, 0xa259));
  v('qp_num +1', setU32(b, 8, b.readUInt32LE(8) + 1));
  v('que_iso_cfg 1', setU32(b, 16, 1));
  v('vf_qm_state 1', setU32(b, 24, 1));
  v('match-only', b.subarray(0, 40));
  v('truncated 39', b.subarray(0, 39));
  v('truncated 100', b.subarray(0, 100));
  v('null dma', Buffer.concat([b.subarray(0, 144), Buffer.alloc(32)]));
  v('oversize 177', Buffer.concat([b, Buffer.alloc(1)]));
  return out;
}

function destConfigs(stream: Buffer): { name: string; dest: DeviceConfig; faults?: Partial<DeviceFaults> }[] {
  const d = destinationFor(stream);
  return [
    { name: 'matching', dest: d },
    { name: 'HPRE', dest: { ...d, type: 'HPRE' } },
    { name: 'qpNum 8', dest: { ...d, qpNum: 8 } },
    { name: 'iso 1', dest: { ...d, queIsoCfg: 1 } },
    { name: 'mailbox fails', dest: d, faults: { mailboxFails: true } },
    { name: 'mailbox busy', dest: d, faults: { mailboxStuckBusy: true } },
  ];
}

export function buildJobs(model: string, real: string, scope: 'quick' | 'full'): { model: Job[]; real: Job[] } {
  const mj: Job[] = [];
  const rj: Job[] = [];
  const both = (j: Job, revField: 'rev' | 'spec') => {
    mj.push(j);
    if (revField === 'rev' && 'rev' in j) rj.push({ ...j, rev: real } as Job);
    else if (j.kind === 'case') {
      const s = j.spec;
      rj.push({ ...j, spec: { ...s, src: s.src === model ? real : s.src, dst: s.dst === model ? real : s.dst } });
    }
  };
  const quick = scope === 'quick';
  // check probes
  const streams = probeStreams(model);
  for (const s of quick ? streams.filter((x) => /from|magic|match-only|null dma/.test(x.name)) : streams) {
    const buf = Buffer.from(s.hex, 'hex');
    for (const t of quick ? ['single', 'chunks:1,175'] : CHUNKINGS) {
      for (const d of quick ? destConfigs(buf).slice(0, 2) : destConfigs(buf)) {
        both({ kind: 'check', id: `check [${s.name}] ${t} ${d.name}`, rev: model, streamHex: s.hex, dest: d.dest, transfer: t, faults: d.faults }, 'rev');
      }
    }
  }
  // uAPI scripts on the model's own stream and a destination that matches it
  const own = streams.find((x) => x.name === `from ${model}`);
  if (own) {
    const buf = Buffer.from(own.hex, 'hex');
    if (buf.length === 176) for (const j of probeScripts(model, buf, destinationFor(buf), scope)) both(j, 'rev');
  }
  // save probes
  const workloads: WorkloadName[] = quick ? ['kernel-crypto', 'no-driver'] : ['kernel-crypto', 'user-polling', 'no-driver', 'driver-unloaded'];
  const types: DeviceType[] = quick ? ['SEC'] : ['SEC', 'HPRE', 'ZIP'];
  const faults: [string, Partial<DeviceFaults> | undefined][] = quick ? [['none', undefined], ['vft never ready', { vftNeverReady: true }]]
    : [['none', undefined], ['vft never ready', { vftNeverReady: true }], ['ifc stuck', { ifcStatusStuck: true }],
      ['cache wb never done', { cacheWbNeverDone: true }], ['mailbox fails', { mailboxFails: true }]];
  for (const w of workloads) for (const ty of types) for (const [fn, f] of faults) {
    both({ kind: 'save', id: `save ${w} ${ty} ${fn}`, rev: model, device: { ...DEFAULT_DEVICE, type: ty }, workload: w, seed: 11, faults: f }, 'rev');
  }
  // matrix slice: the revision on either side against released models
  const others = quick ? ['hisi-acc/v6.16'] : ['hisi-acc/v5.18', 'hisi-acc/v6.16'];
  const pairs: [string, string][] = [[model, model], ...others.flatMap((o): [string, string][] => [[model, o], [o, model]])];
  const cw: WorkloadName[] = quick ? ['kernel-crypto'] : ['kernel-crypto', 'user-polling', 'no-driver', 'ras-recovery'];
  const ct = quick ? ['single'] : ['single', 'qemu', 'chunks:1,175'];
  for (const [src, dst] of pairs) for (const w of cw) for (const t of ct) {
    const spec: CaseSpec = { src, dst, workload: w, scenario: 'single-hop', transfer: t, device: DEFAULT_DEVICE, requests: 8, inflight: 2, requestSize: 64, seed: 5 };
    both({ kind: 'case', id: `case ${src === model ? 'REV' : src} -> ${dst === model ? 'REV' : dst} ${w} ${t}`, spec }, 'spec');
  }
  return { model: mj, real: rj };
}

// ---- comparison ---------------------------------------------------------------------------------

/** The comparable view of a job's evidence (what both sides must agree on). */
function view(kind: string, ev: Record<string, unknown>): Record<string, unknown> {
  if (kind !== 'case') {
    // log text and the reason built from it are each side's own wording: shown, not compared
    const { dmesg: _d, reason: _r, hang, ...rest } = ev;
    void _d; void _r;
    const h = hang as { arcs?: unknown } | string | string[] | null | undefined;
    return splitActions({ ...rest, hang: h && typeof h === 'object' && !Array.isArray(h) ? h.arcs ?? null : h ?? null });
  }
  const e = ev as unknown as Evidence & { stream: string | null };
  const revived: Evidence = { ...e, stream: e.stream ? Buffer.from(String(e.stream), 'hex') : null };
  const v = judge(revived);
  return {
    outcome: v.outcome, errno: v.errno, stage: v.stage, stream: e.stream, srcFinalState: e.srcFinalState, dstFinalState: e.dstFinalState,
    // a hang's arcs are compared; where it is named is each side's own wording
    guestOn: e.guestOn, checks: e.checks.map((c) => `${c.name}:${c.ok}`), hang: e.hang?.arcs ?? null, harnessError: e.harnessError,
    ...splitActions({ actions: hostActions(e.timeline as TimelineEvent[]) }),
  };
}

/**
 * Device actions before the first state arc (probe and open_device) and after it (migration),
 * compared as separate fields so a known difference in one phase does not hide one in the other.
 */
function splitActions(v: Record<string, unknown>): Record<string, unknown> {
  const a = v.actions as string[] | undefined;
  if (!Array.isArray(a)) return v;
  const first = a.findIndex((x) => / arc /.test(x));
  const cut = first < 0 ? a.length : first;
  const { actions: _a, ...rest } = v;
  void _a;
  return { ...rest, 'actions.open': a.slice(0, cut), 'actions.migration': a.slice(cut) };
}

/** The fidelity findings file (specs/schemas/ktree-findings.schema.json); job and field must compile as regular expressions. */
export function loadFindings(file = FINDINGS_FILE): KnownFidelityFinding[] {
  if (!existsSync(file)) return [];
  const { findings } = readYaml('ktree-findings', file) as { findings: KnownFidelityFinding[] };
  findings.forEach((f, i) => {
    for (const k of ['job', 'field'] as const) {
      try {
        new RegExp(f[k]);
      } catch {
        throw new UsageError(`${file}: findings[${i}].${k}: expected a regular expression, got ${JSON.stringify(f[k])}`);
      }
    }
  });
  return findings;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export function diffResults(model: string, real: string, jobs: Job[], m: JobResult[], r: JobResult[], known: KnownFidelityFinding[]):
  { findings: Finding[]; agreedIds: Set<string> } {
  const findings: Finding[] = [];
  const agreedIds = new Set<string>();
  const explain = (job: string, field: string): string | null =>
    known.find((k) => k.model === model && k.real === real && new RegExp(k.job).test(job) && new RegExp(k.field).test(field))?.id ?? null;
  jobs.forEach((j, i) => {
    const a = m[i];
    const b = r[i];
    const before = findings.length;
    if (a.error || b.error || !a.evidence || !b.evidence) {
      if (a.error !== b.error) findings.push({ job: j.id, field: 'error', model: a.error, real: b.error, known: explain(j.id, 'error') });
    } else {
      const va = view(j.kind, a.evidence);
      const vb = view(j.kind, b.evidence);
      for (const k of new Set([...Object.keys(va), ...Object.keys(vb)])) {
        if (!same(va[k], vb[k])) findings.push({ job: j.id, field: k, model: va[k], real: vb[k], known: explain(j.id, k) });
      }
    }
    if (findings.length === before) agreedIds.add(j.id);
  });
  return { findings, agreedIds };
}

const patchLevel = (s: string): [string, string] | null => {
  const m = /(\d+\.\d+)\.(\d+)/.exec(s);
  return m ? [m[1], m[2]] : null;
};

/**
 * A Debian tree is pinned by series, so apt may serve a newer point release than the one a model
 * profile was derived from: say so (the self-check still runs against what was fetched).
 */
export function pointReleaseNotes(model: { id: string; kernel: string }, real: KtreeEntry): string[] {
  const m = patchLevel(model.kernel);
  const r = patchLevel(real.kernelVersion);
  if (!m || !r || m[0] !== r[0] || m[1] === r[1]) return [];
  return [`${model.id} describes ${m[0]}.${m[1]}, the real code is ${r[0]}.${r[1]}` +
    `${real.pkgVersion ? ` (package ${real.pkgVersion})` : ''}: compared as fetched; differences may be the point releases'`];
}

/** Run the self-check of `model` against `real` (a ktree: id). */
export async function compare(model: string, real: string, opts: CompareOptions = {}): Promise<CompareReport> {
  if (!real.startsWith('ktree:')) throw new UsageError(`--real must be a ktree: revision, got '${real}'`);
  const modelRev = loadRevision(model); // bad id → UsageError before anything runs
  const entry = resolveKtree(real);
  const notes = pointReleaseNotes(modelRev, entry);
  const known = loadFindings(opts.findingsFile);
  const { model: mj, real: rj } = buildJobs(model, real, opts.scope ?? 'full');
  let t0 = process.hrtime.bigint();
  const m = mj.map((j) => runJob(j, loadRevision));
  const tm = Number(process.hrtime.bigint() - t0) / 1e9;
  t0 = process.hrtime.bigint();
  const r = await runJobsInChild(rj, { libs: { [real]: entry.libPath }, jobTimeoutMs: opts.jobTimeoutMs });
  const tr = Number(process.hrtime.bigint() - t0) / 1e9;
  const { findings, agreedIds } = diffResults(model, real, mj, m, r, known);
  const unexplained = new Set(findings.filter((f) => f.known === null).map((f) => f.job));
  let sameVerdict = 0;
  let cases = 0;
  mj.forEach((j, i) => {
    if (j.kind !== 'case') return;
    cases++;
    const a = m[i].evidence;
    const b = r[i].evidence;
    if (a && b && view('case', a).outcome === view('case', b).outcome) sameVerdict++;
  });
  const byKind: Record<string, [number, number]> = {};
  for (const j of mj) {
    const e = (byKind[j.kind] ??= [0, 0]);
    e[1]++;
    if (agreedIds.has(j.id)) e[0]++;
  }
  return {
    model, real, jobs: mj.length, agreed: agreedIds.size, agreedOrKnown: mj.filter((j) => !unexplained.has(j.id)).length,
    verdicts: [sameVerdict, cases], byKind, findings,
    unrecorded: findings.filter((f) => f.known === null).length, seconds: { model: tm, real: tr }, notes,
  };
}

/** Human-readable report: agreement per kind, then each finding with both sides. */
export function formatReport(rep: CompareReport, maxFindings = 40): string {
  const lines = [
    `model ${rep.model} vs real ${rep.real}: ${rep.jobs} jobs, ${rep.agreed} identical, ` +
      `${rep.agreedOrKnown} agree up to recorded findings; case verdicts agree ${rep.verdicts[0]}/${rep.verdicts[1]}`,
    ...rep.notes.map((n) => `note: ${n}`),
    'identical jobs by kind:',
  ];
  for (const [k, [a, t]] of Object.entries(rep.byKind)) lines.push(`  ${k.padEnd(6)} ${a}/${t}`);
  const groups = new Map<string, Finding[]>();
  for (const f of rep.findings) {
    const key = `${f.known ?? 'UNRECORDED'} | ${f.field}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  lines.push(`findings: ${rep.findings.length} (${rep.unrecorded} unrecorded) in ${groups.size} groups`);
  let shown = 0;
  for (const [key, fs] of groups) {
    lines.push(`- ${key}: ${fs.length} job(s), e.g. ${fs[0].job}`);
    for (const f of fs.slice(0, 1)) {
      if (shown++ >= maxFindings) break;
      lines.push(`    model: ${JSON.stringify(f.model)}`, `    real:  ${JSON.stringify(f.real)}`);
    }
  }
  return lines.join('\n');
}
