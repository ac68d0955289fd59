// What the properties need from the engine, as one narrow interface. engineTarget.ts binds it to
// the simulated device and the revision models; the fuzzer's own specs can bind it to a planted
// defect to prove a property fails when it should.
import type { DeviceConfig } from '../device/mmio.ts';
import type { Outcome } from '../oracle/types.ts';
import type { VfioDevice } from '../vfio/types.ts';

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
  device: DeviceConfig;
  stream: Uint8Array;
}

export interface FuzzTarget {
  /** revision ids under test (destinations for stream properties, devices for uapi) */
  revisions: readonly string[];
  /** declared traits of a revision, when it has any (hypothetical revisions' spec) */
  traitsOf(rev: string): import('../drivers/traits.ts').Traits | undefined;
  /** the stream a source revision writes from a device (full 176-byte save with a ready guest driver) */
  save(src: string, device: DeviceConfig): Uint8Array;
  /** what a destination of `dst` on device `dest` does with `stream` written in `chunks` (null = one write) */
  check(dst: string, stream: Uint8Array, chunks: readonly number[] | null, dest: DeviceConfig): StreamCheck;
  /** a fresh simulated device bound to `rev`, and a way to close and reopen its fd */
  openDevice?(rev: string): { dev: VfioDevice; reopen(): VfioDevice };
  /** guest-visible results of a workload run, with or without a same-revision migration at `stopAfter` requests */
  transparency?(rev: string, t: TransparencyCase): string[];
}

export interface TransparencyCase {
  workload: string;
  requests: number;
  stopAfter: number;
  inflight: number;
  seed: number;
  migrate: boolean;
}
