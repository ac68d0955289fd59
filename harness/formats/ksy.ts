// Reading .ksy sources. YAML.parse would turn 0xAACCFEEDDECADEDE into a rounded double (and the
// compiler then rejects or mis-emits it), so integers are read as bigint and only safe ones become
// numbers; larger ones become "0x…" strings, which the compiler reads as exact expressions.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

export type Ksy = Record<string, any>;

/** Repository folder holding the .ksy descriptions. */
export const FORMATS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../formats');

function bigintSafe(v: unknown): unknown {
  if (typeof v === 'bigint') {
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : '0x' + v.toString(16);
  }
  if (Array.isArray(v)) return v.map(bigintSafe);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = bigintSafe(x);
    return out;
  }
  return v;
}

/** Parses .ksy text; throws an Error naming `file` on malformed YAML. */
export function parseKsy(text: string, file = '<ksy>'): Ksy {
  const doc = YAML.parseDocument(text, { intAsBigInt: true, uniqueKeys: true });
  if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0].message.split('\n')[0]}`);
  const v = bigintSafe(doc.toJS());
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${file}: not a .ksy mapping`);
  return v as Ksy;
}

/** A user type of a .ksy by name, searched through nested `types:` maps. */
export function findKsyType(ksy: Ksy, name: string): Ksy | undefined {
  const search = (types: Record<string, Ksy> | undefined): Ksy | undefined => {
    if (!types) return undefined;
    if (types[name]) return types[name];
    for (const t of Object.values(types)) {
      const hit = search(t.types);
      if (hit) return hit;
    }
    return undefined;
  };
  return search(ksy.types);
}

export interface KsySource {
  /** file name without .ksy, e.g. hisi_acc_vf_data */
  name: string;
  path: string;
  text: string;
}

export function listKsySources(dir = FORMATS_DIR): KsySource[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ksy'))
    .sort()
    .map((f) => ({ name: basename(f, '.ksy'), path: join(dir, f), text: readFileSync(join(dir, f), 'utf8') }));
}

/** Identifies a build: the sources plus everything that changes what is generated from them. */
export function sourcesHash(sources: KsySource[], compilerVersion: string): string {
  const h = createHash('sha256');
  h.update(`ksc ${compilerVersion}\nlayout 2\n`);
  for (const s of sources) h.update(`${s.name}\n${s.text.length}\n${s.text}`);
  return h.digest('hex');
}

/** Identifies one format's build output: its source and the compiler version. */
export function sourceHash(source: KsySource, compilerVersion: string): string {
  return createHash('sha256').update(`ksc ${compilerVersion}\n${source.name}\n${source.text}`).digest('hex');
}
