// A small hisi-like VfioDevice that the stand-in drives when no simulated revision is named: the
// VFIO core's path walk (harness/vfio/fsm.ts with a current kernel's core,
// docs/reference.md#the-cores-next-step-table), save/resume sessions with the hisi stream sizes (40/176),
// the destination's match check and reset. It is a protocol double for the kernel backend's tests,
// not a revision model (those live in harness/drivers and harness/vfio/sim).
import { ACC_DEV_MAGIC_V1, ACC_DEV_MAGIC_V2, ACC_VF_DATA_SIZE, QM_MATCH_SIZE } from '../../../formats/accVfData.ts';
import { fail, ok, type IoResult } from '../../../util/errno.ts';
import { HangError } from '../../driver.ts';
import { WALK_BOUND, nextStep } from '../../fsm.ts';
import { MIG_FLAG, type DataFd, type MigState, type PrecopyInfo, type VfioDevice } from '../../types.ts';

export interface FakeDeviceOptions {
  name: string;
  deviceId: number;
  /** VFIO_MIGRATION_* flags the device advertises (0x1 without PRE_COPY, 0x5 with) */
  flags: number;
  magic: 'V1' | 'V2';
  qpNum: number;
  queIsoCfg: number;
  /** where the destination runs its match check */
  matchAt: 'write' | 'stop';
  /** the guest VF driver is ready: a full 176-byte stream; else match-only (40) */
  ready: boolean;
  /** magics this destination accepts */
  accepts: Array<'V1' | 'V2'>;
}

export const FAKE_DEFAULTS: Omit<FakeDeviceOptions, 'name'> = {
  deviceId: 0xa256, flags: MIG_FLAG.STOP_COPY | MIG_FLAG.PRE_COPY, magic: 'V2', qpNum: 4, queIsoCfg: 0,
  matchAt: 'write', ready: true, accepts: ['V1', 'V2'],
};

type S = MigState;

class Session implements DataFd {
  pos = 0;
  total: number;
  disabled = false;
  constructor(readonly fd: number, readonly buf: Uint8Array, total: number, private readonly dev: FakeHisiDevice, readonly resume: boolean) {
    this.total = total;
  }
  read(maxBytes: number): IoResult<Uint8Array> {
    if (this.resume) return fail('EBADF');
    if (this.disabled) return fail('ENODEV');
    if (this.pos > this.total) return fail('EINVAL');
    const n = Math.min(maxBytes, this.total - this.pos);
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return ok(out);
  }
  write(bytes: Uint8Array): IoResult<number> {
    if (!this.resume) return fail('EBADF');
    if (this.pos + bytes.length > ACC_VF_DATA_SIZE) return fail('ENOMEM');
    if (this.disabled) return fail('ENODEV');
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    this.total += bytes.length;
    if (this.dev.opts.matchAt === 'write' && !this.dev.matched && this.total >= QM_MATCH_SIZE) {
      if (this.dev.check(this.buf) !== null) return fail('EFAULT');
      this.dev.matched = true;
    }
    return ok(bytes.length);
  }
  precopyInfo(): IoResult<PrecopyInfo> {
    if (!(this.dev.opts.flags & MIG_FLAG.PRE_COPY) || this.resume) return fail('ENOTTY');
    if (this.dev.state !== 'PRE_COPY') return fail('EINVAL');
    if (this.disabled) return fail('ENODEV');
    return ok({ initialBytes: BigInt(this.total - this.pos), dirtyBytes: 0n });
  }
  close(): void {
    this.disabled = true;
  }
}

export class FakeHisiDevice implements VfioDevice {
  readonly name: string;
  state: S = 'RUNNING';
  matched = false;
  resets = 0;
  closed = false;
  private session: Session | null = null;
  private nextFd = 100;
  readonly opts: FakeDeviceOptions;

  constructor(opts: Partial<FakeDeviceOptions> & { name: string }) {
    this.opts = { ...FAKE_DEFAULTS, ...opts };
    this.name = opts.name;
  }

