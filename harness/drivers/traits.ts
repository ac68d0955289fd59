// Revision traits: every behaviour in which the hisi_acc_vfio_pci revisions differ, as data
// (DESIGN.md "Revisions are data"). Each trait names the reference section it comes from; the
// YAML files in specs/revisions/hisi-acc/ give one value per trait per revision.
import { ACC_DEV_MAGIC_V1, ACC_DEV_MAGIC_V2 } from '../formats/accVfData.ts';
import { VFIO_CORES, type VfioCore } from '../vfio/fsm.ts';

/** What the source writes at bytes 0..39 (A.1, A.3). */
export interface WriteRule {
  magic: bigint;
  /** V2 header: u16 major_ver @28, u16 minor_ver @30 (A.2) */
  major?: number;
  minor?: number;
}

/** One magic the destination accepts, and what it implies (C.2 #2, A.3). */
export interface AcceptRule {
  magic: bigint;
  /** accepted major_ver values (V2 style); absent = not compared */
  major?: number[];
  /** the magic's last byte is a version number (2024 proposal): accepted range, compared on bits 63:8 */
  versionByte?: { min: number; max: number };
  /** V1 streams: eqe_dma/aeqe_dma recomputed in place from qm_eqc_dw[2]:[1] */
  recomputeDma?: boolean;
}

export interface Traits {
  /** A.1, A.3: magic (and version fields) written by the source */
  write: WriteRule;
  /** C.2 #2: magics accepted by the destination; anything else is -EINVAL */
  accept: AcceptRule[];
  /** B.2: eqe_dma/aeqe_dma composition on save: buggy = dw[1]<<32|dw[0], fixed = dw[2]<<32|dw[1] */
  xqcCompose: 'buggy' | 'fixed';
  /** D: PRE_COPY advertised (migration_flags 0x5) and the PRECOPY_INFO ioctl */
  preCopy: boolean;
  /** G.2: the kernel has VFIO_DEVICE_FEATURE_MIG_DATA_SIZE (v6.2+) */
  dataSizeFeature: boolean;
  /** C.1: where the match check runs */
  matchCheck: 'resuming-stop' | 'write';
  /** C.2, E.1 #6: legacy = -EINVAL/-EBUSY as coded before "update function return values"; propagate = sub-function errnos */
  errnos: 'legacy' | 'propagate';
  /** C.4, D: data-fd copy offset: buffer-start = always offset 0 (offset-blind), f-pos = the file position */
  fdOffset: 'buffer-start' | 'f-pos';
  /** C.2 #7, C.3 #4: where the received vf_qm_state is written to QM_VF_STATE */
  vfStateWrite: 'match' | 'load';
  /** C.3 #3: a NULL eqe/aeqe/sqc/cqc address makes load a no-op (driver state NOT_READY) */
  nullDmaGuard: boolean;
  /** C.3: driver's vf_qm_state before any load: ready (zeroed at probe) or not-ready (set at open) */
  initialVfQmState: 'ready' | 'not-ready';
  /** B.2: cache write-back during state save (R0–R2, R-Deb) or during stop (R3+) */
  cacheWriteback: 'save' | 'stop';
  /** B.2 step 3 / E.1 #2: EQ/AEQ doorbells with the saved heads on the source after save */
  xeqcDoorbellsOnSave: boolean;
  /** C.3: start_device writes 1→0x20, 0→0x24 before the SQ doorbells (2023 patch) */
  startIfcEnable: boolean;
  /** C.1, E.4: match_done (write-time check) is cleared on device open (R5) or never */
  matchDoneCleared: 'never' | 'open';
  /** E.4: reset_done acts only when migration_flags == STOP_COPY exactly, or whenever migration ops exist */
  resetDoneGate: 'flags-exactly-stop-copy' | 'migration-ops';
  /** E.1 #4: close_device disables and releases the migration fds */
  closeReleasesFds: boolean;
  /** E.3: PF-control mode used when the PF selects it (PF 0x100198 bit0): EQC/AEQC at 0x1C00/0x1C20 */
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

type Kind =
  | { t: 'bool' }
  | { t: 'enum'; values: readonly string[] }
  | { t: 'write' }
  | { t: 'accept' };

/** Every trait with its type: the YAML loader validates against this table. */
export const TRAIT_SCHEMA: Record<keyof Traits, Kind> = {
  write: { t: 'write' },
  accept: { t: 'accept' },
  xqcCompose: { t: 'enum', values: ['buggy', 'fixed'] },
  preCopy: { t: 'bool' },
  dataSizeFeature: { t: 'bool' },
  matchCheck: { t: 'enum', values: ['resuming-stop', 'write'] },
  errnos: { t: 'enum', values: ['legacy', 'propagate'] },
  fdOffset: { t: 'enum', values: ['buffer-start', 'f-pos'] },
  vfStateWrite: { t: 'enum', values: ['match', 'load'] },
  nullDmaGuard: { t: 'bool' },
  initialVfQmState: { t: 'enum', values: ['ready', 'not-ready'] },
  cacheWriteback: { t: 'enum', values: ['save', 'stop'] },
  xeqcDoorbellsOnSave: { t: 'bool' },
  startIfcEnable: { t: 'bool' },
  matchDoneCleared: { t: 'enum', values: ['never', 'open'] },
  resetDoneGate: { t: 'enum', values: ['flags-exactly-stop-copy', 'migration-ops'] },
  closeReleasesFds: { t: 'bool' },
  pfCtrlMode: { t: 'bool' },
  vftReadAtOpen: { t: 'bool' },
  vfioCore: { t: 'enum', values: VFIO_CORES },
};
export const TRAIT_NAMES = Object.keys(TRAIT_SCHEMA) as (keyof Traits)[];

/** Named magics a YAML file may use instead of a quoted 64-bit hex string. */
export const NAMED_MAGICS: Record<string, bigint> = { V1: ACC_DEV_MAGIC_V1, V2: ACC_DEV_MAGIC_V2 };

/** Does a received magic (and header) satisfy a rule? Returns the rule or null (C.2 #2). */
export function findAcceptRule(accept: readonly AcceptRule[], magic: bigint, major: number): AcceptRule | null {
  for (const r of accept) {
    if (r.versionByte) {
      if (magic >> 8n !== r.magic >> 8n) continue;
      const v = Number(magic & 0xffn);
      if (v < r.versionByte.min || v > r.versionByte.max) return null;
      return r;
    }
    if (magic !== r.magic) continue;
    if (r.major && !r.major.includes(major)) return null;
    return r;
  }
  return null;
}
