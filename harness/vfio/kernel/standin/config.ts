// Stand-in mode for whole CLI processes: MIGCOMPAT_VFIO_STANDIN names a JSON file describing fake
// devices; the hardware commands then run against the stand-in library instead of libc, with a
// fake sysfs tree. This is how capture/load/lab are tested end to end without hardware.
import { readFileSync } from 'node:fs';
import type { DeviceConfig } from '../../../device/mmio.ts';
import { UsageError } from '../../../util/usage-error.ts';
import type { VfioDevice } from '../../types.ts';
import { FakeHisiDevice, type FakeDeviceOptions } from './fake-device.ts';
import { StandinHost } from './host.ts';

export interface StandinDeviceConfig {
  bdf: string;
  group: number;
  cdev: number;
  /** a simulated revision id ('hisi-acc/v6.16'); absent → the protocol double (fake-device.ts) */
  revision?: string;
  device?: Partial<DeviceConfig>;
  fake?: Partial<FakeDeviceOptions>;
}

export interface StandinConfig {
  /** fake sysfs root the runner reads (bus/pci/devices/<bdf>/{driver,iommu_group,vfio-dev,device,vendor}) */
  sysfsRoot: string;
  /** provenance identity of this pretend host */
  host?: string;
  kernelRelease?: string;
  devices: StandinDeviceConfig[];
  /** open() under this prefix fails (e.g. ["/dev/vfio", "EACCES"]) */
  openFault?: [string, 'ENOENT' | 'EACCES'];
}

export function readStandinConfig(path: string): StandinConfig {
  try {
    const c = JSON.parse(readFileSync(path, 'utf8')) as StandinConfig;
    if (typeof c.sysfsRoot !== 'string' || !Array.isArray(c.devices)) throw new Error('needs sysfsRoot and devices');
    return c;
  } catch (e) {
    throw new UsageError(`MIGCOMPAT_VFIO_STANDIN=${path}: ${(e as Error).message.split('\n')[0]}`);
  }
}

/**
 * Opens a device of a configured driver revision (`revision:` in the config). Driver revisions sit
 * above this layer, so the caller supplies it (harness/runners/vfio-host/standinSim.ts).
 */
export type RevisionDeviceFactory = (revision: string, device: Partial<DeviceConfig> | undefined) => () => VfioDevice;

/** Build the stand-in, register the configured devices, and return the host. */
export function startStandin(cfg: StandinConfig, revisionDevice?: RevisionDeviceFactory): StandinHost {
  const host = StandinHost.get();
  host.reset();
  for (const d of cfg.devices) {
    let open: () => VfioDevice;
    if (d.revision) {
      if (!revisionDevice) throw new UsageError(`stand-in device ${d.bdf}: revision '${d.revision}' needs a revision device factory`);
      open = revisionDevice(d.revision, d.device);
    } else {
      open = () => new FakeHisiDevice({ name: d.bdf, ...d.fake });
    }
    host.addDevice({ bdf: d.bdf, group: d.group, cdev: d.cdev, open });
  }
  if (cfg.openFault) host.setOpenFault(cfg.openFault[0], cfg.openFault[1]);
  return host;
}
