// A reference migration driver for the conformance tests: written to keep every clause of
// specs/conformance/vfio-migration.yaml (so a clause's check passes on it), with one switch per
// clause that plants the defect the clause forbids (so the check must fail). It is test code, not a
// revision model: its stream is its own little format.
//   stream: 24-byte header { magic u32, version u16, flags u16, device type u8, que_iso u8,
//   qp_num u16, body length u32, checksum u32, reserved u32 } + a 40-byte body (the "state").
// PRE_COPY gives the header, STOP_COPY the body. Writes are checked once the header has arrived; a
// refusal is remembered and fails RESUMING→STOP; a body whose checksum does not match sends the
// device to ERROR (the text allows it), left only by reset.
import type { DeviceConfig } from '../../harness/device/mmio.ts';
import type { DriverContext, Revision } from '../../harness/drivers/revision.ts';
import { fail, ok, type IoResult } from '../../harness/util/errno.ts';
import { HangError, type MigrationDriver } from '../../harness/vfio/driver.ts';
import { walkArcs, type ArcWalker } from '../../harness/vfio/fsm.ts';
import { MIG_FLAG, type DataFd, type MigState, type PrecopyInfo } from '../../harness/vfio/types.ts';

export const PLANTABLE = [
  'flags-advertise-stop-copy', 'set-returns', 'set-reaches-target', 'set-failure-on-path', 'data-fd-on-opening-arcs',
  'error-not-requestable', 'error-left-only-by-reset', 'optional-states-need-flags', 'blocked-arcs-refused',
  'no-spontaneous-transitions', 'reset-returns-running', 'session-ends-on-leave', 'saving-group-one-session',
  'data-direction', 'stop-copy-end-permanent', 'save-read-sequential', 'precopy-info-mandatory',
  'precopy-info-only-in-precopy', 'precopy-end-temporary', 'data-size-any-state', 'resume-stop-validates',
  'refused-write-never-loaded', 'resume-session-validates-own-data', 'stream-refused-from-incompatible-device',
  'resume-segmentation-free',
] as const;
export type Defect = (typeof PLANTABLE)[number];

const MAGIC = 0x474d4652;
const HDR = 24;
const BODY = 40;
const TYPES = { SEC: 1, HPRE: 2, ZIP: 3 } as const;
const PRE: ReadonlySet<MigState> = new Set(['PRE_COPY', 'PRE_COPY_P2P']);
let fdSeq = 900;

const checksum = (b: Uint8Array) => b.reduce((s, x, i) => (s * 31 + x + i) >>> 0, 7);

class SaveFile implements DataFd {
  readonly fd = fdSeq++;
  pos = 0;
  avail: number;
  disabled = false;
  endSeen = false;
  constructor(readonly buf: Uint8Array, preCopy: boolean, private readonly d: ReferenceDriver) {
    this.avail = preCopy ? HDR : buf.length;
  }
  read(max: number): IoResult<Uint8Array> {
    if (this.disabled) return fail('ENODEV');
    const blind = this.d.defect === 'save-read-sequential';
    if (this.pos >= this.avail) {
      if (PRE.has(this.d.state)) return fail('ENOMSG');
      if (this.endSeen && this.d.defect === 'stop-copy-end-permanent') {
        this.endSeen = false;
        return ok(new Uint8Array([0xee]));
      }
      this.endSeen = true;
      return ok(new Uint8Array(0));
    }
    const n = Math.min(max, this.avail - this.pos);
    const from = blind ? 0 : this.pos;
    this.pos += n;
    if (this.d.defect === 'no-spontaneous-transitions' && this.pos === this.buf.length && this.d.state === 'STOP_COPY') this.d.state = 'STOP';
    return ok(this.buf.slice(from, from + n));
  }
  write(b: Uint8Array): IoResult<number> {
    if (this.d.defect === 'data-direction') return ok(b.length);
    return fail('EBADF');
  }
  precopyInfo(): IoResult<PrecopyInfo> {
    if (this.d.defect === 'precopy-info-mandatory') return fail('ENOTTY');
    if (!PRE.has(this.d.state) && this.d.defect !== 'precopy-info-only-in-precopy') return fail('EINVAL');
    if (this.disabled) return fail('ENODEV');
    const extra = this.d.defect === 'precopy-end-temporary' ? 8n : 0n;
    return ok({ initialBytes: BigInt(Math.max(0, this.avail - this.pos)) + extra, dirtyBytes: 0n });
  }
  close(): void {}
}

