// A driver revision: either a trait-driven model (YAML) or an external implementation (e.g. the
// `ktree:NAME` revisions, real driver code run elsewhere). Both bind to one VF and hand the VFIO
// core a MigrationDriver; the rest of the harness never asks which kind it got.
import type { DeviceConfig, MmioTarget } from '../device/mmio.ts';
import type { Side } from '../oracle/types.ts';
import type { Timeline } from '../util/timeline.ts';
import type { MigrationDriver } from '../vfio/driver.ts';
import type { Traits } from './traits.ts';

/** What a host driver needs of a simulated VF (harness/device QmVf satisfies this structurally). */
export interface QmHost extends MmioTarget {
  /** model assumption 1 (docs/device-model.md#model-assumptions): after a restore the device delivers events to the driver's composed bases */
  readonly firmware: { setEventDmaBases(eqeDma: bigint, aeqeDma: bigint): void };
  /** VFIO_DEVICE_RESET / FLR of the VF */
  functionReset(): void;
}

export interface DriverContext {
  host: QmHost;
  /** identity of the VF as the host sees it: PCI device id (from type) and vf_id for the PF's VFT */
  config: DeviceConfig;
  timeline: Timeline;
  side: Side;
}

export interface Revision {
  /** 'hisi-acc/v6.16', 'ktree:debian-6.1', … */
  id: string;
  title: string;
  /** kernel versions / dates this revision stands for */
  kernel: string;
  kind: 'model' | 'external';
  /** where it was defined (YAML path, or the registering module) */
  source: string;
  /** trait-driven models only */
  traits?: Traits;
  /** probe: bind this revision's driver to one VF. Called once per device object. */
  bind(ctx: DriverContext): MigrationDriver;
  /**
   * Real code that runners isolate (`ktree:` ids resolved by loadRevision): the shared library a
   * child process loads. runCase/checkStream send a case using it to that child, so a crash or a
   * hang of the code ends the case as `error`; `bind` still works in process for direct use.
   */
  childLib?: string;
}
