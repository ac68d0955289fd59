// JavaScript side of the stand-in library: builds standin.c, registers the koffi callbacks through
// which the C side forwards driver behaviour, and maps fake devices to simulated VfioDevices.
// One host per process (the library keeps global state, as the kernel does).
import koffi from 'koffi';
import { ERRNO, type ErrnoName } from '../../../util/errno.ts';
import type { IoResult } from '../../../util/errno.ts';
import { MIG_STATE, MIG_STATE_NAMES, type DataFd, type VfioDevice } from '../../types.ts';
import { buildC } from '../build-c.ts';
import { loadLibc, type Libc } from '../libc.ts';
import { HangError } from '../../driver.ts';

export interface StandinDeviceSpec {
  /** PCI name, e.g. "0000:75:00.1" */
  bdf: string;
  /** IOMMU group number: /dev/vfio/<group> */
  group: number;
  /** cdev index: /dev/vfio/devices/vfio<cdev> */
  cdev: number;
  /** called on the first open of the device (driver open_device): the device model to drive */
  open: () => VfioDevice;
}

/** What the host saw, so tests can assert on the protocol the backend used. */
export interface StandinCallLog {
  op: 'open' | 'close' | 'set-state' | 'reset' | 'read' | 'write' | 'precopy' | 'data-close';
  bdf: string;
  detail: string;
}

interface DevEntry {
  spec: StandinDeviceSpec;
  device: VfioDevice | null;
  opens: number;
}

const neg = (e: ErrnoName): number => -ERRNO[e];
const errOf = <T>(r: IoResult<T>): number => (r.ok ? 0 : neg(r.errno));

export class StandinHost {
  readonly libc: Libc;
  readonly path: string;
  readonly log: StandinCallLog[] = [];
  /** exceptions thrown by a device model inside a callback (the C side saw EIO) */
  readonly errors: Error[] = [];
  /**
   * A device model's loop that never ends (HangError) inside a callback: a kernel would never return
   * from that call, so the libc call that led there throws it instead of returning an errno.
   */
  private pendingHang: HangError | null = null;
  private readonly devs = new Map<number, DevEntry>();
  private readonly sessions = new Map<number, { fd: DataFd; bdf: string }>();
  private nextHandle = 1;
  private nextSession = 1;
  private readonly native: {
    addDevice: (name: string, group: number, cdev: number, handle: number) => number;
    setOpenFault: (prefix: string, err: number) => void;
    fdKind: (fd: number) => number;
    openFds: () => number;
    calls: () => number;
    resetAll: () => void;
  };

  /** The stand-in's libc, through which a device model's hang comes out as the HangError itself. */
  private hangAware(l: Libc): Libc {
    const after = <T>(v: T): T => {
      const h = this.pendingHang;
      if (!h) return v;
      this.pendingHang = null;
      throw h;
    };
    return {
      ...l,
      open: (p, f) => after(l.open(p, f)), close: (fd) => after(l.close(fd)),
      read: (fd, b, n) => after(l.read(fd, b, n)), write: (fd, b, n) => after(l.write(fd, b, n)),
      pread: (fd, b, n, o) => after(l.pread(fd, b, n, o)), pwrite: (fd, b, n, o) => after(l.pwrite(fd, b, n, o)),
      ioctlPtr: (fd, r, a) => after(l.ioctlPtr(fd, r, a)), ioctlVal: (fd, r, a) => after(l.ioctlVal(fd, r, a)),
    };
  }