  /** The 176-byte struct this device would save (fields the match check reads, a recognisable body). */
  image(): Uint8Array {
    const b = Buffer.alloc(ACC_VF_DATA_SIZE);
    b.writeBigUInt64LE(this.opts.magic === 'V1' ? ACC_DEV_MAGIC_V1 : ACC_DEV_MAGIC_V2, 0);
    b.writeUInt32LE(this.opts.qpNum, 8);
    b.writeUInt32LE(this.opts.deviceId, 12);
    b.writeUInt32LE(this.opts.queIsoCfg, 16);
    b.writeUInt32LE(this.opts.ready ? 0 : 1, 24);
    if (this.opts.magic === 'V2') b.writeUInt16LE(1, 28);
    for (let i = QM_MATCH_SIZE; i < ACC_VF_DATA_SIZE; i++) b[i] = (i * 7) & 0xff;
    return new Uint8Array(b);
  }

  /** The destination's match check: null when the header matches, else why not. */
  check(buf: Uint8Array): string | null {
    const b = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
    const magic = b.readBigUInt64LE(0);
    const kind = magic === ACC_DEV_MAGIC_V1 ? 'V1' : magic === ACC_DEV_MAGIC_V2 ? 'V2' : null;
    if (!kind || !this.opts.accepts.includes(kind)) return 'magic';
    if (kind === 'V2' && b.readUInt16LE(28) !== 1) return 'major_ver';
    if (b.readUInt32LE(12) !== this.opts.deviceId) return 'dev_id';
    if (b.readUInt32LE(8) !== this.opts.qpNum) return 'qp_num';
    if (b.readUInt32LE(16) !== this.opts.queIsoCfg) return 'que_iso_cfg';
    return null;
  }

  migrationFlags(): IoResult<number> {
    return ok(this.opts.flags);
  }
  getState(): IoResult<MigState> {
    return ok(this.state);
  }
  dataSize(): IoResult<bigint> {
    return ok(BigInt(ACC_VF_DATA_SIZE));
  }

  setState(target: MigState): IoResult<{ dataFd: DataFd | null }> {
    let opened: DataFd | null = null;
    const arcs: string[] = [];
    while (this.state !== target) {
      // every arc here succeeds and moves the state, so the walk ends within the core's longest path
      if (arcs.length >= WALK_BOUND) throw new HangError(`${this.opts.name} set_device_state`, arcs);
      const n = nextStep(this.state, target, this.opts.flags, 'fixed-loop');
      if (!n.ok) return n;
      const r = this.arc(this.state, n.value);
      if (!r.ok) return r;
      arcs.push(`${this.state}->${n.value}`);
      this.state = n.value;
      opened = r.value; // only the final arc's session reaches user space
    }
    return ok({ dataFd: opened });
  }

  private arc(from: S, to: S): IoResult<DataFd | null> {
    const key = `${from}>${to}`;
    const image = this.image();
    switch (key) {
      case 'RUNNING>STOP':
      case 'STOP>RUNNING':
        return ok(null);
      case 'RUNNING>PRE_COPY':
        this.session = new Session(this.nextFd++, image, QM_MATCH_SIZE, this, false);
        return ok(this.session);
      case 'PRE_COPY>STOP_COPY':
        if (this.session) this.session.total = this.opts.ready ? ACC_VF_DATA_SIZE : QM_MATCH_SIZE;
        return ok(null);
      case 'STOP>STOP_COPY':
        this.session = new Session(this.nextFd++, image, this.opts.ready ? ACC_VF_DATA_SIZE : QM_MATCH_SIZE, this, false);
        return ok(this.session);
      case 'STOP>RESUMING':
        this.session = new Session(this.nextFd++, new Uint8Array(ACC_VF_DATA_SIZE), 0, this, true);
        return ok(this.session);
      case 'RESUMING>STOP': {
        const s = this.session;
        this.disableSession();
        if (!s) return fail('EINVAL');
        if (this.opts.matchAt === 'stop' && (s.total < QM_MATCH_SIZE || this.check(s.buf) !== null)) return fail('EINVAL');
        if (this.opts.matchAt === 'write' && !this.matched) return fail('EINVAL');
        if (s.total !== QM_MATCH_SIZE && s.total < ACC_VF_DATA_SIZE) return fail('EINVAL');
        return ok(null);
      }
      case 'STOP_COPY>STOP':
      case 'PRE_COPY>RUNNING':
        this.disableSession();
        return ok(null);
      default:
        return fail('EINVAL');
    }
  }

  private disableSession(): void {
    if (this.session) this.session.disabled = true;
    this.session = null;
  }

  reset(): IoResult<void> {
    this.resets++;
    this.disableSession();
    this.state = 'RUNNING';
    return ok(undefined);
  }

  close(): void {
    this.disableSession();
    this.closed = true;
  }
}

