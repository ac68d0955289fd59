// One fuzz run: the chosen properties in turn, under one seed, each with a budget; the findings
// ledger sorts violations into known and new; the sensitivity report and a repro bundle per new
// finding go to results/<run>/fuzz/.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_DEVICE } from '../device/mmio.ts';
import { loadRevision } from '../drivers/registry.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { writeBundle, type ProfileSnapshot } from '../report/bundle.ts';
import { toJson } from '../util/hex.ts';
import { FindingsLedger, loadRegistry, PROPERTIES, type PropertyName, type Violation } from './findings.ts';
import { applyMutation, mutationFromJson } from './mutations.ts';
import { configProperty, streamProperty, transferProperty, transparencyProperty, uapiProperty, type PropertyResult, type RunOptions } from './properties.ts';
import { SensitivityTable, writeSensitivity } from './sensitivity.ts';
import type { FuzzTarget } from './target.ts';
import { STREAM_GUEST } from './guestRuns.ts';
import type { WorkloadName } from '../runners/types.ts';

export interface FuzzRunOptions {
  properties?: PropertyName[];
  seed: number;
  /** per property: a time budget, else a run count */
  seconds?: number;
  numRuns?: number;
  /** stream: run the guest case for 1 in N accepted mutants (0 = never) */
  guestEvery?: number;
  path?: string;
  replayPath?: string;
  /** findings registry path; null = none (replays report every violation) */
  registry?: string | null;
  /** results/<run>/fuzz; nothing is written when null */
  outDir: string | null;
  onProgress?(property: PropertyName, runs: number, ledger: FindingsLedger): void;
}

export interface FuzzSummary {
  seed: number;
  results: PropertyResult[];
  known: { id: string; count: number; revisions: string[] }[];
  new: Violation[];
  files: string[];
}

const RUNNERS: Record<PropertyName, (t: FuzzTarget, o: RunOptions, l: FindingsLedger, s: SensitivityTable) => PropertyResult> = {
  stream: (t, o, l, s) => streamProperty(t, o, l, s),
  transfer: (t, o, l) => transferProperty(t, o, l),
  config: (t, o, l) => configProperty(t, o, l),
  uapi: (t, o, l) => uapiProperty(t, o, l),
  transparency: (t, o, l) => transparencyProperty(t, o, l),
};

export function runFuzz(target: FuzzTarget, o: FuzzRunOptions): FuzzSummary {
  const ledger = new FindingsLedger(o.registry === null ? [] : loadRegistry(o.registry));
  const table = new SensitivityTable();
  const results: PropertyResult[] = [];
  for (const p of o.properties ?? [...PROPERTIES]) {
    const r = RUNNERS[p](target, {
      seed: o.seed, seconds: o.seconds, numRuns: o.numRuns, guestEvery: o.guestEvery, path: o.path, replayPath: o.replayPath,
      onProgress: (runs) => o.onProgress?.(p, runs, ledger),
    }, ledger, table);
    o.onProgress?.(p, r.runs, ledger);
    results.push(r);
  }
  const files: string[] = [];
  const s = ledger.summary();
  if (o.outDir) {
    if (table.runs) files.push(...writeSensitivity(o.outDir, table.toReport(o.seed)));
    for (const v of s.new) files.push(saveBundle(o.outDir, v, target));
    const sum = join(o.outDir, 'summary.json');
    writeFileAtomic(sum, toJson({ seed: o.seed, results, known: s.known, new: s.new }) + '\n');
    files.push(sum);
  }
  return { seed: o.seed, results, known: s.known, new: s.new, files };
}

function profile(id: string): ProfileSnapshot {
  try {
    const rev = loadRevision(id);
    return { path: rev.source, text: readFileSync(rev.source, 'utf8') };
  } catch {
    return { path: null, text: '' };
  }
}

/** A new finding as a repro bundle (harness/report/bundle.ts format); `extra.fuzz` replays it. */
export function saveBundle(dir: string, v: Violation, target: FuzzTarget): string {
  const m = v.minimal as Record<string, unknown>;
  const src = String(m.src ?? m.revision ?? v.revision);
  const dst = String(m.dst ?? m.revision ?? v.revision);
  const chunks = Array.isArray(m.chunks) ? (m.chunks as number[]) : null;
  const workload = (typeof m.workload === 'string' ? m.workload : 'user-polling') as WorkloadName;
  let stream: string | null = null;
  try {
    if (v.property === 'stream' || v.property === 'transfer') {
      let bytes = target.save(src, DEFAULT_DEVICE, workload);
      if (m.mutation) bytes = applyMutation(bytes, mutationFromJson(m.mutation as Record<string, unknown>));
      stream = Buffer.from(bytes).toString('hex');
    }
  } catch {
    stream = null;
  }
  const file = join(dir, 'bundles', `${v.property}-${v.kind.replace(/[^\w.-]+/g, '_')}-${v.revision.replace(/[^\w.-]+/g, '_')}.json`);
  writeBundle(file, {
    createdAt: new Date().toISOString(),
    createdBy: 'fuzz',
    title: `fuzz ${v.property}: ${v.kind} on ${v.revision}`,
    // the case a plain `runCase` replay would run: the guest behind the stream (the mutation itself is in extra.fuzz)
    case: v.property === 'transparency'
      ? { src, dst, workload, scenario: 'single-hop', transfer: String(m.transfer ?? 'single'), device: DEFAULT_DEVICE,
        requests: Number(m.requests ?? 0), inflight: Number(m.inflight ?? 0), requestSize: Number(m.requestSize ?? 64), seed: Number(m.seed ?? 0) }
      : { src, dst, workload, scenario: 'single-hop', transfer: chunks ? `chunks:${chunks.join(',')}` : 'single',
        device: DEFAULT_DEVICE, requests: STREAM_GUEST.requests, inflight: STREAM_GUEST.inflight, requestSize: STREAM_GUEST.requestSize, seed: STREAM_GUEST.seed },
    profiles: Object.fromEntries([...new Set([src, dst])].map((id) => [id, profile(id)])),
    stream,
    verdict: { outcome: 'broken', reason: `${v.kind}: ${v.detail}`, errno: null, stage: null },
    timelineDigest: null,
    extra: { fuzz: { revisions: target.revisions, property: v.property, kind: v.kind, revision: v.revision, seed: v.seed, path: v.path, replayPath: v.replayPath, minimal: v.minimal, detail: v.detail } },
  });
  return file;
}