class ResumeFile implements DataFd {
  readonly fd = fdSeq++;
  readonly buf = new Uint8Array(1024);
  pos = 0;
  len = 0;
  disabled = false;
  refused = false;
  constructor(private readonly d: ReferenceDriver) {}
  read(): IoResult<Uint8Array> {
    if (this.d.defect === 'data-direction') return ok(new Uint8Array(4));
    return fail('EBADF');
  }
  write(b: Uint8Array): IoResult<number> {
    if (this.disabled) return fail('ENODEV');
    if (this.pos + b.length > this.buf.length) return fail('ENOMEM');
    this.buf.set(b, this.d.defect === 'resume-segmentation-free' ? 0 : this.pos);
    this.pos += b.length;
    this.len = Math.max(this.len, this.pos);
    // the header is checked once it has arrived, on every write until the session ends
    if (this.len >= HDR && !this.d.skipChecks()) {
      const why = this.d.badHeader(this.buf.subarray(0, this.len));
      if (why) {
        this.refused = true;
        return fail('EINVAL');
      }
    }
    return ok(b.length);
  }
  precopyInfo(): IoResult<PrecopyInfo> {
    return fail('ENOTTY');
  }
  close(): void {}
}

export class ReferenceDriver implements MigrationDriver, ArcWalker<DataFd> {
  readonly migrationFlags: number;
  readonly flags: number;
  readonly core = 'fixed-loop' as const;
  readonly where = 'reference set_device_state';
  state: MigState = 'RUNNING';
  private saving: SaveFile | null = null;
  private resuming: ResumeFile | null = null;
  private loadedOnce = false;
  private body: Uint8Array;

  constructor(readonly defect: Defect | null, private readonly config: DeviceConfig, flags: number) {
    this.migrationFlags = defect === 'flags-advertise-stop-copy' ? MIG_FLAG.PRE_COPY : flags;
    this.flags = defect === 'optional-states-need-flags' ? flags | MIG_FLAG.P2P : flags;
    this.body = new Uint8Array(BODY).map((_, i) => (i * 7 + config.qpNum) & 0xff);
  }

  skipChecks(): boolean {
    return this.defect === 'resume-session-validates-own-data' && this.loadedOnce;
  }

