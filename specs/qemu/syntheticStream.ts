// A small, hand-built QEMU 7.2-style migration stream (spec helper): RAM START/END with a MEM_SIZE
// record, a normal and a zero page; a VFIO device whose END section carries a 176-byte hisi_acc V2
// payload; one FULL vmstate section described by the trailing vmdesc.
const be32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const be64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
};
const str8 = (s: string) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s)]);
const full = (type: number, id: number, idstr: string, instance: number, version: number) =>
  Buffer.concat([Buffer.from([type]), be32(id), str8(idstr), be32(instance), be32(version)]);
const short = (type: number, id: number) => Buffer.concat([Buffer.from([type]), be32(id)]);
const footer = (id: number) => Buffer.concat([Buffer.from([0x7e]), be32(id)]);
const TAG = (code: number) => be64(0xffffffffef100000n | BigInt(code));

export const VFIO_IDSTR = '0000:00:03.0/vfio';

export function hisiV2Payload(): Buffer {
  const p = Buffer.alloc(176);
  p.writeBigUInt64LE(0xaaccfeeddecadeden, 0);
  p.writeUInt32LE(4, 8); // qp_num
  p.writeUInt32LE(0xa256, 12); // SEC VF
  p.writeUInt16LE(1, 28); // major
  return p;
}

/** One VFIO device of a synthetic stream: its section id string and the device bytes of its END section. */
export interface SyntheticVfio {
  idstr: string;
  payload: Uint8Array;
}

export function syntheticStream(vfio: SyntheticVfio[] = [{ idstr: VFIO_IDSTR, payload: hisiV2Payload() }]): Buffer {
  const page = Buffer.alloc(4096, 0x5a);
  const vmdesc = JSON.stringify({ page_size: 4096, devices: [{ name: 'timer', instance_id: 0, vmsd_name: 'timer', version: 2, fields: [{ name: 't', type: 'int64', size: 8, array_len: 3 }] }] });
  return Buffer.concat([
    Buffer.from('QEVM'), be32(3),
    Buffer.from([0x07]), be32(10), Buffer.from('pc-q35-7.2'),
    full(0x01, 2, 'ram', 0, 4), be64(8192n | 0x04n), str8('pc.ram'), be64(8192n),
    be64(0x08n), str8('pc.ram'), page, be64(4096n | 0x02n | 0x20n), Buffer.from([0]), be64(0x10n), footer(2),
    ...vfio.map((v, i) => Buffer.concat([full(0x01, 3 + i, v.idstr, 0, 1), TAG(3), TAG(1), footer(3 + i)])),
    short(0x03, 2), be64(0x10n), footer(2),
    ...vfio.map((v, i) => Buffer.concat([short(0x03, 3 + i), TAG(4), be64(BigInt(v.payload.length)), v.payload, TAG(1), footer(3 + i)])),
    full(0x04, 0, 'timer', 0, 2), Buffer.alloc(24, 1), footer(0),
    Buffer.from([0x00]), Buffer.from([0x06]), be32(Buffer.byteLength(vmdesc)), Buffer.from(vmdesc),
  ]);
}
