// The one place the driver models turn struct acc_vf_data into bytes and back. The layout itself
// belongs to the formats engine (formats/hisi_acc_vf_data.ksy via harness/formats/accVfData.ts):
// no second, hand-written layout here. Decoding is cached by content: a check loop decodes the
// same few streams over and over, and the formats decoder (Kaitai) is the costly part of a check.
import { ACC_VF_DATA_SIZE, accVfDataOf, decodeAccVfData, encodeAccVfData, type AccVfData } from '../formats/accVfData.ts';

/** The full 176-byte in-memory struct (a driver's migf->vf_data buffer). */
export function structBytes(d: AccVfData): Uint8Array {
  return encodeAccVfData(d, ACC_VF_DATA_SIZE);
}

interface Entry {
  bytes: Buffer;
  value: AccVfData;
}
/** most recently used first; tiny, so a lookup is a few native memcmp calls */
const cache: Entry[] = [];
const CACHE_MAX = 8;

const copy = (d: AccVfData): AccVfData => ({
  ...d, qmRsvState: [d.qmRsvState[0], d.qmRsvState[1], d.qmRsvState[2]], qmEqcDw: d.qmEqcDw.slice(), qmAeqcDw: d.qmAeqcDw.slice(),
  qmRsvRegs: d.qmRsvRegs.slice(),
});

/**
 * Read the buffer (176 bytes, or the 40-byte header alone) as the driver's struct, whatever the
 * magic; zero where absent. The caller owns the result (a fresh copy, safe to modify).
 */
export function structOf(buf: Uint8Array): AccVfData {
  const key = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  for (let i = 0; i < cache.length; i++) {
    const e = cache[i];
    if (e.bytes.length === key.length && e.bytes.equals(key)) {
      if (i > 0) {
        cache.splice(i, 1);
        cache.unshift(e);
      }
      return copy(e.value);
    }
  }
  const d = accVfDataOf(decodeAccVfData(buf));
  if (!d) throw new Error(`acc_vf_data buffer of ${buf.length} bytes has no header`);
  cache.unshift({ bytes: Buffer.from(key), value: copy(d) });
  if (cache.length > CACHE_MAX) cache.pop();
  return d;
}