  private stream(): Uint8Array {
    const b = new Uint8Array(HDR + BODY);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, MAGIC, true);
    dv.setUint16(4, 1, true);
    b[8] = TYPES[this.config.type];
    b[9] = this.config.queIsoCfg;
    dv.setUint16(10, this.config.qpNum, true);
    dv.setUint32(12, BODY, true);
    dv.setUint32(16, checksum(this.body), true);
    b.set(this.body, HDR);
    return b;
  }

  /** why a header does not describe a stream of this device, or null */
  badHeader(b: Uint8Array): string | null {
    const dv = new DataView(b.buffer, b.byteOffset, b.length);
    if (dv.getUint32(0, true) !== MAGIC || dv.getUint16(4, true) !== 1) return 'magic';
    if (this.defect !== 'stream-refused-from-incompatible-device' &&
      (b[8] !== TYPES[this.config.type] || b[9] !== this.config.queIsoCfg || dv.getUint16(10, true) !== this.config.qpNum)) return 'identity';
    return null;
  }

  open(): void {
    this.state = 'RUNNING';
  }
  close(): void {
    this.disable();
  }
  getState(): MigState {
    return this.state;
  }
  dataSize(): IoResult<bigint> {
    if (this.defect === 'data-size-any-state' && this.state === 'STOP_COPY') return fail('EINVAL');
    if (this.defect === 'no-spontaneous-transitions' && this.state === 'RUNNING_P2P') this.state = 'RUNNING';
    return ok(BigInt(HDR + BODY));
  }
  reset(): IoResult<void> {
    if (this.defect === 'reset-returns-running' && this.state === 'RESUMING') return ok(undefined);
    this.state = 'RUNNING';
    this.disable();
    return ok(undefined);
  }

  setState(target: MigState): IoResult<DataFd | null> {
    const d = this.defect;
    if (d === 'error-not-requestable' && target === 'ERROR') {
      this.state = 'ERROR';
      return ok(null);
    }
    if (d === 'error-left-only-by-reset' && this.state === 'ERROR') {
      this.state = target;
      return ok(null);
    }
    if (d === 'set-returns' && this.state === 'STOP_COPY' && target === 'RUNNING_P2P') throw new HangError('planted: a loop that never ends', ['STOP_COPY->STOP']);
    if (d === 'set-reaches-target' && this.state === 'STOP' && target === 'RUNNING') return ok(null);
    if (d === 'blocked-arcs-refused' && this.state === 'STOP_COPY' && PRE.has(target)) {
      this.state = target;
      return ok(null);
    }
    return walkArcs<DataFd>(this, target);
  }

  get(): MigState {
    return this.state;
  }
  set(s: MigState): void {
    this.state = s;
  }

  arc(from: MigState, to: MigState): IoResult<DataFd | null> {
    const d = this.defect;
    switch (`${from}>${to}`) {
      case 'STOP>STOP_COPY':
        this.saving = new SaveFile(this.stream(), false, this);
        return ok(this.saving);
      case 'RUNNING>PRE_COPY':
      case 'RUNNING_P2P>PRE_COPY_P2P':
        this.saving = new SaveFile(this.stream(), true, this);
        return ok(this.saving);
      case 'PRE_COPY>STOP_COPY':
      case 'PRE_COPY_P2P>STOP_COPY': {
        if (!this.saving) return fail('EINVAL');
        this.saving.avail = this.saving.buf.length;
        if (d === 'saving-group-one-session') this.saving.disabled = true;
        if (d === 'data-fd-on-opening-arcs') return ok(new SaveFile(this.stream(), false, this));
        return ok(null);
      }
      case 'PRE_COPY>RUNNING':
      case 'PRE_COPY_P2P>RUNNING_P2P':
      case 'STOP_COPY>STOP':
        if (d !== 'session-ends-on-leave') this.disable();
        return ok(null);
      case 'STOP>RESUMING':
        this.resuming = new ResumeFile(this);
        return ok(this.resuming);
      case 'RESUMING>STOP':
        return this.load();
      default:
        return ok(null); // RUNNING, STOP, the P2P states and moves inside the saving group change nothing here
    }
  }

  private load(): IoResult<null> {
    const f = this.resuming;
    if (!f) return fail('EINVAL');
    const d = this.defect;
    const checks = !this.skipChecks() && d !== 'refused-write-never-loaded';
    const fail_ = (): IoResult<null> => {
      if (d === 'set-failure-on-path') this.state = 'PRE_COPY';
      return fail('EINVAL');
    };
    if (checks) {
      if (f.refused) return fail_();
      if (d !== 'resume-stop-validates' && f.len !== HDR + BODY) return fail_();
      if (f.len >= HDR && this.badHeader(f.buf.subarray(0, f.len))) return fail_();
      const dv = new DataView(f.buf.buffer);
      if (d !== 'resume-stop-validates' && checksum(f.buf.subarray(HDR, HDR + BODY)) !== dv.getUint32(16, true)) {
        // a body that does not match its header: the device state is lost
        this.state = 'ERROR';
        this.disable();
        return fail('EIO');
      }
    }
    this.body = f.buf.slice(HDR, HDR + BODY);
    this.loadedOnce = true;
    this.disable();
    return ok(null);
  }

  private disable(): void {
    if (this.saving) this.saving.disabled = true;
    if (this.resuming) this.resuming.disabled = true;
    this.saving = null;
    this.resuming = null;
  }
}

/** An external revision whose driver is the reference, with `defect` planted (null: none). */
export function referenceRevision(defect: Defect | null, flags = MIG_FLAG.STOP_COPY | MIG_FLAG.P2P | MIG_FLAG.PRE_COPY): Revision {
  const id = `test/reference${defect ? `-${defect}` : ''}${flags === 0x7 ? '' : `-0x${flags.toString(16)}`}`;
  return {
    id, title: `reference driver${defect ? ` with a planted ${defect} defect` : ''}`, kernel: 'test', kind: 'external', source: 'specs/conformance/referenceDriver.ts',
    bind: (ctx: DriverContext) => new ReferenceDriver(defect, ctx.config, flags),
  };
}
