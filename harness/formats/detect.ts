// Which stream format a file holds, from its first bytes: QEMU's migration stream (QEVM), mtty's
// device state (its 64-bit magic, or, magic damaged, mtty's version and port count at a length only
// mtty writes), else a hisi_acc device state (the default: its magics vary by revision, and a
// malformed one should still decode as the format it claims to be).
import { isMttyStream, MTTY_HEADER_SIZE, mttyStreamSize } from './mtty.ts';
import { isQemuMigrationStream } from './qemuMigration.ts';

export const STREAM_FORMATS = ['hisi-acc', 'mtty', 'qemu-vfio', 'qemu-migration'] as const;
export type StreamFormat = (typeof STREAM_FORMATS)[number];

/** Device-state formats `lint` judges (a VMM stream is decoded, not linted). */
export const DEVICE_FORMATS = ['hisi-acc', 'mtty'] as const;
export type DeviceFormat = (typeof DEVICE_FORMATS)[number];

/** An mtty header behind a damaged magic: version 1.0, flags 0, 1 or 2 ports, and that many records. */
function looksLikeMtty(bytes: Uint8Array): boolean {
  if (bytes.length < MTTY_HEADER_SIZE) return false;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, MTTY_HEADER_SIZE);
  const [major, minor, ports, flags] = [8, 12, 16, 20].map((o) => dv.getUint32(o, true));
  return major === 1 && minor === 0 && flags === 0 && (ports === 1 || ports === 2) && bytes.length === mttyStreamSize(ports!);
}

/** `bytes`: the whole stream (or at least its first 8 bytes, which only tell QEVM and the exact magics). */
export function detectFormat(bytes: Uint8Array): 'qemu-migration' | DeviceFormat {
  if (isQemuMigrationStream(bytes)) return 'qemu-migration';
  if (isMttyStream(bytes) || looksLikeMtty(bytes)) return 'mtty';
  return 'hisi-acc';
}
