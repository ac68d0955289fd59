// The accelerator's data path: what one SQE computes. node:crypto / node:zlib do the work; the
// simulated part is where bytes come from and go to (guest memory) and how long it takes.
import { createCipheriv, createHash, createHmac } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { SQE_OP } from './sqe.ts';

export interface EngineInput {
  op: number;
  data: Uint8Array;
  key: Uint8Array;
  iv: Uint8Array;
}

/** Result bytes, or a string naming why the engine rejected the request. */
export function executeOp(r: EngineInput): Uint8Array | string {
  switch (r.op) {
    case SQE_OP.AES_CBC_ENC: {
      const alg = aesName('cbc', r.key.length);
      if (!alg || r.iv.length !== 16 || r.data.length % 16 !== 0) return 'bad-len';
      const c = createCipheriv(alg, r.key, r.iv);
      c.setAutoPadding(false);
      return concat(c.update(r.data), c.final());
    }
    case SQE_OP.AES_GCM_ENC: {
      const alg = aesName('gcm', r.key.length);
      if (!alg || r.iv.length !== 12) return 'bad-len';
      const c = createCipheriv(alg as 'aes-128-gcm', r.key, r.iv);
      const body = concat(c.update(r.data), c.final());
      return concat(body, c.getAuthTag()); // ciphertext || 16-byte tag
    }
    case SQE_OP.SHA256:
      return createHash('sha256').update(r.data).digest();
    case SQE_OP.HMAC_SHA256:
      if (r.key.length === 0) return 'bad-len';
      return createHmac('sha256', r.key).update(r.data).digest();
    case SQE_OP.DEFLATE:
      return deflateRawSync(r.data);
    case SQE_OP.INFLATE:
      try {
        return inflateRawSync(r.data);
      } catch {
        return 'engine-error';
      }
    case SQE_OP.MODEXP: {
      // data = base, key = modulus, iv = exponent, all big-endian; result padded to the modulus size
      if (r.key.length === 0) return 'bad-len';
      const m = toBig(r.key);
      if (m === 0n) return 'bad-len';
      return fromBig(modPow(toBig(r.data) % m, toBig(r.iv), m), r.key.length);
    }
    default:
      return 'bad-op';
  }
}

function aesName(mode: 'cbc' | 'gcm', keyLen: number): string | null {
  return keyLen === 16 ? `aes-128-${mode}` : keyLen === 24 ? `aes-192-${mode}` : keyLen === 32 ? `aes-256-${mode}` : null;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export function toBig(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt('0x' + Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex'));
}

export function fromBig(v: bigint, len: number): Uint8Array {
  const hex = v.toString(16).padStart(len * 2, '0');
  return new Uint8Array(Buffer.from(hex.slice(-len * 2), 'hex'));
}

export function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n % m;
  let x = b % m;
  while (e > 0n) {
    if (e & 1n) r = (r * x) % m;
    x = (x * x) % m;
    e >>= 1n;
  }
  return r;
}

/** Simulated processing time of one request, in microseconds. */
export function latencyUs(baseUs: number, perKiBUs: number, len: number): number {
  return baseUs + Math.ceil(len / 1024) * perKiBUs;
}
