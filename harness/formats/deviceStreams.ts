// The device streams in a file, whatever its container: a device state as captured from the data fd,
// one QEMU VFIO section payload, or a whole QEMU migration file (QEVM magic), whose VFIO device
// sections are joined per device. Each stream says its device format (detect.ts). Commands that
// judge device bytes (check) take any of them.
import { UsageError } from '../util/usage-error.ts';
import { detectFormat, type DeviceFormat } from './detect.ts';
import { peekFile, readInputFile } from './files.ts';
import { decodeQemuMigration, isQemuMigrationStream, type DecodedQemuStream } from './qemuMigration.ts';
import { decodeVfioDeviceState } from './qemuDeviceState.ts';

/** The containers a device stream comes in (the device formats themselves: detect.ts). */
export const CONTAINER_FORMATS = ['hisi-acc', 'mtty', 'qemu-vfio', 'qemu-migration'] as const;
export type ContainerFormat = (typeof CONTAINER_FORMATS)[number];
/** a whole-VM migration stream is mostly RAM: allow it to be large */
export const MAX_QEMU_STREAM = 2 ** 31 - 1;

export interface DeviceStream {
  /** the QEMU section id string ('0000:00:03.0/vfio'); null for a bare device stream */
  device: string | null;
  bytes: Uint8Array;
  /** the device state's format, from its bytes (or the --format given for a bare stream) */
  format: DeviceFormat;
  /** false when the QEMU stream stopped before this device's END section */
  complete: boolean;
}

export interface FileStreams {
  format: ContainerFormat;
  streams: DeviceStream[];
  /** the decoded QEMU stream (qemu-migration only) */
  qemu?: DecodedQemuStream;
  /** what was wrong with the container, when its device data could still be read */
  problem?: string;
}

export function parseContainerFormat(v: string | undefined): ContainerFormat | undefined {
  if (v === undefined) return undefined;
  if (!(CONTAINER_FORMATS as readonly string[]).includes(v)) throw new UsageError(`--format must be one of ${CONTAINER_FORMATS.join(', ')}, got '${v}'`);
  return v as ContainerFormat;
}

/**
 * The device streams of a file. `device` picks one VFIO device of a QEMU file by its section id
 * string or its PCI address ('0000:00:03.0/vfio' or '0000:00:03.0'). Bad input is a UsageError.
 */
export function readDeviceStreams(file: string, opts: { format?: ContainerFormat; device?: string } = {}): FileStreams {
  const format = opts.format ?? detectFormat(peekFile(file, 256));
  if (opts.device !== undefined && format !== 'qemu-migration') throw new UsageError(`--device picks a VFIO device of a QEMU migration file; ${file} is read as ${format}`);
  if (format === 'hisi-acc' || format === 'mtty') return { format, streams: [{ device: null, bytes: readInputFile(file, 'stream file'), format, complete: true }] };
  if (format === 'qemu-vfio') {
    const q = decodeVfioDeviceState(readInputFile(file, 'stream file'));
    if (!q.deviceData.length) throw new UsageError(`${file}: no device data in the VFIO section payload${q.problem ? ` (${q.problem})` : ''}`);
    return { format, streams: [{ device: null, bytes: q.deviceData, format: devFormat(q.deviceData), complete: q.ok }], ...(q.ok ? {} : { problem: q.problem ?? 'malformed' }) };
  }
  const bytes = readInputFile(file, 'stream file', MAX_QEMU_STREAM);
  if (!isQemuMigrationStream(bytes)) throw new UsageError(`${file}: not a QEMU migration stream (no QEVM magic)`);
  const qemu = decodeQemuMigration(bytes);
  const problem = qemu.ok ? undefined : `QEMU stream problem at offset ${qemu.problemOffset ?? '?'}: ${qemu.problem}`;
  if (!qemu.vfioDevices.length) throw new UsageError(`${file}: no VFIO device data in the QEMU migration stream${problem ? ` (${problem})` : ''}`);
  let devices = qemu.vfioDevices;
  if (opts.device !== undefined) {
    const want = opts.device;
    devices = devices.filter((v) => v.idstr === want || v.idstr === `${want}/vfio`);
    if (!devices.length) throw new UsageError(`--device ${want}: no such VFIO device in ${file} (it has ${qemu.vfioDevices.map((v) => v.idstr).join(', ')})`);
  }
  return { format, qemu, streams: devices.map((v) => ({ device: v.idstr, bytes: v.bytes, format: devFormat(v.bytes), complete: v.complete })), ...(problem ? { problem } : {}) };
}

/** A device state's format from its bytes (a QEVM magic inside a section would be a hisi_acc stream gone wrong). */
function devFormat(bytes: Uint8Array): DeviceFormat {
  const f = detectFormat(bytes);
  return f === 'qemu-migration' ? 'hisi-acc' : f;
}
