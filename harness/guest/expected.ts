// Host-side reference results, computed with node:crypto / node:zlib independently of the device's
// engine code, so a check compares what reached guest memory with what the request should give.
import { createCipheriv, createHash, createHmac } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { SQE_OP } from '../device/sqe.ts';
import type { GuestRequest } from './requests.ts';

/** Whether `out` is the right result for `r`; deflate output is checked by inflating it back. */
export function resultMatches(r: GuestRequest, out: Uint8Array): boolean {
  if (r.op === SQE_OP.DEFLATE) {
    try {
      return Buffer.from(inflateRawSync(out)).equals(Buffer.from(r.data));
    } catch {
      return false;
    }
  }
  return Buffer.from(out).equals(expectedOutput(r));
}

export function expectedOutput(r: GuestRequest): Buffer {
  switch (r.op) {
    case SQE_OP.AES_CBC_ENC: {
      const c = createCipheriv(`aes-${r.key.length * 8}-cbc`, r.key, r.iv);
      c.setAutoPadding(false);
      return Buffer.concat([c.update(r.data), c.final()]);
    }
    case SQE_OP.AES_GCM_ENC: {
      const c = createCipheriv(`aes-${r.key.length * 8}-gcm` as 'aes-128-gcm', r.key, r.iv);
      const body = Buffer.concat([c.update(r.data), c.final()]);
      return Buffer.concat([body, c.getAuthTag()]);
    }
    case SQE_OP.SHA256:
      return createHash('sha256').update(r.data).digest();
    case SQE_OP.HMAC_SHA256:
      return createHmac('sha256', r.key).update(r.data).digest();
    case SQE_OP.INFLATE:
      return inflateRawSync(r.data);
    case SQE_OP.MODEXP: {
      const big = (b: Uint8Array) => BigInt('0x' + (Buffer.from(b).toString('hex') || '0'));
      const m = big(r.key);
      let e = big(r.iv);
      let x = big(r.data) % m;
      let acc = 1n % m;
      while (e > 0n) {
        if (e & 1n) acc = (acc * x) % m;
        x = (x * x) % m;
        e >>= 1n;
      }
      return Buffer.from(acc.toString(16).padStart(r.key.length * 2, '0'), 'hex');
    }
    default:
      throw new Error(`no reference for op ${r.op}`);
  }
}
