// The trait-driven model of hisi_acc_vfio_pci: save, stop, check, load, start and reset in the
// order of docs/reference.md#save-path, docs/reference.md#load-path, docs/reference.md#pre-copy-support and
// docs/reference.md#reset-handling, with each revision's differences read from its
// Traits. Faithful means defects included: nothing here corrects a revision's behaviour.
import {
  QM_MATCH_SIZE, emptyAccVfData, majorVer, type AccVfData,
} from '../formats/accVfData.ts';
import { DEVICE_IDS } from '../device/mmio.ts';
import {
  DB_CMD, MB_CMD, PFWIN_AEQC_DW0, PFWIN_EQC_DW0, PF_ABNORMAL_INT_STATUS, PF_ENGINE_INT_STATUS, PF_MIG_REGION_SEL,
  PF_QUE_ISO_CFG, VF_AEQC_DW0, VF_AEQ_INT_MASK, VF_CACHE_WB_DONE, VF_CACHE_WB_START, VF_EQC_DW0, VF_EQ_INT_MASK,
  VF_IFC_INT_MASK, VF_IFC_INT_SET, VF_IFC_INT_SOURCE, VF_IFC_INT_STATUS, VF_PAGE_SIZE, VF_QM_STATE, VF_QUE_ISO_CFG,
} from '../device/regs.ts';
import { fail, ok, type ErrnoName, type IoResult } from '../util/errno.ts';
import { hex64 } from '../util/hex.ts';
import { HangError, type MigrationDriver } from '../vfio/driver.ts';
import { walkArcs, type ArcWalker, type VfioCore } from '../vfio/fsm.ts';
import { MIG_FLAG, type DataFd, type MigState } from '../vfio/types.ts';
import { MigFile, type MigFileHooks } from './migFile.ts';
import { drain, mailbox, mailboxIdle, pfVftRead, poll, ringDoorbell, vftQpBase, vftQpNum } from './qm.ts';
import type { DriverContext, QmHost } from './revision.ts';
import { structBytes, structOf } from './struct.ts';
import { findAcceptRule, type Traits } from './traits.ts';

const QM_READY = 0;
const QM_NOT_READY = 1;
const ACC_VF_DATA_LEN = 176;
/**
 * Step bound of start_device's doorbell loop. A real VF has at most 1024 queues (10-bit VFT field);
 * past 2^16 iterations the driver's u16 queue number wraps and the doorbells repeat.
 */
export const START_DEVICE_BOUND = 0x10000;

/**
 * The model is also its own arc walker and data-fd hooks (prototype methods, not per-binding
 * closures: bindings are created per case and per check, thousands a second).
 */
export class HisiAccModel implements MigrationDriver, ArcWalker<DataFd>, MigFileHooks {
  readonly migrationFlags: number;
  /** ArcWalker: the flags the core's next-step table is read with, and the name of a hang */
  readonly flags: number;
  readonly core: VfioCore;
  readonly where: string;
  /** MigFileHooks (R1+ PRECOPY_INFO; pre-v6.8 offset-blind copy) */
  readonly precopyIoctl: boolean;
  readonly offsetBlind: boolean;
  private migState: MigState = 'RUNNING';
  /** driver copy of vf_qm_state (docs/reference.md#load_data-steps) */
  private vfQmState: number;
  private matchDone = false;
  private saving: MigFile | null = null;
  private resuming: MigFile | null = null;
  private qpNum = 0;
  private qpBase = 0;
  private eqcBase = VF_EQC_DW0;
  private aeqcBase = VF_AEQC_DW0;
  private fdSeq: number;
  private readonly host: QmHost;