  private constructor(path: string) {
    this.path = path;
    const lib = koffi.load(path);
    const P = (sig: string) => koffi.pointer(koffi.proto(sig));
    const types = [
      P('int si_open_cb(int dev)'), P('void si_close_cb(int dev)'), P('int64_t si_query_cb(int dev, int what)'),
      P('int si_set_state_cb(int dev, uint32_t target)'), P('int si_reset_cb(int dev)'),
      P('int64_t si_read_cb(int session, uint8_t *buf, uint64_t len)'),
      P('int64_t si_write_cb(int session, const uint8_t *buf, uint64_t len)'),
      P('int si_precopy_cb(int session, int argsz_ok, uint8_t *out16)'), P('void si_data_close_cb(int session)'),
    ];
    const setCallbacks = lib.func('standin_set_callbacks', 'void', types);
    const guard = <A extends unknown[], R>(fallback: R, fn: (...a: A) => R) => (...a: A): R => {
      try {
        return fn(...a);
      } catch (e) {
        if (e instanceof HangError) this.pendingHang ??= e;
        else this.errors.push(e as Error);
        return fallback;
      }
    };
    const EIO = neg('EIO');
    const cbs = [
      guard(EIO, (h: number) => this.onOpen(h)),
      guard(undefined, (h: number) => this.onClose(h)),
      guard(BigInt(EIO), (h: number, what: number) => this.onQuery(h, what)),
      guard(EIO, (h: number, target: number) => this.onSetState(h, target)),
      guard(EIO, (h: number) => this.onReset(h)),
      guard(BigInt(EIO), (s: number, buf: bigint, len: number | bigint) => this.onRead(s, buf, Number(len))),
      guard(BigInt(EIO), (s: number, buf: bigint, len: number | bigint) => this.onWrite(s, buf, Number(len))),
      guard(EIO, (s: number, argszOk: number, out: bigint) => this.onPrecopy(s, argszOk !== 0, out)),
      guard(undefined, (s: number) => this.onDataClose(s)),
    ];
    // registered once for the life of the process: the library keeps the pointers
    setCallbacks(...cbs.map((fn, i) => koffi.register(fn, types[i])));
    this.native = {
      addDevice: lib.func('int standin_add_device(const char *name, int group, int cdev, int handle)'),
      setOpenFault: lib.func('void standin_set_open_fault(const char *prefix, int err)'),
      fdKind: lib.func('int standin_fd_kind(int fd)'),
      openFds: lib.func('int standin_open_fds(void)'),
      calls: lib.func('long standin_calls(void)'),
      resetAll: lib.func('void standin_reset_all(void)'),
    };
    this.libc = this.hangAware(loadLibc(path));
  }

  private static instance: StandinHost | null = null;

  /** Build (cached) and load the stand-in library; the same host for the whole process. */
  static get(): StandinHost {
    if (!StandinHost.instance) StandinHost.instance = new StandinHost(buildC('standin/standin.c', 'so'));
    return StandinHost.instance;
  }

  /** Forget every device and close every fake fd. */
  reset(): void {
    this.native.resetAll();
    this.devs.clear();
    this.sessions.clear();
    this.log.length = 0;
    this.errors.length = 0;
  }

  addDevice(spec: StandinDeviceSpec): void {
    const h = this.nextHandle++;
    if (this.native.addDevice(spec.bdf, spec.group, spec.cdev, h) < 0) throw new Error('stand-in: too many devices');
    this.devs.set(h, { spec, device: null, opens: 0 });
  }

  /** open() of paths under `prefix` fails with errno `err` (null clears). */
  setOpenFault(prefix: string, err: ErrnoName | null): void {
    this.native.setOpenFault(prefix, err ? ERRNO[err] : 0);
  }

  /** 0 = not a stand-in fd; 1 container, 2 group, 3 device, 4 iommufd, 5 data fd */
  fdKind(fd: number): number {
    return this.native.fdKind(fd);
  }

  openFdCount(): number {
    return this.native.openFds();
  }

  /** libc calls that went through the stand-in since the last reset */
  calls(): number {
    return Number(this.native.calls());
  }

  /** the model currently open for a device (null when closed) */
  deviceOf(bdf: string): VfioDevice | null {
    for (const d of this.devs.values()) if (d.spec.bdf === bdf) return d.device;
    return null;
  }

  private dev(h: number): DevEntry {
    const d = this.devs.get(h);
    if (!d) throw new Error(`stand-in: unknown device handle ${h}`);
    return d;
  }

  private live(h: number): VfioDevice {
    const d = this.dev(h);
    if (!d.device) throw new Error(`stand-in: device ${d.spec.bdf} used while closed`);
    return d.device;
  }

  private onOpen(h: number): number {
    const d = this.dev(h);
    d.device = d.spec.open();
    d.opens++;
    this.log.push({ op: 'open', bdf: d.spec.bdf, detail: `open #${d.opens}` });
    return 0;
  }

