// The kernel backend: VfioDevice over a real VFIO device fd, one ioctl per call, argument buffers
// built byte by byte (argsz set explicitly: a koffi struct's size includes tail padding, and a
// flexible array counted by argsz does not fit koffi's element counts).
import type { ErrnoName, IoResult } from '../../util/errno.ts';
import { fail, ok } from '../../util/errno.ts';
import { MIG_STATE, MIG_STATE_NAMES, type DataFd, type MigState, type PrecopyInfo, type VfioDevice } from '../types.ts';
import type { Libc } from './libc.ts';
import { argszBuf, FEATURE_FLAG, FEATURE_ID, featureBuf, IOCTL, STRUCTS } from './uapi.ts';

/** errno of the last call, as a name (numbers outside the table keep their "E<n>" form) */
const lastErrno = (libc: Libc): ErrnoName => libc.errno() as ErrnoName;

/** Optional observer of every uAPI call (timeline recording in runners). */
export type CallObserver = (call: { op: string; fd: number; result: string; detail?: Record<string, string | number> }) => void;

export class KernelDataFd implements DataFd {
  private closed = false;
  constructor(private readonly libc: Libc, readonly fd: number, private readonly observe?: CallObserver) {}

  read(maxBytes: number): IoResult<Uint8Array> {
    const buf = Buffer.alloc(maxBytes);
    const n = this.libc.read(this.fd, buf, maxBytes);
    if (n < 0) {
      const e = lastErrno(this.libc);
      this.observe?.({ op: 'read', fd: this.fd, result: e, detail: { maxBytes } });
      return fail(e);
    }
    this.observe?.({ op: 'read', fd: this.fd, result: String(n), detail: { maxBytes } });
    return ok(new Uint8Array(buf.buffer, buf.byteOffset, n));
  }

  write(bytes: Uint8Array): IoResult<number> {
    const n = this.libc.write(this.fd, bytes, bytes.length);
    if (n < 0) {
      const e = lastErrno(this.libc);
      this.observe?.({ op: 'write', fd: this.fd, result: e, detail: { bytes: bytes.length } });
      return fail(e);
    }
    this.observe?.({ op: 'write', fd: this.fd, result: String(n), detail: { bytes: bytes.length } });
    return ok(n);
  }

  precopyInfo(): IoResult<PrecopyInfo> {
    const b = argszBuf(STRUCTS.precopy_info);
    if (this.libc.ioctlPtr(this.fd, IOCTL.VFIO_MIG_GET_PRECOPY_INFO, b) < 0) return fail(lastErrno(this.libc));
    return ok({ initialBytes: b.readBigUInt64LE(8), dirtyBytes: b.readBigUInt64LE(16) });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.libc.close(this.fd);
  }
}

export class KernelVfioDevice implements VfioDevice {
  private closed = false;

  /**
   * @param fd the device fd (from VFIO_GROUP_GET_DEVICE_FD or a bound /dev/vfio/devices/vfioN)
   * @param holders fds that keep the device usable (group + container, or iommufd): closed after it
   */
  constructor(
    private readonly libc: Libc,
    readonly name: string,
    readonly fd: number,
    private readonly holders: number[] = [],
    private readonly observe?: CallObserver,
  ) {}

  private feature(flags: number, payload: number, fill?: (b: Buffer) => void): IoResult<Buffer> {
    const b = featureBuf(flags, payload);
    fill?.(b);
    if (this.libc.ioctlPtr(this.fd, IOCTL.VFIO_DEVICE_FEATURE, b) < 0) return fail(lastErrno(this.libc));
    return ok(b);
  }

  /** VFIO_DEVICE_FEATURE with PROBE: whether the device supports `id` with these ops. */
  probeFeature(id: number, ops: number): IoResult<true> {
    const r = this.feature(FEATURE_FLAG.PROBE | ops | id, 0);
    return r.ok ? ok(true) : fail(r.errno);
  }

  migrationFlags(): IoResult<number> {
    const r = this.feature(FEATURE_FLAG.GET | FEATURE_ID.MIGRATION, STRUCTS.feature_migration.size);
    return r.ok ? ok(Number(r.value.readBigUInt64LE(8))) : fail(r.errno);
  }

  getState(): IoResult<MigState> {
    const r = this.feature(FEATURE_FLAG.GET | FEATURE_ID.MIG_DEVICE_STATE, STRUCTS.feature_mig_state.size, (b) =>
      b.writeInt32LE(-1, 12),
    );
    if (!r.ok) return fail(r.errno);
    const n = r.value.readUInt32LE(8);
    const name = MIG_STATE_NAMES.find((s) => MIG_STATE[s] === n);
    if (name === undefined) throw new Error(`${this.name}: kernel reported migration state ${n}, outside the uAPI enum`);
    return ok(name);
  }

