// 64-bit values never pass through a double: JSON carries them as "0x…" strings.
export function hex64(v: bigint): string {
  return '0x' + BigInt.asUintN(64, v).toString(16).padStart(16, '0');
}

export function hex32(v: number): string {
  return '0x' + (v >>> 0).toString(16).padStart(8, '0');
}

export function parseHexBig(s: string): bigint {
  if (!/^0x[0-9a-f]{1,16}$/i.test(s)) throw new Error(`not a 64-bit hex value: ${s}`);
  return BigInt(s);
}

/** JSON.stringify replacer: bigint -> "0x…", Uint8Array -> hex string. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return hex64(value);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  return value;
}

export function toJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, jsonReplacer, indent);
}
