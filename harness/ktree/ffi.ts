// The koffi binding of one built ktree library: its entry points, and the callbacks through which
// the real driver's MMIO, delays, the tree's core state-walk answers and log lines reach the harness. A library
// is loaded once per process; each simulated VF probed in it is an "instance" routed to its host.
import { createRequire } from 'node:module';
import type Koffi from 'koffi';
import type { MmioSpace } from '../device/mmio.ts';
import { UsageError } from '../util/usage-error.ts';

// koffi is loaded on first use, not at import: the driver registry imports this module's users to
// resolve `ktree:` ids, and a process running only models never loads the native addon.
let koffiMod: typeof Koffi | null = null;
const koffiLib = (): typeof Koffi => (koffiMod ??= createRequire(import.meta.url)('koffi') as typeof Koffi);

/** What one probed instance talks to (set by the driver binding). */
export interface InstanceSink {
  read32(space: MmioSpace, off: number): number;
  write32(space: MmioSpace, off: number, val: number): void;
  write64(space: MmioSpace, off: number, val: bigint): void;
  write128(space: MmioSpace, off: number, lo: bigint, hi: bigint): void;
  log(level: number, msg: string): void;
}

/** core.c: the tree's core walk never returned (not an errno) */
export const SHIM_CORE_HANG = -100000;
/** shim_set_state: the SET request was abandoned as a hang (not an errno) */
export const SHIM_SET_HANG = -100001;
/** writeq: the SET request's doorbells passed the model's start_device bound (not an errno) */
export const SHIM_DOORBELL_HANG = -100002;
export const SHIM_DOORBELL_BOUND = 0x10000;

/** Hooks shared by all instances of a library (delays and the core's state-walk answers). */
export interface LibHooks {
  delayUs(us: number): void;
  /**
   * The tree's vfio_mig_get_next_state answered (ret 0 with `next`, a negative errno, or
   * SHIM_CORE_HANG). Return 1 to end the SET request as a hang (a walk past its bound), else 0.
   */
  coreStep(cur: number, target: number, ret: number, next: number): number;
}

export interface ShimLib {
  readonly path: string;
  readonly driverName: string | null;
  readonly sinks: Map<number, InstanceSink>;
  hooks: LibHooks;
  create(vfDeviceId: number, vfIndex: number, pfHwVer: number): number;
  open(inst: number): number;
  close(inst: number): void;
  destroy(inst: number): void;
  migrationFlags(inst: number): number;
  setState(inst: number, state: number): { ret: number; file: unknown };
  getState(inst: number): { ret: number; state: number };
  dataSize(inst: number): { ret: number; len: bigint };
  resetPrepare(inst: number): number;
  resetDone(inst: number): number;
  vfQm(inst: number): { eqeDma: bigint; aeqeDma: bigint; sqcDma: bigint; cqcDma: bigint; qpBase: number; qpNum: number; vfQmState: number };
  /** the tree's core walk alone: { ret: 0 | -errno | SHIM_CORE_HANG, next } */
  coreNextState(flags: number, cur: number, target: number): { ret: number; next: number };
  /** CPU-time budget of one core walk, in ms (0: the default) */
  setCoreBudget(ms: number): void;
  fileRead(file: unknown, max: number): { ret: number; bytes: Uint8Array };
  fileWrite(file: unknown, bytes: Uint8Array): number;
  fileIoctl(file: unknown, cmd: number, arg: Uint8Array): number;
  fileClose(file: unknown): void;
}

const SPACES: MmioSpace[] = ['vf', 'pf'];
const u64 = (v: number | bigint): bigint => BigInt.asUintN(64, BigInt(v));
const loaded = new Map<string, ShimLib>();

