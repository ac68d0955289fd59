// Guest requests: deterministic inputs (from the workload's seed) placed in guest memory, and what
// the guest observed about each (how often it completed, with which status).
import type { DeviceType, GuestMemory } from '../device/index.ts';
import { SQE_OP } from '../device/sqe.ts';
import { Rng } from '../util/rng.ts';

export interface GuestRequest {
  id: number;
  op: number;
  data: Uint8Array;
  key: Uint8Array;
  iv: Uint8Array;
  // guest-physical buffers
  src: number;
  dst: number;
  keyAddr: number;
  ivAddr: number;
  dstCap: number;
  /** completions the guest driver observed for this request */
  completions: number;
  status: number;
  outLen: number;
}

const SEC_OPS = [SQE_OP.AES_CBC_ENC, SQE_OP.AES_GCM_ENC, SQE_OP.SHA256, SQE_OP.HMAC_SHA256];

/** Makes requests for one device type; inputs are windows of one seeded random pool (cheap, distinct). */
export class RequestFactory {
  private readonly rng: Rng;
  private readonly pool: Uint8Array;
  private next = 0;
  readonly size: number;

  constructor(readonly deviceType: DeviceType, requestSize: number, seed: number) {
    this.rng = new Rng(seed ^ 0x5eed);
    this.size = deviceType === 'HPRE' ? 256 : Math.max(16, Math.ceil(requestSize / 16) * 16);
    const poolLen = this.size * 2 + 4096;
    this.pool = new Uint8Array(poolLen);
    const w = new Uint32Array(this.pool.buffer);
    for (let i = 0; i < w.length; i++) w[i] = this.rng.u32();
    if (deviceType === 'ZIP') {
      // compressible input: repeat short runs so deflate has something to find
      for (let i = 64; i < poolLen; i++) if (this.pool[i] & 1) this.pool[i] = this.pool[i - 64];
    }
  }

  make(memory: GuestMemory): GuestRequest {
    const id = this.next++;
    const off = this.rng.int(0, this.pool.length - this.size - 64) & ~15;
    const data = this.pool.subarray(off, off + this.size);
    let op: number;
    let key = new Uint8Array(0);
    let iv = new Uint8Array(0);
    let dstCap = this.size + 16;
    switch (this.deviceType) {
      case 'SEC':
        op = SEC_OPS[id % SEC_OPS.length];
        if (op === SQE_OP.AES_CBC_ENC) {
          key = this.pool.slice(off + 1, off + 1 + (id & 4 ? 32 : 16));
          iv = this.pool.slice(off + 40, off + 56);
        } else if (op === SQE_OP.AES_GCM_ENC) {
          key = this.pool.slice(off + 3, off + 35);
          iv = this.pool.slice(off + 7, off + 19);
        } else if (op === SQE_OP.HMAC_SHA256) key = this.pool.slice(off + 5, off + 37);
        break;
      case 'ZIP':
        op = SQE_OP.DEFLATE;
        dstCap = this.size + 64 + (this.size >>> 3);
        break;
      case 'HPRE': {
        op = SQE_OP.MODEXP;
        key = this.pool.slice(off + 8, off + 8 + 256);
        key[0] |= 0x80; // full-size odd modulus
        key[255] |= 1;
        iv = Uint8Array.of(1, 0, 1); // e = 65537
        dstCap = 256;
        break;
      }
    }
    const src = memory.allocN(data.length, 64);
    memory.writeN(src, data);
    const dst = memory.allocN(dstCap, 64);
    let keyAddr = 0;
    let ivAddr = 0;
    if (key.length) {
      keyAddr = memory.allocN(key.length, 16);
      memory.writeN(keyAddr, key);
    }
    if (iv.length) {
      ivAddr = memory.allocN(iv.length, 16);
      memory.writeN(ivAddr, iv);
    }
    return { id, op, data, key, iv, src, dst, keyAddr, ivAddr, dstCap, completions: 0, status: 0, outLen: 0 };
  }
}
