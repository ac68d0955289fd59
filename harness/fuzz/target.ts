// What the properties need from the engine, as one narrow interface. engineTarget.ts binds it to
// the simulated device and the revision models; the fuzzer's own specs can bind it to a planted
// defect to prove a property fails when it should.
import type { DeviceConfig } from '../device/mmio.ts';
import type { Traits } from '../drivers/traits.ts';
import type { Outcome } from '../oracle/types.ts';
import type { VfioDevice } from '../vfio/types.ts';
import type { WorkloadName } from '../runners/types.ts';

/**
 * A destination's answer to a stream. From `check` (no guest): `refused`, `broken` (a hang), or
 * `migrated` meaning only "accepted" until `runMutated` ran the guest after it.
 */
export interface StreamCheck {
  outcome: Outcome;
  errno: string | null;
  /** 'write', 'resuming->stop', … */
  stage: string | null;
  reason: string;
}

export interface SourceStream {
  /** the source revision that wrote it */
  src: string;
  /** the guest workload at its stop point when it was written */
  workload: WorkloadName;
  device: DeviceConfig;
  stream: Uint8Array;
}

/** A full single-hop case whose stream is mutated in transit (see guestRuns.ts). */
export interface MutatedRunRequest {
  src: string;
  dst: string;
  workload: WorkloadName;
  device: DeviceConfig;
  mutate(stream: Uint8Array): Uint8Array;
  chunks: readonly number[] | null;
}

export interface MutatedRunResult {
  /** the oracle's verdict on the case (guest resumed where the stream landed) */
  check: StreamCheck;
  /** the stream the source wrote in that run (must equal `save`'s) */
  original: Uint8Array | null;
}

export interface FuzzTarget {
  /** revision ids under test (destinations for stream properties, devices for uapi) */
  revisions: readonly string[];
  /** declared traits of a revision, when it has any (hypothetical revisions' spec) */
  traitsOf(rev: string): Traits | undefined;
  /** the stream a source revision writes while a guest running `workload` (default user-polling) is at its stop point */
  save(src: string, device: DeviceConfig, workload?: WorkloadName): Uint8Array;
  /** what a destination of `dst` on device `dest` does with `stream` written in `chunks` (null = one write) */
  check(dst: string, stream: Uint8Array, chunks: readonly number[] | null, dest: DeviceConfig): StreamCheck;
  /** run the guest case behind an accepted stream: what check()'s `migrated` really ends as */
  runMutated?(r: MutatedRunRequest): MutatedRunResult;
  /** a fresh simulated device bound to `rev`, and a way to close and reopen its fd */
  openDevice?(rev: string): { dev: VfioDevice; reopen(): VfioDevice };
  /** guest-visible results of a workload run, with or without a same-revision migration at its stop point */
  transparency?(rev: string, t: TransparencyCase): string[];
}

export interface TransparencyCase {
  workload: WorkloadName;
  /** transfer plan of the migrated run */
  transfer: string;
  /** the stop point: requests submitted before it, and how many are still in flight there */
  requests: number;
  inflight: number;
  requestSize: number;
  seed: number;
  migrate: boolean;
}
