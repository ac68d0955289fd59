// QEMU's VFIO section payload (docs/reference.md#vfio-device-sections), built by hand: be64 markers, DATA
// chunks, config.
import { test, expect } from '@playwright/test';
import { decodeAccVfData, decodeVfioDeviceState, vfioDeviceStateFieldMap, fieldAt, VFIO_MIG_FLAG } from '../../harness/formats/index.ts';
import { goldenV2Full } from './vectors.ts';

function be64(v: bigint): number[] {
  return Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(56 - 8 * i)) & 0xffn));
}
const payload = (...parts: (number[] | Uint8Array)[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

test('START section: SETUP_STATE then END_OF_STATE', () => {
  const b = payload(be64(0xffffffffef100003n), be64(0xffffffffef100001n));
  const d = decodeVfioDeviceState(b);
  expect(d.ok).toBe(true);
  expect(d.records.map((r) => [r.offset, r.tagName])).toEqual([[0, 'dev_setup_state'], [8, 'end_of_state']]);
  expect(d.deviceData.length).toBe(0);
});

test('PRE_COPY PART (40 bytes) and END (136 bytes) chunks reassemble the hisi stream', () => {
  const s = goldenV2Full().bytes;
  const part = payload(be64(VFIO_MIG_FLAG.DEV_DATA_STATE), be64(40n), s.subarray(0, 40), be64(VFIO_MIG_FLAG.DEV_INIT_DATA_SENT));
  const p = decodeVfioDeviceState(part);
  expect(p.ok).toBe(false); // INIT_DATA_SENT is not the end of the section
  expect(p.problem).toContain('before END_OF_STATE');
  const end = payload(be64(VFIO_MIG_FLAG.DEV_DATA_STATE), be64(136n), s.subarray(40), be64(VFIO_MIG_FLAG.END_OF_STATE));
  const e = decodeVfioDeviceState(end);
  expect(e.ok).toBe(true);
  expect(e.records[0]).toMatchObject({ offset: 0, tagName: 'dev_data_state', size: 136, dataOffset: 16 });
  const joined = Uint8Array.from([...p.deviceData, ...e.deviceData]);
  expect(decodeAccVfData(joined).ok).toBe(true);
  expect(decodeAccVfData(joined).header!.accMagic).toBe(0xaaccfeeddecadeden);
});

test('FULL section: CONFIG_STATE, opaque config up to the trailing END_OF_STATE', () => {
  const cfg = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const d = decodeVfioDeviceState(payload(be64(VFIO_MIG_FLAG.DEV_CONFIG_STATE), cfg, be64(VFIO_MIG_FLAG.END_OF_STATE)));
  expect(d.ok).toBe(true);
  expect(d.records[0]).toMatchObject({ tagName: 'dev_config_state', size: 11, dataOffset: 8 });
  expect([...d.records[0].data!]).toEqual(cfg);
  expect(d.records[1]).toMatchObject({ tagName: 'end_of_state', offset: 19 });
});

test('unknown marker, truncated chunk, trailing bytes: structured results', () => {
  const unk = decodeVfioDeviceState(payload(be64(0xffffffffef100009n), be64(VFIO_MIG_FLAG.END_OF_STATE)));
  expect(unk.ok).toBe(false);
  expect(unk.problem).toContain('unknown marker 0xffffffffef100009');
  const cut = decodeVfioDeviceState(payload(be64(VFIO_MIG_FLAG.DEV_DATA_STATE), be64(136n), [1, 2, 3]));
  expect(cut.ok).toBe(false);
  expect(cut.problem).toContain('truncated');
  expect(cut.records.length).toBe(0);
  const huge = decodeVfioDeviceState(payload(be64(VFIO_MIG_FLAG.DEV_DATA_STATE), be64(0xffffffffffffffffn)));
  expect(huge.ok).toBe(false);
  const tail = decodeVfioDeviceState(payload(be64(VFIO_MIG_FLAG.END_OF_STATE), [0xaa, 0xbb]));
  expect(tail).toMatchObject({ ok: true, consumed: 8, trailing: 2 });
});

test('field map names the marker words, the size and the chunk bytes', () => {
  const b = payload(be64(VFIO_MIG_FLAG.DEV_DATA_STATE), be64(4n), [9, 9, 9, 9], be64(VFIO_MIG_FLAG.END_OF_STATE));
  const m = vfioDeviceStateFieldMap(b);
  expect(fieldAt(m, 0)).toMatchObject({ path: 'records[0].tag_hi', value: 0xffffffff });
  expect(fieldAt(m, 4)).toMatchObject({ path: 'records[0].tag_lo', enumValue: 'dev_data_state' });
  expect(fieldAt(m, 12)).toMatchObject({ path: 'records[0].data.size_lo', value: 4 });
  expect(fieldAt(m, 17)!.path).toBe('records[0].data.body');
  expect(fieldAt(m, 20)!.path).toBe('records[1].tag_hi');
  expect(fieldAt(m, 24)).toMatchObject({ path: 'records[1].tag_lo', enumValue: 'end_of_state' });
});
