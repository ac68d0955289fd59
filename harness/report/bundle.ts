// Repro bundle: everything needed to rerun one case, as one JSON file (format 'migcompat-bundle',
// version 1). Written by the matrix reporter and the fuzzer; read by `migcompat replay`.
//
//   format, version        'migcompat-bundle', 1 (readers refuse other versions)
//   createdAt, createdBy   ISO time; 'matrix' | 'fuzz' | 'replay' | a tool name
//   runner                 optional: 'sim' (default), 'qemu' or 'vfio-host': which runner replays the case
//   title                  the case title (caseTitle)
//   case                   the CaseSpec, seed included (the rerun is a pure function of it on sim)
//   profiles               revision id → { path, text }: the revision profile YAML as it was at the run
//   stream                 captured stream bytes as hex, or null
//   verdict                { outcome, reason, errno, stage } the run ended with
//   timelineDigest         sha1 of the timeline JSON (toJson, no indent), or null
//   timeline               optional: the full timeline
//   expected               optional: { outcome, rule, known } from the matrix
//   extra                  optional: producer-specific data (fuzz property, counterexample path, …)
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { ProfileSnapshot } from '../drivers/yaml.ts';
import type { TimelineEvent, Verdict } from '../oracle/types.ts';
import { OUTCOMES } from '../oracle/types.ts';
import { GUEST_ARCHES, type CaseSpec } from '../runners/types.ts';
import { toJson } from '../util/hex.ts';
import { UsageError } from '../util/usage-error.ts';
import { writeFileAtomic } from '../util/atomic.ts';

export const BUNDLE_FORMAT = 'migcompat-bundle';
export const BUNDLE_VERSION = 1;

export const BUNDLE_RUNNERS = ['sim', 'qemu', 'vfio-host'] as const;
export type BundleRunner = (typeof BUNDLE_RUNNERS)[number];

// A revision's profile as a bundle keeps it is the driver registry's vocabulary (harness/drivers/yaml.ts).
export type { ProfileSnapshot } from '../drivers/yaml.ts';

export interface Bundle {
  format: typeof BUNDLE_FORMAT;
  version: typeof BUNDLE_VERSION;
  createdAt: string;
  createdBy: string;
  /** absent: sim */
  runner?: BundleRunner;
  title: string;
  case: CaseSpec;
  profiles: Record<string, ProfileSnapshot>;
  stream: string | null;
  verdict: Verdict;
  timelineDigest: string | null;
  timeline?: TimelineEvent[];
  expected?: { outcome: string; rule: string; known: string | null };
  extra?: Record<string, unknown>;
}

export function timelineDigest(events: TimelineEvent[]): string {
  return createHash('sha1').update(toJson(events, 0)).digest('hex');
}

export function streamHex(bytes: Uint8Array | null): string | null {
  return bytes ? Buffer.from(bytes).toString('hex') : null;
}

export function streamBytes(hex: string | null): Uint8Array | null {
  return hex === null ? null : new Uint8Array(Buffer.from(hex, 'hex'));
}

export function writeBundle(path: string, b: Omit<Bundle, 'format' | 'version'>): void {
  const full: Bundle = { format: BUNDLE_FORMAT, version: BUNDLE_VERSION, ...b };
  writeFileAtomic(path, toJson(full) + '\n');
}

export function readBundle(path: string): Bundle {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`${path}: cannot read the bundle (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${path}: not a bundle (invalid JSON: ${(e as Error).message.split('\n')[0]})`);
  }
  return validateBundle(doc, path);
}

export function validateBundle(doc: unknown, path: string): Bundle {
  const bad = (key: string, expected: string, got: unknown): never => {
    throw new UsageError(`${path}: ${key}: expected ${expected}, got ${JSON.stringify(got) ?? 'nothing'}`);
  };
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return bad('(top level)', 'a bundle object', doc);
  const b = doc as Record<string, unknown>;
  if (b.format !== BUNDLE_FORMAT) bad('format', `'${BUNDLE_FORMAT}'`, b.format);
  if (b.version !== BUNDLE_VERSION) bad('version', `${BUNDLE_VERSION} (this migcompat reads only that version)`, b.version);
  const c = b.case as Record<string, unknown> | undefined;
  if (!c || typeof c !== 'object') return bad('case', 'a case specification', c);
  for (const k of ['src', 'dst', 'workload', 'scenario', 'transfer'] as const) if (typeof c[k] !== 'string') bad(`case.${k}`, 'a string', c[k]);
  for (const k of ['requests', 'inflight', 'requestSize', 'seed'] as const) if (!Number.isInteger(c[k])) bad(`case.${k}`, 'an integer', c[k]);
  if (!c.device || typeof c.device !== 'object') bad('case.device', 'a device configuration', c.device);
  if (c.arch !== undefined && !(GUEST_ARCHES as readonly unknown[]).includes(c.arch)) bad('case.arch', `one of ${GUEST_ARCHES.join(', ')}`, c.arch);
  const v = b.verdict as Record<string, unknown> | undefined;
  if (!v || typeof v !== 'object' || !(OUTCOMES as readonly unknown[]).includes(v.outcome)) bad('verdict.outcome', `one of ${OUTCOMES.join(', ')}`, v?.outcome);
  if (b.stream !== null && (typeof b.stream !== 'string' || !/^([0-9a-f]{2})*$/i.test(b.stream))) bad('stream', 'hex bytes or null', b.stream);
  if (!b.profiles || typeof b.profiles !== 'object') bad('profiles', 'a mapping revision id → {path, text}', b.profiles);
  for (const [id, p] of Object.entries(b.profiles as Record<string, unknown>)) {
    if (!p || typeof p !== 'object' || typeof (p as ProfileSnapshot).text !== 'string') bad(`profiles.${id}.text`, 'the profile YAML text', p);
  }
  if (typeof b.title !== 'string') bad('title', 'a string', b.title);
  if (b.runner !== undefined && !(BUNDLE_RUNNERS as readonly unknown[]).includes(b.runner)) bad('runner', `one of ${BUNDLE_RUNNERS.join(', ')}`, b.runner);
  return doc as Bundle;
}