  constructor(readonly revId: string, readonly traits: Traits, private readonly ctx: DriverContext) {
    this.host = ctx.host;
    this.migrationFlags = MIG_FLAG.STOP_COPY | (traits.preCopy ? MIG_FLAG.PRE_COPY : 0); // D
    // docs/reference.md#load_data-steps: the driver's vf_qm_state as probe leaves it: zeroed (READY) in
    // R0–R2; R3+ and Debian 6.1.192 set NOT_READY in hisi_acc_vfio_pci_migrn_init_dev (probe), not at open
    // (the about-v6.19 upstream file and Debian 6.1.192: docs/reference.md#sources-and-confidence)
    this.vfQmState = traits.initialVfQmState === 'not-ready' ? QM_NOT_READY : QM_READY;
    this.fdSeq = 10; // per binding, so a case's timeline does not depend on earlier cases
    this.flags = this.migrationFlags;
    this.core = traits.vfioCore;
    this.where = `${revId} set_device_state`;
    this.precopyIoctl = traits.preCopy;
    this.offsetBlind = traits.fdOffset === 'buffer-start';
  }

  // ---- MigFileHooks ----------------------------------------------------------------------------

  isPreCopy(): boolean {
    return this.migState === 'PRE_COPY';
  }

  /** R1+: the match check at the end of every write() (docs/reference.md#where-the-match-check-runs); R0/R-Deb check later, at RESUMING→STOP */
  afterWrite(f: MigFile): IoResult<void> {
    return this.traits.matchCheck === 'write' ? this.checkMatch(f) : ok(undefined);
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  open(): void {
    const t = this.traits;
    if (t.vftReadAtOpen) {
      // a hypothetical revision whose hisi_acc_vf_qm_init learns the VF's queues from the PF's VFT
      const vft = pfVftRead(this.host, this.ctx.config.vfId);
      if (vft.ok) {
        this.qpBase = vftQpBase(vft.value);
        this.qpNum = vftQpNum(vft.value);
      }
    }
    // docs/reference.md#pf-control-mode: PF-control mode when the revision knows it and the PF selected it
    const pfCtrl = t.pfCtrlMode && (this.host.read32('pf', PF_MIG_REGION_SEL) & 1) === 1;
    this.eqcBase = pfCtrl ? PFWIN_EQC_DW0 : VF_EQC_DW0;
    this.aeqcBase = pfCtrl ? PFWIN_AEQC_DW0 : VF_AEQC_DW0;
    if (t.matchDoneCleared === 'open') this.matchDone = false; // docs/reference.md#resolve-duplicate-migration-states (R5)
    this.migState = 'RUNNING';
  }

  close(): void {
    if (this.traits.closeReleasesFds) this.disableFds(); // docs/reference.md#bugfix-the-problem-of-uninstalling-driver
  }

  getState(): MigState {
    return this.migState;
  }

  dataSize(): IoResult<bigint> {
    if (!this.traits.dataSizeFeature) return fail('ENOTTY'); // docs/reference.md#device-feature-ioctl: feature 9 is v6.2+
    return ok(BigInt(ACC_VF_DATA_LEN)); // docs/reference.md#stream-sizes: always 176, even for a match-only stream
  }

  reset(): IoResult<void> {
    this.host.functionReset();
    // docs/reference.md#reset-handling: reset_done. Before v7.0 it returned early unless flags == STOP_COPY
    // exactly.
    const gate = this.traits.resetDoneGate === 'migration-ops' || this.migrationFlags === MIG_FLAG.STOP_COPY;
    if (gate) {
      this.vfQmState = QM_NOT_READY;
      this.migState = 'RUNNING';
      this.disableFds();
    } else {
      this.dmesg('reset_done: skipped (migration_flags != STOP_COPY)');
    }
    return ok(undefined);
  }

  // ---- the SET request: hisi walks the arcs itself, one core step at a time
  // (docs/reference.md#the-cores-next-step-table) ------------------------------------------------

  setState(target: MigState): IoResult<DataFd | null> {
    return walkArcs<DataFd>(this, target);
  }

  // ---- ArcWalker -------------------------------------------------------------------------------

  get(): MigState {
    return this.migState;
  }

  set(st: MigState): void {
    this.migState = st;
  }

  onArc(from: MigState, to: MigState, errno: string | undefined): void {
    this.ctx.timeline.push(this.ctx.side, 'arc', { from, to }, errno);
  }

  /** One arc of hisi_acc_vf_set_device_state. */
  arc(cur: MigState, next: MigState): IoResult<DataFd | null> {
    const k = `${cur}>${next}`;
    switch (k) {
      case 'RUNNING>STOP': {
        const r = this.stopDevice();
        return r.ok ? ok(null) : r;
      }
      case 'STOP>RUNNING':
        this.startDevice();
        return ok(null);
      case 'STOP>STOP_COPY': {
        const f = this.openSaving();
        if (!f.ok) return f;
        const r = this.stateSave(f.value);
        if (!r.ok) {
          this.disableFds();
          return r;
        }
        return ok(f.value);
      }
      case 'STOP_COPY>STOP':
        this.disableFds();
        return ok(null);
      case 'STOP>RESUMING': {
        this.resuming = new MigFile(this.fdSeq++, 'resume', this);
        return ok(this.resuming);
      }
      case 'RESUMING>STOP': {
        const r = this.loadState();
        if (!r.ok) return r;
        this.disableFds();
        return ok(null);
      }
      case 'RUNNING>PRE_COPY': {
        if (!this.traits.preCopy) break;
        const f = this.openSaving(); // docs/reference.md#arcs-the-driver-implements: header only, the device keeps running
        return f.ok ? ok(f.value) : f;
      }
      case 'PRE_COPY>STOP_COPY': {
        if (!this.traits.preCopy || !this.saving) break;
        const s = this.stopDevice();
        if (!s.ok) return s;
        const r = this.stateSave(this.saving);
        return r.ok ? ok(null) : r;
      }
      case 'PRE_COPY>RUNNING':
        if (!this.traits.preCopy) break;
        this.disableFds();
        return ok(null);
    }
    this.dmesg(`unsupported arc ${cur}->${next}`);
    return fail('EINVAL');
  }

  // ---- save side (docs/reference.md#save-path) -------------------------------------------------

  /** Open the save fd and fill the match header (docs/reference.md#opening-the-save-file); total_length 40. */
  private openSaving(): IoResult<MigFile> {
    const t = this.traits;
    const d = emptyAccVfData();
    d.accMagic = t.write.magic;
    if (t.write.major !== undefined || t.write.minor !== undefined) {
      d.qmRsvState = [((t.write.major ?? 0) & 0xffff) | (((t.write.minor ?? 0) & 0xffff) << 16), 0, 0];
    }
    d.devId = DEVICE_IDS[this.ctx.config.type];
    const vft = pfVftRead(this.host, this.ctx.config.vfId);
    if (!vft.ok) {
      this.dmesg('failed to get VFT for the VF');
      return fail('EINVAL');
    }
    d.qpBase = vftQpBase(vft.value);
    d.qpNum = vftQpNum(vft.value);
    d.queIsoCfg = this.host.read32('pf', PF_QUE_ISO_CFG) >>> 0;
    d.vfQmState = QM_READY;
    const f = new MigFile(this.fdSeq++, 'save', this);
    f.buf.set(structBytes(d));
    f.totalLength = QM_MATCH_SIZE;
    this.saving = f;
    return ok(f);
  }

  /** Stop the VF (docs/reference.md#stopping-the-vf): PAUSE_QM, drain checks, R3+ cache write-back. */
  private stopDevice(): IoResult<void> {
    const h = this.host;
    const mb = mailbox(h, MB_CMD.PAUSE_QM, false, 0, 0n);
    if (!mb.ok) {
      this.dmesg('failed to stop QM VF function');
      return mb;
    }
    const engine = PF_ENGINE_INT_STATUS[this.ctx.config.type];
    if (engine === undefined) return fail('EINVAL');
    const drained =
      drain(h, 'pf', PF_ABNORMAL_INT_STATUS, 100, 100) &&
      drain(h, 'vf', VF_IFC_INT_STATUS, 100, 100) &&
      drain(h, 'vf', VF_IFC_INT_SET, 100, 100) &&
      drain(h, 'pf', engine, 100, 100);
    if (!drained) {
      this.dmesg('failed to check QM INT state');
      return fail('EBUSY');
    }
    if (this.traits.cacheWriteback === 'stop') {
      const r = this.cacheWriteback();
      if (!r) {
        this.dmesg('QM writeback sqc cache fail');
        return fail(this.traits.errnos === 'propagate' ? 'ETIMEDOUT' : 'EINVAL');
      }
    }
    return ok(undefined);
  }

  private cacheWriteback(): boolean {
    this.host.write32('vf', VF_CACHE_WB_START, 1);
    return poll(this.host, 'vf', VF_CACHE_WB_DONE, 1, 1, 10, 1000);
  }

  /** State save into the save fd (docs/reference.md#state-save). */
  private stateSave(f: MigFile): IoResult<void> {
    const t = this.traits;
    const h = this.host;
    const d = structOf(f.buf);
    if (!poll(h, 'vf', VF_QM_STATE, 1, 0, 10, 1000)) {
      // guest VF driver not ready: match-only stream (docs/reference.md#stream-length-by-situation)
      d.vfQmState = QM_NOT_READY;
      this.vfQmState = QM_NOT_READY;
      f.buf.set(structBytes(d));
      f.totalLength = QM_MATCH_SIZE;
      return ok(undefined);
    }
    d.vfQmState = QM_READY;
    this.vfQmState = QM_READY;
    if (t.cacheWriteback === 'save' && !this.cacheWriteback()) {
      this.dmesg('QM writeback sqc cache fail');
      return fail('EINVAL');
    }
    d.aeqIntMask = h.read32('vf', VF_AEQ_INT_MASK) >>> 0;
    d.eqIntMask = h.read32('vf', VF_EQ_INT_MASK) >>> 0;
    d.ifcIntSource = h.read32('vf', VF_IFC_INT_SOURCE) >>> 0;
    d.ifcIntMask = h.read32('vf', VF_IFC_INT_MASK) >>> 0;
    d.ifcIntSet = h.read32('vf', VF_IFC_INT_SET) >>> 0;
    d.pageSize = h.read32('vf', VF_PAGE_SIZE) >>> 0;
    for (let i = 0; i < 7; i++) {
      d.qmEqcDw[i] = h.read32('vf', this.eqcBase + 4 * i) >>> 0;
      d.qmAeqcDw[i] = h.read32('vf', this.aeqcBase + 4 * i) >>> 0;
    }
    const [lo, hi] = t.xqcCompose === 'fixed' ? [1, 2] : [0, 1];
    d.eqeDma = (BigInt(d.qmEqcDw[hi]) << 32n) | BigInt(d.qmEqcDw[lo]);
    d.aeqeDma = (BigInt(d.qmAeqcDw[hi]) << 32n) | BigInt(d.qmAeqcDw[lo]);
    const sqc = mailbox(h, MB_CMD.SQC_BT, true, 0, 0n);
    if (!sqc.ok) return fail(t.errnos === 'propagate' ? sqc.errno : 'EINVAL');
    d.sqcDma = sqc.value;
    const cqc = mailbox(h, MB_CMD.CQC_BT, true, 0, 0n);
    if (!cqc.ok) return fail(t.errnos === 'propagate' ? cqc.errno : 'EINVAL');
    d.cqcDma = cqc.value;
    f.buf.set(structBytes(d));
    f.totalLength = ACC_VF_DATA_LEN;
    if (t.xeqcDoorbellsOnSave) {
      // docs/reference.md#add-eq-and-aeq-interruption-restore: on the source, after the data was captured; no
      // stream byte changes
      ringDoorbell(h, DB_CMD.EQ, 0, d.qmEqcDw[0] & 0xffff, 0);
      ringDoorbell(h, DB_CMD.AEQ, 0, d.qmAeqcDw[0] & 0xffff, 0);
    }
    return ok(undefined);
  }

  // ---- resume side (docs/reference.md#load-path) -----------------------------------------------

  /** vf_qm_check_match (docs/reference.md#match-check-order-and-errnos), in the revision's order and with its errnos. */
  private checkMatch(f: MigFile): IoResult<void> {
    const t = this.traits;
    const h = this.host;
    if (f.totalLength < QM_MATCH_SIZE) {
      if (t.matchCheck === 'write') return ok(undefined); // not yet
      this.dmesg('invalid migration data length');
      return this.checkFail('length', 'EINVAL');
    }
    if (t.matchCheck === 'write' && this.matchDone) return ok(undefined);
    // the checks read only the 40-byte header (decoding it alone is cheaper); the fix-up needs the body
    let d = structOf(f.buf.subarray(0, QM_MATCH_SIZE));
    const rule = findAcceptRule(t.accept, d.accMagic, majorVer(d));
    if (!rule) {
      const magicKnown = t.accept.some((r) => r.magic === d.accMagic);
      return this.checkFail(magicKnown ? `major_ver ${majorVer(d)} not accepted` : `magic ${hex64(d.accMagic)} not accepted`, 'EINVAL');
    }
    if (rule.recomputeDma) {
      // in place, on whatever the buffer holds now (docs/reference.md#match-check-order-and-errnos)
      d = structOf(f.buf);
      d.eqeDma = (BigInt(d.qmEqcDw[2]) << 32n) | BigInt(d.qmEqcDw[1]);
      d.aeqeDma = (BigInt(d.qmAeqcDw[2]) << 32n) | BigInt(d.qmAeqcDw[1]);
      f.buf.set(structBytes(d));
    }
    const devId = DEVICE_IDS[this.ctx.config.type];
    if (d.devId !== devId) return this.checkFail(`dev_id 0x${d.devId.toString(16)} != 0x${devId.toString(16)}`, 'EINVAL');
    const vft = mailbox(h, MB_CMD.SQC_VFT_V2, true, 0, 0n);
    if (!vft.ok) return this.checkFail('failed to get vft qp nums', t.errnos === 'propagate' ? vft.errno : 'EINVAL');
    this.qpBase = vftQpBase(vft.value); // qm_get_vft stores the base through its pointer first
    const qpNum = vftQpNum(vft.value);
    if (qpNum !== d.qpNum) return this.checkFail(`qp_num ${d.qpNum} != ${qpNum}`, 'EINVAL');
    this.qpNum = qpNum; // vf_qm->qp_num, before the isolation check (every revision)
    const iso = h.read32('pf', PF_QUE_ISO_CFG) >>> 0;
    if (iso !== d.queIsoCfg) return this.checkFail(`que_iso_cfg 0x${d.queIsoCfg.toString(16)} != 0x${iso.toString(16)}`, 'EINVAL');
    if (t.vfStateWrite === 'match') {
      h.write32('vf', VF_QM_STATE, d.vfQmState);
      this.vfQmState = d.vfQmState;
    }
    if (t.matchCheck === 'write') this.matchDone = true;
    return ok(undefined);
  }

  private checkFail(why: string, errno: ErrnoName): IoResult<void> {
    this.dmesg(`match check failed: ${why}`);
    return fail(errno);
  }

  /** hisi_acc_vf_load_state: R0/R-Deb check here, then load_data (docs/reference.md#load_data-steps). */
  private loadState(): IoResult<void> {
    const f = this.resuming;
    if (!f) return fail('EINVAL');
    if (this.traits.matchCheck === 'resuming-stop') {
      const c = this.checkMatch(f);
      if (!c.ok) return c;
    }
    return this.loadData(f);
  }

  private loadData(f: MigFile): IoResult<void> {
    const t = this.traits;
    const h = this.host;
    if (f.totalLength === QM_MATCH_SIZE) return ok(undefined); // match-only: touch nothing
    if (f.totalLength < ACC_VF_DATA_LEN) {
      this.dmesg('invalid migration data length');
      return fail('EINVAL');
    }
    const d = structOf(f.buf);
    if (t.nullDmaGuard && (d.eqeDma === 0n || d.aeqeDma === 0n || d.sqcDma === 0n || d.cqcDma === 0n)) {
      this.dmesg('resume dma addr is NULL!');
      this.vfQmState = QM_NOT_READY;
      return ok(undefined);
    }
    if (t.vfStateWrite === 'load') {
      h.write32('vf', VF_QM_STATE, d.vfQmState);
      this.vfQmState = d.vfQmState;
    }
    this.qpBase = d.qpBase;
    this.qpNum = d.qpNum;
    if (!mailboxIdle(h)) return fail(t.errnos === 'propagate' ? 'ETIMEDOUT' : 'EBUSY');
    h.write32('vf', VF_AEQ_INT_MASK, d.aeqIntMask);
    h.write32('vf', VF_EQ_INT_MASK, d.eqIntMask);
    h.write32('vf', VF_IFC_INT_SOURCE, d.ifcIntSource);
    h.write32('vf', VF_IFC_INT_MASK, d.ifcIntMask);
    h.write32('vf', VF_IFC_INT_SET, d.ifcIntSet);
    h.write32('vf', VF_QUE_ISO_CFG, d.queIsoCfg);
    h.write32('vf', VF_PAGE_SIZE, d.pageSize);
    for (let i = 0; i < 7; i++) h.write32('vf', this.eqcBase + 4 * i, d.qmEqcDw[i]);
    for (let i = 0; i < 7; i++) h.write32('vf', this.aeqcBase + 4 * i, d.qmAeqcDw[i]);
    const sqc = mailbox(h, MB_CMD.SQC_BT, false, 0, d.sqcDma);
    if (!sqc.ok) return fail(sqc.errno);
    const cqc = mailbox(h, MB_CMD.CQC_BT, false, 0, d.cqcDma);
    if (!cqc.ok) return fail(cqc.errno);
    h.write32('vf', VF_IFC_INT_SOURCE, 1);
    h.write32('vf', VF_IFC_INT_MASK, 0);
    // docs/device-model.md#model-assumptions (1): the device delivers events to the driver's composed addresses
    h.firmware.setEventDmaBases(d.eqeDma, d.aeqeDma);
    return ok(undefined);
  }

  /**
   * hisi_acc_vf_start_device (docs/reference.md#starting-the-device): only when the driver's vf_qm_state is
   * READY. vf_qm_fun_reset rings one SQ doorbell per queue up to the driver's u32 qp_num, which a load copies
   * from the stream unchecked: a scrambled stream can make it billions (minutes of MMIO in the kernel). The
   * loop is modelled step by step up to START_DEVICE_BOUND, then reported as a hang; the value is never
   * clamped.
   */
  private startDevice(): void {
    if (this.vfQmState !== QM_READY) return;
    if (this.traits.startIfcEnable) {
      this.host.write32('vf', VF_IFC_INT_SOURCE, 1);
      this.host.write32('vf', VF_IFC_INT_MASK, 0);
    }
    const n = this.qpNum >>> 0;
    for (let i = 0; i < n; i++) {
      if (i === START_DEVICE_BOUND) throw new HangError(`${this.revId} start_device: SQ doorbell loop over qp_num ${n}`, []);
      ringDoorbell(this.host, DB_CMD.SQ, i, 0, 1);
    }
  }

  private disableFds(): void {
    this.saving?.disable();
    this.resuming?.disable();
    this.saving = null;
    this.resuming = null;
  }

  private dmesg(msg: string): void {
    this.ctx.timeline.push(this.ctx.side, 'note', { dmesg: msg, rev: this.revId });
  }
}
