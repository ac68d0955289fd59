// The VFIO migration uAPI as one synchronous interface, implemented by the simulated backend
// (harness/vfio/sim) and the kernel backend (harness/vfio/kernel, koffi). Sync on purpose: the
// kernel calls are sync ioctls, and the simulated device must run thousands of cases a second.
import type { IoResult } from '../util/errno.ts';

/** enum vfio_device_mig_state (docs/reference.md#device-states). */
export const MIG_STATE = {
  ERROR: 0, STOP: 1, RUNNING: 2, STOP_COPY: 3, RESUMING: 4, RUNNING_P2P: 5, PRE_COPY: 6, PRE_COPY_P2P: 7,
} as const;
export type MigState = keyof typeof MIG_STATE;
export const MIG_STATE_NAMES = Object.keys(MIG_STATE) as MigState[];

/** VFIO_MIGRATION_* flags (docs/reference.md#migration-flags). */
export const MIG_FLAG = { STOP_COPY: 0x1, P2P: 0x2, PRE_COPY: 0x4 } as const;

export interface PrecopyInfo {
  initialBytes: bigint;
  dirtyBytes: bigint;
}

/** A migration data fd (save or resume session). */
export interface DataFd {
  /** Small integer identifying the fd in timelines (the real fd number on the kernel backend). */
  readonly fd: number;
  /** read(2) of up to maxBytes; a zero-length value is end of stream (or PRE_COPY's temporary end). */
  read(maxBytes: number): IoResult<Uint8Array>;
  /** write(2); the value is the number of bytes accepted. */
  write(bytes: Uint8Array): IoResult<number>;
  /** VFIO_MIG_GET_PRECOPY_INFO on this fd. */
  precopyInfo(): IoResult<PrecopyInfo>;
  close(): void;
}

/** One VFIO device with migration support, as user space (QEMU, migcompat) sees it. */
export interface VfioDevice {
  readonly name: string;
  /** VFIO_DEVICE_FEATURE GET MIGRATION. */
  migrationFlags(): IoResult<number>;
  /** VFIO_DEVICE_FEATURE GET MIG_DEVICE_STATE. */
  getState(): IoResult<MigState>;
  /** VFIO_DEVICE_FEATURE SET MIG_DEVICE_STATE: the core walks the path; dataFd is set when the last arc opened a session. */
  setState(target: MigState): IoResult<{ dataFd: DataFd | null }>;
  /** VFIO_DEVICE_FEATURE GET MIG_DATA_SIZE (ENOTTY where the revision lacks it). */
  dataSize(): IoResult<bigint>;
  /** VFIO_DEVICE_RESET. */
  reset(): IoResult<void>;
  /** Close the device fd (driver close_device). */
  close(): void;
}
