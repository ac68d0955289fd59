// Load a revision profile from YAML with validation: an unknown key, a missing trait or a wrong
// type is one UsageError naming the file and the key. `extends: ID` inherits another profile's
// traits so a proposal only states what it changes.
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { UsageError } from '../util/usage-error.ts';
import { NAMED_MAGICS, TRAIT_NAMES, TRAIT_SCHEMA, type AcceptRule, type Traits, type WriteRule } from './traits.ts';

/** A profile's YAML text as a repro bundle keeps it (external revisions: the source path, no text). */
export interface ProfileSnapshot {
  path: string | null;
  text: string;
}

export interface RevisionProfile {
  id: string;
  title: string;
  kernel: string;
  extends?: string;
  traits: Partial<Traits>;
  file: string;
}

const TOP_KEYS = ['id', 'title', 'kernel', 'extends', 'traits'];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseRevisionYaml(text: string, file: string): RevisionProfile {
  let doc: unknown;
  try {
    doc = YAML.parse(text, { intAsBigInt: true }); // 64-bit magics stay exact
  } catch (e) {
    throw new UsageError(`${file}: invalid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const err = (key: string, msg: string) => new UsageError(`${file}: ${key}: ${msg}`);
  if (!isObj(doc)) throw err('(top)', 'expected a mapping');
  for (const k of Object.keys(doc)) if (!TOP_KEYS.includes(k)) throw err(k, `unknown key (expected one of ${TOP_KEYS.join(', ')})`);
  const str = (k: string, required: boolean): string | undefined => {
    const v = doc[k];
    if (v === undefined || v === null) {
      if (required) throw err(k, 'missing');
      return undefined;
    }
    if (typeof v !== 'string' || v.trim() === '') throw err(k, 'expected a non-empty string');
    return v;
  };
  const id = str('id', true)!;
  if (!/^[a-z0-9][a-z0-9._:/-]*$/i.test(id)) throw err('id', `'${id}' is not a valid revision id`);
  const ext = str('extends', false);
  const rawTraits = doc.traits ?? {};
  if (!isObj(rawTraits)) throw err('traits', 'expected a mapping');
  const traits: Partial<Traits> = {};
  for (const [k, v] of Object.entries(rawTraits)) {
    if (!(k in TRAIT_SCHEMA)) throw err(`traits.${k}`, `unknown trait (known: ${TRAIT_NAMES.join(', ')})`);
    (traits as Obj)[k] = parseTrait(k as keyof Traits, v, (m) => err(`traits.${k}`, m));
  }
  if (!ext) {
    for (const k of TRAIT_NAMES) if (!(k in traits)) throw err(`traits.${k}`, 'missing (or use `extends:` to inherit it)');
  }
  return { id, title: str('title', true)!, kernel: str('kernel', true)!, extends: ext, traits, file };
}

export function readRevisionYaml(path: string): RevisionProfile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`${path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseRevisionYaml(text, path);
}

type Err = (msg: string) => UsageError;

function parseTrait(k: keyof Traits, v: unknown, err: Err): unknown {
  const kind = TRAIT_SCHEMA[k];
  switch (kind.t) {
    case 'bool':
      if (typeof v !== 'boolean') throw err(`expected true or false, got ${show(v)}`);
      return v;
    case 'enum':
      if (typeof v !== 'string' || !kind.values.includes(v)) throw err(`expected one of ${kind.values.join(', ')}, got ${show(v)}`);
      return v;
    case 'write':
      return parseWrite(v, err);
    case 'accept':
      if (!Array.isArray(v) || v.length === 0) throw err('expected a non-empty list of accept rules');
      return v.map((r, i) => parseAccept(r, (m) => err(`[${i}]: ${m}`)));
  }
}

function parseMagic(v: unknown, err: Err): bigint {
  if (typeof v === 'string' && v in NAMED_MAGICS) return NAMED_MAGICS[v];
  if (typeof v === 'bigint' && v >= 0n && v < 1n << 64n) return v;
  if (typeof v === 'string' && /^0x[0-9a-f]{1,16}$/i.test(v)) return BigInt(v);
  throw err(`magic: expected V1, V2 or a 64-bit hex value, got ${show(v)}`);
}

function u16(o: Obj, key: string, err: Err): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xffff) throw err(`${key}: expected an integer 0..65535, got ${show(v)}`);
  return n;
}

function keysOnly(o: Obj, allowed: string[], err: Err): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw err(`${k}: unknown key (expected ${allowed.join(', ')})`);
}

function parseWrite(v: unknown, err: Err): WriteRule {
  if (!isObj(v)) throw err('expected a mapping { magic, major?, minor? }');
  keysOnly(v, ['magic', 'major', 'minor'], err);
  return { magic: parseMagic(v.magic, err), major: u16(v, 'major', err), minor: u16(v, 'minor', err) };
}

function parseAccept(v: unknown, err: Err): AcceptRule {
  if (!isObj(v)) throw err('expected a mapping { magic, major?, versionByte?, recomputeDma? }');
  keysOnly(v, ['magic', 'major', 'versionByte', 'recomputeDma'], err);
  const rule: AcceptRule = { magic: parseMagic(v.magic, err) };
  if (v.major !== undefined) {
    const list = Array.isArray(v.major) ? v.major : [v.major];
    rule.major = list.map((m, i) => u16({ [`major[${i}]`]: m }, `major[${i}]`, err)!);
  }
  if (v.versionByte !== undefined) {
    const vb = v.versionByte;
    if (!isObj(vb)) throw err('versionByte: expected { min, max }');
    keysOnly(vb, ['min', 'max'], (m) => err(`versionByte.${m}`));
    const min = u16(vb, 'min', (m) => err(`versionByte.${m}`));
    const max = u16(vb, 'max', (m) => err(`versionByte.${m}`));
    if (min === undefined || max === undefined || min > max || max > 0xff) throw err('versionByte: expected 0 <= min <= max <= 255');
    rule.versionByte = { min, max };
  }
  if (v.recomputeDma !== undefined) {
    if (typeof v.recomputeDma !== 'boolean') throw err(`recomputeDma: expected true or false, got ${show(v.recomputeDma)}`);
    rule.recomputeDma = v.recomputeDma;
  }
  return rule;
}

function show(v: unknown): string {
  if (typeof v === 'bigint') return v.toString();
  return JSON.stringify(v) ?? String(v);
}