  setState(target: MigState): IoResult<{ dataFd: DataFd | null }> {
    const r = this.feature(FEATURE_FLAG.SET | FEATURE_ID.MIG_DEVICE_STATE, STRUCTS.feature_mig_state.size, (b) => {
      b.writeUInt32LE(MIG_STATE[target], 8);
      b.writeInt32LE(-1, 12);
    });
    this.observe?.({ op: 'set-state', fd: this.fd, result: r.ok ? 'ok' : r.errno, detail: { target } });
    if (!r.ok) return fail(r.errno);
    const dataFd = r.value.readInt32LE(12);
    return ok({ dataFd: dataFd >= 0 ? new KernelDataFd(this.libc, dataFd, this.observe) : null });
  }

  dataSize(): IoResult<bigint> {
    const r = this.feature(FEATURE_FLAG.GET | FEATURE_ID.MIG_DATA_SIZE, STRUCTS.feature_mig_data_size.size);
    return r.ok ? ok(r.value.readBigUInt64LE(8)) : fail(r.errno);
  }

  reset(): IoResult<void> {
    const r = this.libc.ioctlVal(this.fd, IOCTL.VFIO_DEVICE_RESET, 0);
    const res: IoResult<void> = r < 0 ? fail(lastErrno(this.libc)) : ok(undefined);
    this.observe?.({ op: 'reset', fd: this.fd, result: res.ok ? 'ok' : res.errno });
    return res;
  }

  /** VFIO_DEVICE_GET_INFO: flags, regions, irqs (a cheap check that the fd is a VFIO PCI device). */
  info(): IoResult<{ flags: number; numRegions: number; numIrqs: number }> {
    const b = argszBuf(STRUCTS.device_info);
    if (this.libc.ioctlPtr(this.fd, IOCTL.VFIO_DEVICE_GET_INFO, b) < 0) return fail(lastErrno(this.libc));
    return ok({ flags: b.readUInt32LE(4), numRegions: b.readUInt32LE(8), numIrqs: b.readUInt32LE(12) });
  }

  /** VFIO_DEVICE_GET_REGION_INFO: where a region sits in the device fd and what it allows. */
  regionInfo(index: number): IoResult<RegionInfo> {
    const b = argszBuf(STRUCTS.region_info);
    b.writeUInt32LE(index, 8);
    if (this.libc.ioctlPtr(this.fd, IOCTL.VFIO_DEVICE_GET_REGION_INFO, b) < 0) return fail(lastErrno(this.libc));
    return ok({ index, flags: b.readUInt32LE(4), size: b.readBigUInt64LE(16), offset: b.readBigUInt64LE(24) });
  }

  /** pread(2) of `len` bytes at `off` inside a region (device registers, config space). */
  regionRead(index: number, off: number, len: number): IoResult<Uint8Array> {
    const at = this.regionOffset(index, off, len);
    if (!at.ok) return at;
    const buf = Buffer.alloc(len);
    const n = this.libc.pread(this.fd, buf, len, at.value);
    if (n < 0) return fail(lastErrno(this.libc));
    return ok(new Uint8Array(buf.buffer, buf.byteOffset, n));
  }

  /** pwrite(2) of `bytes` at `off` inside a region; the value is the number of bytes written. */
  regionWrite(index: number, off: number, bytes: Uint8Array): IoResult<number> {
    const at = this.regionOffset(index, off, bytes.length);
    if (!at.ok) return at;
    const n = this.libc.pwrite(this.fd, bytes, bytes.length, at.value);
    return n < 0 ? fail(lastErrno(this.libc)) : ok(n);
  }

  private regions = new Map<number, RegionInfo>();
  private regionOffset(index: number, off: number, len: number): IoResult<number> {
    let r = this.regions.get(index);
    if (!r) {
      const got = this.regionInfo(index);
      if (!got.ok) return got;
      r = got.value;
      this.regions.set(index, r);
    }
    // an access outside the region is the caller's bug, not something to send to the kernel
    if (off < 0 || BigInt(off + len) > r.size) throw new RangeError(`${this.name}: region ${index} is ${r.size} bytes, access ${off}+${len}`);
    return ok(Number(r.offset) + off);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.libc.close(this.fd);
    for (const h of this.holders) this.libc.close(h);
  }
}

export interface RegionInfo {
  index: number;
  /** VFIO_REGION_INFO_FLAG_* */
  flags: number;
  size: bigint;
  /** offset of the region within the device fd (for pread/pwrite) */
  offset: bigint;
}