  private onClose(h: number): void {
    const d = this.dev(h);
    d.device?.close();
    d.device = null;
    this.log.push({ op: 'close', bdf: d.spec.bdf, detail: '' });
  }

  private onQuery(h: number, what: number): bigint {
    const dev = this.live(h);
    if (what === 1) {
      const r = dev.migrationFlags();
      return r.ok ? BigInt(r.value) : BigInt(neg(r.errno));
    }
    if (what === 2) {
      const r = dev.getState();
      return r.ok ? BigInt(MIG_STATE[r.value]) : BigInt(neg(r.errno));
    }
    if (what === 9) {
      const r = dev.dataSize();
      return r.ok ? r.value : BigInt(neg(r.errno));
    }
    return BigInt(neg('EINVAL'));
  }

  private onSetState(h: number, target: number): number {
    const d = this.dev(h);
    const name = MIG_STATE_NAMES.find((n) => MIG_STATE[n] === target);
    // the core rejects a state number outside the enum before the driver sees it
    if (name === undefined) return neg('EINVAL');
    const r = this.live(h).setState(name);
    this.log.push({ op: 'set-state', bdf: d.spec.bdf, detail: `${name} ${r.ok ? 'ok' : r.errno}` });
    if (!r.ok) return neg(r.errno);
    if (!r.value.dataFd) return 0;
    const s = this.nextSession++;
    this.sessions.set(s, { fd: r.value.dataFd, bdf: d.spec.bdf });
    return s;
  }

  private onReset(h: number): number {
    const d = this.dev(h);
    const r = this.live(h).reset();
    this.log.push({ op: 'reset', bdf: d.spec.bdf, detail: r.ok ? 'ok' : r.errno });
    return errOf(r);
  }

  private session(s: number) {
    const x = this.sessions.get(s);
    if (!x) throw new Error(`stand-in: unknown session ${s}`);
    return x;
  }

  private onRead(s: number, buf: bigint, len: number): bigint {
    const x = this.session(s);
    const r = x.fd.read(len);
    this.log.push({ op: 'read', bdf: x.bdf, detail: `${len} -> ${r.ok ? r.value.length : r.errno}` });
    if (!r.ok) return BigInt(neg(r.errno));
    if (r.value.length > len) throw new Error(`stand-in: model returned ${r.value.length} bytes for a ${len}-byte read`);
    if (r.value.length) new Uint8Array(koffi.view(buf, r.value.length)).set(r.value);
    return BigInt(r.value.length);
  }

  private onWrite(s: number, buf: bigint, len: number): bigint {
    const x = this.session(s);
    const bytes = len ? new Uint8Array(koffi.view(buf, len)).slice() : new Uint8Array(0);
    const r = x.fd.write(bytes);
    this.log.push({ op: 'write', bdf: x.bdf, detail: `${len} -> ${r.ok ? r.value : r.errno}` });
    return r.ok ? BigInt(r.value) : BigInt(neg(r.errno));
  }

  private onPrecopy(s: number, argszOk: boolean, out: bigint): number {
    const x = this.session(s);
    const r = x.fd.precopyInfo();
    // a revision without the ioctl answers ENOTTY whatever the argument; otherwise argsz is checked first
    if (!r.ok && r.errno === 'ENOTTY') return neg('ENOTTY');
    if (!argszOk) return neg('EINVAL');
    this.log.push({ op: 'precopy', bdf: x.bdf, detail: r.ok ? `${r.value.initialBytes}/${r.value.dirtyBytes}` : r.errno });
    if (!r.ok) return neg(r.errno);
    const v = new DataView(koffi.view(out, 16));
    v.setBigUint64(0, BigInt.asUintN(64, r.value.initialBytes), true);
    v.setBigUint64(8, BigInt.asUintN(64, r.value.dirtyBytes), true);
    return 0;
  }

  private onDataClose(s: number): void {
    const x = this.sessions.get(s);
    if (!x) return;
    this.sessions.delete(s);
    x.fd.close();
    this.log.push({ op: 'data-close', bdf: x.bdf, detail: '' });
  }
}