// koffi names prototypes process-wide: declare them once, whatever the number of libraries.
let protoCache: Record<'R32' | 'W32' | 'W64' | 'W128' | 'DLY' | 'STEP' | 'LOG', ReturnType<typeof Koffi.proto>> | null = null;
function protos(): NonNullable<typeof protoCache> {
  const koffi = koffiLib();
  protoCache ??= {
    R32: koffi.proto('uint32_t shim_read32_fn(int inst, int space, uint32_t off)'),
    W32: koffi.proto('void shim_write32_fn(int inst, int space, uint32_t off, uint32_t val)'),
    W64: koffi.proto('void shim_write64_fn(int inst, int space, uint32_t off, uint64_t val)'),
    W128: koffi.proto('void shim_write128_fn(int inst, int space, uint32_t off, uint64_t lo, uint64_t hi)'),
    DLY: koffi.proto('void shim_delay_fn(uint32_t us)'),
    STEP: koffi.proto('int shim_core_step_fn(int inst, uint32_t cur, uint32_t target, int ret, uint32_t next)'),
    LOG: koffi.proto('void shim_log_fn(int inst, int level, const char *msg)'),
  };
  return protoCache;
}

/** Load (once per process) the library at `path` and install its callbacks. */
export function loadShimLib(path: string): ShimLib {
  const have = loaded.get(path);
  if (have) return have;
  const koffi = koffiLib();
  const lib = koffi.load(path);
  const sinks = new Map<number, InstanceSink>();
  const sink = (inst: number): InstanceSink => {
    const s = sinks.get(inst);
    if (!s) throw new Error(`ktree: MMIO from unknown instance ${inst}`);
    return s;
  };
  const { R32, W32, W64, W128, DLY, STEP, LOG } = protos();
  const self: ShimLib = {
    path,
    driverName: null,
    sinks,
    hooks: { delayUs: () => {}, coreStep: () => 0 },
  } as unknown as ShimLib;
  // Registered once and kept for the process lifetime: the library holds the pointers.
  const cbs = [
    koffi.register((i: number, s: number, o: number) => sink(i).read32(SPACES[s], o) >>> 0, koffi.pointer(R32)),
    koffi.register((i: number, s: number, o: number, v: number) => sink(i).write32(SPACES[s], o, v >>> 0), koffi.pointer(W32)),
    koffi.register((i: number, s: number, o: number, v: number | bigint) => sink(i).write64(SPACES[s], o, u64(v)), koffi.pointer(W64)),
    koffi.register((i: number, s: number, o: number, lo: number | bigint, hi: number | bigint) =>
      sink(i).write128(SPACES[s], o, u64(lo), u64(hi)), koffi.pointer(W128)),
    koffi.register((us: number) => self.hooks.delayUs(us), koffi.pointer(DLY)),
    koffi.register((_i: number, c: number, t: number, ret: number, n: number) => self.hooks.coreStep(c, t, ret, n), koffi.pointer(STEP)),
    koffi.register((i: number, level: number, msg: string) => {
      const s = sinks.get(i);
      if (s) s.log(level, msg);
    }, koffi.pointer(LOG)),
  ];
  lib.func('void shim_set_callbacks(shim_read32_fn *r, shim_write32_fn *w, shim_write64_fn *w64, shim_write128_fn *w128, shim_delay_fn *d, shim_core_step_fn *s, shim_log_fn *l)')(...cbs);

  const fCreate = lib.func('int shim_create(uint32_t dev, int vf_index, int ver)');
  const fOpen = lib.func('int shim_open(int i)');
  const fClose = lib.func('void shim_close(int i)');
  const fDestroy = lib.func('void shim_destroy(int i)');
  const fFlags = lib.func('long shim_migration_flags(int i)');
  const fSet = lib.func('int shim_set_state(int i, uint32_t state, _Out_ void **out)');
  const fGet = lib.func('int shim_get_state(int i, _Out_ uint32_t *state)');
  const fSize = lib.func('int shim_get_data_size(int i, _Out_ uint64_t *len)');
  const fResetPrep = lib.func('int shim_reset_prepare(int i)');
  const fResetDone = lib.func('int shim_reset_done(int i)');
  const fVfQm = lib.func('int shim_vf_qm(int i, _Out_ uint64_t *dma4, _Out_ uint32_t *qp3)');
  const fRead = lib.func('long shim_file_read(void *f, uint8_t *buf, size_t len)');
  const fWrite = lib.func('long shim_file_write(void *f, const uint8_t *buf, size_t len)');
  const fIoctl = lib.func('long shim_file_ioctl(void *f, unsigned int cmd, uint8_t *arg)');
  const fFileClose = lib.func('void shim_file_close(void *f)');
  const fName = lib.func('const char *shim_driver_name(void)');
  const fCore = lib.func('int shim_core_next_state(uint32_t flags, uint32_t cur, uint32_t target, _Out_ uint32_t *next)');
  const fBudget = lib.func('void shim_set_core_budget(unsigned int ms)');

  Object.assign(self, {
    driverName: fName() as string | null,
    create: (d: number, v: number, ver: number) => fCreate(d, v, ver) as number,
    open: (i: number) => fOpen(i) as number,
    close: (i: number) => { fClose(i); },
    destroy: (i: number) => { fDestroy(i); sinks.delete(i); },
    migrationFlags: (i: number) => Number(fFlags(i)),
    setState: (i: number, st: number) => {
      const out: unknown[] = [null];
      const ret = fSet(i, st, out) as number;
      return { ret, file: out[0] };
    },
    getState: (i: number) => {
      const out = new Uint32Array(1);
      const ret = fGet(i, out) as number;
      return { ret, state: out[0] };
    },
    dataSize: (i: number) => {
      const out = new BigUint64Array(1);
      const ret = fSize(i, out) as number;
      return { ret, len: out[0] };
    },
    resetPrepare: (i: number) => fResetPrep(i) as number,
    resetDone: (i: number) => fResetDone(i) as number,
    vfQm: (i: number) => {
      const d = new BigUint64Array(4);
      const q = new Uint32Array(3);
      fVfQm(i, d, q);
      return { eqeDma: d[0], aeqeDma: d[1], sqcDma: d[2], cqcDma: d[3], qpBase: q[0], qpNum: q[1], vfQmState: q[2] };
    },
    fileRead: (f: unknown, max: number) => {
      const buf = Buffer.alloc(Math.max(1, max));
      const ret = Number(fRead(f, buf, max));
      return { ret, bytes: ret > 0 ? new Uint8Array(buf.subarray(0, ret)) : new Uint8Array(0) };
    },
    fileWrite: (f: unknown, bytes: Uint8Array) => Number(fWrite(f, Buffer.from(bytes.length ? bytes : [0]), bytes.length)),
    fileIoctl: (f: unknown, cmd: number, arg: Uint8Array) => Number(fIoctl(f, cmd, arg)),
    fileClose: (f: unknown) => { fFileClose(f); },
    coreNextState: (flags: number, cur: number, target: number) => {
      const out = new Uint32Array(1);
      const ret = fCore(flags, cur, target, out) as number;
      return { ret, next: out[0] };
    },
    setCoreBudget: (ms: number) => { fBudget(ms); },
  });
  self.setCoreBudget(coreBudgetMs());
  loaded.set(path, self);
  return self;
}

/**
 * CPU-time budget of one call to a tree's core state walk (shim/src/core.c): MIGCOMPAT_KTREE_CORE_BUDGET_MS,
 * default 1000. The function answers in well under a millisecond or never, so any generous value
 * gives the same verdicts; a smaller one only makes a hang cost less CPU.
 */
export function coreBudgetMs(): number {
  const v = process.env.MIGCOMPAT_KTREE_CORE_BUDGET_MS;
  if (v === undefined || v === '') return 0; // the shim's default
  if (!/^[1-9][0-9]{0,6}$/.test(v)) throw new UsageError(`MIGCOMPAT_KTREE_CORE_BUDGET_MS: expected a number of milliseconds, got '${v}'`);
  return Number(v);
}
