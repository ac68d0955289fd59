// The one place the driver models turn struct acc_vf_data into bytes and back. The layout itself
// belongs to the formats engine (formats/hisi_acc_vf_data.ksy via harness/formats/accVfData.ts):
// no second, hand-written layout here.
import { ACC_VF_DATA_SIZE, accVfDataOf, decodeAccVfData, encodeAccVfData, type AccVfData } from '../formats/accVfData.ts';

/** The full 176-byte in-memory struct (a driver's migf->vf_data buffer). */
export function structBytes(d: AccVfData): Uint8Array {
  return encodeAccVfData(d, ACC_VF_DATA_SIZE);
}

/** Read the buffer (176 bytes, or the 40-byte header alone) as the driver's struct, whatever the magic; zero where absent. */
export function structOf(buf: Uint8Array): AccVfData {
  const d = accVfDataOf(decodeAccVfData(buf));
  if (!d) throw new Error(`acc_vf_data buffer of ${buf.length} bytes has no header`);
  return d;
}
