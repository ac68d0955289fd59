// A captured stream and its provenance sidecar (<stream>.json): which host, kernel, driver and
// device wrote it, when, and with which migration flags. Both files are written to a temp name and
// renamed, sidecar last, so a reader never sees a stream without its provenance or half a file.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { UsageError } from '../../util/usage-error.ts';

export const PROVENANCE_FORMAT = 'migcompat-stream-provenance/1';

export interface Provenance {
  format: typeof PROVENANCE_FORMAT;
  host: string;
  kernelRelease: string;
  driver: string;
  /** the device id: PCI address, or mdev:UUID */
  bdf: string;
  /** mdev only: the type the stream came from (a destination of another type may refuse it) */
  mdevType?: string;
  vendorId: string;
  deviceId: string;
  capturedAt: string;
  /** VFIO_MIGRATION_* flags of the source, e.g. "0x5" */
  migrationFlags: string;
  flagNames: string[];
  precopy: boolean;
  /** VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, or the errno when the kernel lacks it */
  dataSize: string;
  bytes: number;
  sha256: string;
}

export const sidecarPath = (streamPath: string): string => `${streamPath}.json`;
export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function atomicWrite(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

export function writeStream(path: string, bytes: Uint8Array, prov: Provenance, force = false): void {
  if (!force && (existsSync(path) || existsSync(sidecarPath(path))))
    throw new UsageError(`${path} already exists (use --force to replace it)`);
  atomicWrite(path, bytes);
  atomicWrite(sidecarPath(path), JSON.stringify(prov, null, 2) + '\n');
}

/** The stream's provenance, or null when it has no sidecar. A sidecar that does not match the bytes is bad input. */
export function readProvenance(streamPath: string, bytes?: Uint8Array): Provenance | null {
  const p = sidecarPath(streamPath);
  if (!existsSync(p)) return null;
  let prov: Provenance;
  try {
    prov = JSON.parse(readFileSync(p, 'utf8')) as Provenance;
  } catch (e) {
    throw new UsageError(`${p}: not JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (prov.format !== PROVENANCE_FORMAT) throw new UsageError(`${p}: not a migcompat provenance sidecar`);
  if (bytes && prov.sha256 !== sha256(bytes)) throw new UsageError(`${p}: sha256 does not match ${streamPath}`);
  return prov;
}
