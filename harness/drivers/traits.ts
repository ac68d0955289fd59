// Revision traits: every behaviour in which the hisi_acc_vfio_pci revisions differ, as data
// (docs/revisions.md). Each trait cites where it is documented (docs/reference.md#how-to-cite); the
// YAML files in specs/revisions/hisi-acc/ give one value per trait per revision.
import type { AcceptRule, WriteRule } from '../formats/streamRules.ts';
import type { VfioCore } from '../vfio/fsm.ts';

// The stream-facing rules live with the formats (lint reasons over them); re-exported for the drivers.
export { findAcceptRule, NAMED_MAGICS, type AcceptRule, type WriteRule } from '../formats/streamRules.ts';

export interface Traits {
  /** docs/reference.md#magics-and-version-fields: magic (and version fields) written by the source */
  write: WriteRule;
  /** docs/reference.md#match-check-order-and-errnos: magics accepted by the destination; anything else is -EINVAL */
  accept: AcceptRule[];
  /** docs/reference.md#event-queue-address-composition: eqe_dma/aeqe_dma composition on save: buggy = dw[1]<<32|dw[0], fixed = dw[2]<<32|dw[1] */
  xqcCompose: 'buggy' | 'fixed';
  /** docs/reference.md#pre-copy-support: PRE_COPY advertised (migration_flags 0x5) and the PRECOPY_INFO ioctl */
  preCopy: boolean;
  /** docs/reference.md#device-feature-ioctl: the kernel has VFIO_DEVICE_FEATURE_MIG_DATA_SIZE (v6.2+) */
  dataSizeFeature: boolean;
  /** docs/reference.md#where-the-match-check-runs: where the match check runs */
  matchCheck: 'resuming-stop' | 'write';
  /** docs/reference.md#match-check-order-and-errnos, docs/reference.md#update-function-return-values: legacy = -EINVAL/-EBUSY as coded before "update function return values"; propagate = sub-function errnos */
  errnos: 'legacy' | 'propagate';
  /** docs/reference.md#resume-fd-write-semantics: data-fd copy offset: buffer-start = always offset 0 (offset-blind), f-pos = the file position */
  fdOffset: 'buffer-start' | 'f-pos';
  /** docs/reference.md#match-check-order-and-errnos, docs/reference.md#load_data-steps: where the received vf_qm_state is written to QM_VF_STATE */
  vfStateWrite: 'match' | 'load';
  /** docs/reference.md#null-dma-guard: a NULL eqe/aeqe/sqc/cqc address makes load a no-op (driver state NOT_READY) */
  nullDmaGuard: boolean;
  /** docs/reference.md#load_data-steps: driver's vf_qm_state before any load: ready (zeroed at probe) or not-ready (set at probe) */
  initialVfQmState: 'ready' | 'not-ready';
  /** docs/reference.md#cache-write-back: cache write-back during state save (R0–R2, R-Deb) or during stop (R3+) */
  cacheWriteback: 'save' | 'stop';
  /** docs/reference.md#eq-and-aeq-doorbells-on-save: EQ/AEQ doorbells with the saved heads on the source after save */
  xeqcDoorbellsOnSave: boolean;
  /** docs/reference.md#starting-the-device: start_device writes 1→0x20, 0→0x24 before the SQ doorbells (2023 patch) */
  startIfcEnable: boolean;
  /** docs/reference.md#where-the-match-check-runs: match_done (write-time check) is cleared on device open (R5) or never */
  matchDoneCleared: 'never' | 'open';
  /** docs/reference.md#reset-handling: reset_done acts only when migration_flags == STOP_COPY exactly, or whenever migration ops exist */
  resetDoneGate: 'flags-exactly-stop-copy' | 'migration-ops';
  /** docs/reference.md#bugfix-the-problem-of-uninstalling-driver: close_device disables and releases the migration fds */
  closeReleasesFds: boolean;
  /** docs/reference.md#pf-control-mode: PF-control mode used when the PF selects it (PF 0x100198 bit0): EQC/AEQC at 0x1C00/0x1C20 */
  pfCtrlMode: boolean;
  /**
   * open_device reads the PF's VFT into the driver's vf_qm qp_num/qp_base. No released revision
   * does (hisi_acc_vf_qm_init only maps BAR2): vf_qm.qp_num is 0 from probe until a passing match
   * check or a load sets it, so start_device on a VF that was never a destination rings no doorbell.
   */
  vftReadAtOpen: boolean;
  /**
   * The VFIO core of the kernel this revision ships in (docs/uapi.md): its state table and skip
   * loop decide each arc, and on `skip-loop` kernels STOP_COPY→PRE_COPY never returns.
   */
  vfioCore: VfioCore;
}

/**
 * Every trait, once (the compiler checks the list is complete). The YAML shape of each trait is the
 * revision schema's (specs/schemas/revision.schema.json); the registry uses this list to name a
 * trait still missing after `extends:` is resolved.
 */
const TRAIT_KEYS: Record<keyof Traits, true> = {
  write: true, accept: true, xqcCompose: true, preCopy: true, dataSizeFeature: true, matchCheck: true, errnos: true, fdOffset: true,
  vfStateWrite: true, nullDmaGuard: true, initialVfQmState: true, cacheWriteback: true, xeqcDoorbellsOnSave: true, startIfcEnable: true,
  matchDoneCleared: true, resetDoneGate: true, closeReleasesFds: true, pfCtrlMode: true, vftReadAtOpen: true, vfioCore: true,
};
export const TRAIT_NAMES = Object.keys(TRAIT_KEYS) as (keyof Traits)[];
