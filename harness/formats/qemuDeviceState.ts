// QEMU's VFIO section payload (formats/qemu_vfio_device_state.ksy): markers, DATA chunks, the opaque
// config state, END_OF_STATE. Decoded with the debug parser so a truncated payload still reports
// the records read so far, with offsets.
import { fieldMapOf, type FieldMap } from './fieldMap.ts';
import { format, KaitaiStream } from './parsers.ts';

export const QEMU_VFIO_FORMAT = 'qemu_vfio_device_state';

export const VFIO_MIG_FLAG = {
  END_OF_STATE: 0xffffffffef100001n,
  DEV_CONFIG_STATE: 0xffffffffef100002n,
  DEV_SETUP_STATE: 0xffffffffef100003n,
  DEV_DATA_STATE: 0xffffffffef100004n,
  DEV_INIT_DATA_SENT: 0xffffffffef100005n,
  DEV_CONFIG_LOAD_READY: 0xffffffffef100006n,
} as const;

export interface VfioRecord {
  /** offset of the marker */
  offset: number;
  tag: bigint;
  /** end_of_state, dev_data_state, … or 'unknown' */
  tagName: string;
  /** DATA_STATE: the be64 size; CONFIG_STATE: the config length */
  size?: number;
  /** DATA_STATE / CONFIG_STATE: where the bytes start, and the bytes */
  dataOffset?: number;
  data?: Uint8Array;
}

export interface DecodedVfioState {
  /** ended by END_OF_STATE, every marker known, nothing truncated */
  ok: boolean;
  records: VfioRecord[];
  /** bytes up to the end of the last complete record */
  consumed: number;
  /** bytes after END_OF_STATE */
  trailing: number;
  problem?: string;
  /** DATA_STATE bodies concatenated: what the destination's data_fd receives */
  deviceData: Uint8Array;
}

export function decodeVfioDeviceState(bytes: Uint8Array): DecodedVfioState {
  const fmt = format(QEMU_VFIO_FORMAT);
  const names = fmt.Parser.VfioMigFlag as Record<number, string>;
  const io = new KaitaiStream(bytes);
  const root = new fmt.DebugParser(io);
  let problem: string | undefined;
  try {
    root._read();
  } catch (e) {
    problem = `truncated: ${(e as Error).message}`;
  }
  const records: VfioRecord[] = [];
  const arr: any[] = root.records ?? [];
  const dbg: any[] = root._debug?.records?.arr ?? [];
  let consumed = 0;
  for (let i = 0; i < arr.length; i++) {
    const r = arr[i];
    const d = dbg[i];
    if (d?.end === undefined) break; // the record cut short by the end of input
    const tag = (BigInt(r.tagHi >>> 0) << 32n) | BigInt(r.tagLo >>> 0);
    const rec: VfioRecord = {
      offset: d.start + d.ioOffset - io.byteOffset,
      tag,
      tagName: r.tagHi === 0xffffffff && names[r.tagLo] ? names[r.tagLo].toLowerCase() : 'unknown',
    };
    if (r.data?.body instanceof Uint8Array) {
      const bd = r.data._debug.body;
      rec.size = r.data.body.length;
      rec.dataOffset = bd.start + bd.ioOffset - io.byteOffset;
      rec.data = r.data.body;
    }
    records.push(rec);
    consumed = d.end + d.ioOffset - io.byteOffset;
  }
  const last = records[records.length - 1];
  if (!problem) {
    if (!last) problem = 'empty payload';
    else if (last.tagName === 'unknown') problem = `unknown marker 0x${last.tag.toString(16).padStart(16, '0')} at offset ${last.offset} (QEMU's loader fails with -EINVAL)`;
    else if (last.tag !== VFIO_MIG_FLAG.END_OF_STATE) problem = 'input ends before END_OF_STATE';
  }
  const chunks = records.filter((r) => r.tagName === 'dev_data_state' && r.data).map((r) => r.data!);
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const deviceData = new Uint8Array(total);
  let p = 0;
  for (const c of chunks) {
    deviceData.set(c, p);
    p += c.length;
  }
  return { ok: !problem, records, consumed, trailing: bytes.length - consumed, ...(problem ? { problem } : {}), deviceData };
}

/** Byte -> field map of a VFIO section payload. */
export function vfioDeviceStateFieldMap(bytes: Uint8Array): FieldMap {
  return fieldMapOf(format(QEMU_VFIO_FORMAT), bytes);
}
