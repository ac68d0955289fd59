// What a host migration driver provides to the VFIO core: the kernel's vfio_migration_ops plus the
// device lifecycle (open/close/reset). A revision (trait-driven model or external code such as a
// `ktree:` build) implements this; the core (harness/vfio/sim.ts) turns it into a VfioDevice.
import type { IoResult } from '../util/errno.ts';
import type { DataFd, MigState } from './types.ts';

// HangError is thrown by the core and by drivers alike; it lives in util (the device engine throws it too).
export { HangError } from '../util/hang.ts';

export interface MigrationDriver {
  /** device->migration_flags (VFIO_MIGRATION_*) */
  readonly migrationFlags: number;
  /** open_device: called by the core once per open of the device fd */
  open(): void;
  /** close_device */
  close(): void;
  /** migration_get_state */
  getState(): MigState;
  /** migration_set_state: the whole SET request (the driver walks the arcs, as hisi does) */
  setState(target: MigState): IoResult<DataFd | null>;
  /** migration_get_data_size; ENOTTY when the revision's kernel has no MIG_DATA_SIZE feature */
  dataSize(): IoResult<bigint>;
  /** VFIO_DEVICE_RESET: function reset of the device, then the driver's reset_done handler */
  reset(): IoResult<void>;
}
