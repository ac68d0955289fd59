// Every YAML file the product reads (matrices, revision profiles, lab inventories, device
// configurations, findings registries, stream field sets, the conformance contract and its known
// violations) is described by a JSON Schema in
// specs/schemas/ and validated here with ajv. Editors use the same schemas through the
// `# yaml-language-server: $schema=…` line each file starts with. A violation is one UsageError line
// naming the file, the key and what was expected:
//   my.yaml: traits.fdOffset: expected one of buffer-start, f-pos, got "x"
// YAML is parsed exactly: integers are read as bigint, safe ones become numbers and larger ones
// (64-bit magics, DMA addresses) become "0x…" strings, so no value ever passes through a double and
// a schema sees what the user wrote. Checks a schema cannot express (unknown revision ids, extends
// cycles, cross-references, duplicates) stay with the loaders.
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import YAML from 'yaml';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { UsageError } from './usage-error.ts';

/** specs/schemas/<kind>.schema.json */
export const SCHEMAS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../specs/schemas');

export const SCHEMA_KINDS = [
  'matrix', 'revision', 'lab-inventory', 'device-config', 'fuzz-findings', 'ktree-findings', 'stream-fields', 'conformance-contract', 'conformance-known',
] as const;
export type SchemaKind = (typeof SCHEMA_KINDS)[number];

export const schemaFile = (kind: SchemaKind): string => join(SCHEMAS_DIR, `${kind}.schema.json`);

/**
 * The first line of a YAML file the product writes: editors (yaml-language-server) find the schema
 * by this path, relative to the file.
 */
export function schemaLine(kind: SchemaKind, forFile: string): string {
  return `# yaml-language-server: $schema=${relative(dirname(resolve(forFile)), schemaFile(kind)).split(sep).join('/')}`;
}

// ajv is CommonJS (module.exports = Ajv); createRequire gives the constructor under every loader
export type AjvLike = {
  addKeyword(def: { keyword: string; schemaType?: string | string[] }): unknown;
  addSchema(schema: object, key: string): unknown;
  getSchema(key: string): ValidateFunction | undefined;
};
export type AjvCtor = new (opts: Record<string, unknown>) => AjvLike;

/** Annotations editors understand (VS Code / yaml-language-server) that ajv must accept in strict mode. */
export const ANNOTATIONS = ['errorMessage', 'patternErrorMessage', 'markdownDescription', 'enumDescriptions', 'defaultSnippets'];

let ajv: AjvLike | null = null;
function validator(kind: SchemaKind): ValidateFunction {
  if (!ajv) {
    const Ajv = createRequire(import.meta.url)('ajv') as AjvCtor;
    // strict: unknown keywords and formats are errors. Subschemas of if/then/allOf refine the parent's
    // keys and types, so they need not restate `type` (strictTypes) or declare what they require.
    // allErrors: the one line reported is chosen among all of them (formatSchemaError).
    // validateSchema: the schemas are checked against their meta-schema by the tests, not on every
    // start (that check costs more than compiling them)
    ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false, strictTypes: false, validateSchema: false });
    for (const keyword of ANNOTATIONS) ajv.addKeyword({ keyword });
    // every schema is registered under its file name, so `$ref: device-config.schema.json` resolves
    // here exactly as it does for an editor reading the files side by side
    for (const k of SCHEMA_KINDS) ajv.addSchema(JSON.parse(readFileSync(schemaFile(k), 'utf8')) as object, `${k}.schema.json`);
  }
  const v = ajv.getSchema(`${kind}.schema.json`);
  if (!v) throw new Error(`no schema ${kind}`);
  return v;
}

/** Safe integers → number; larger ones → "0x…" (non-negative) or decimal text, never a double. */
function exact(v: unknown): unknown {
  if (typeof v === 'bigint') {
    if (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
    return v >= 0n ? `0x${v.toString(16)}` : v.toString();
  }
  if (Array.isArray(v)) return v.map(exact);
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = exact(x);
    return o;
  }
  return v;
}

/** Parse YAML text exactly (see the module comment). Malformed YAML or a repeated key is one UsageError. */
export function parseYamlExact(text: string, file: string): unknown {
  const doc = YAML.parseDocument(text, { intAsBigInt: true, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const line = text.slice(0, e.pos[0]).split('\n').length;
    throw new UsageError(`${file}: invalid YAML at line ${line}: ${e.message.split('\n')[0]}`);
  }
  return exact(doc.toJS());
}

/** Validate a parsed document against a kind's schema; the first violation is one UsageError. */
export function validateDoc(kind: SchemaKind, doc: unknown, file: string): void {
  const v = validator(kind);
  if (v(doc)) return;
  throw new UsageError(`${file}: ${formatSchemaError(v.errors ?? [], doc)}`);
}

/** Parse and validate YAML text. */
export function loadYaml(kind: SchemaKind, text: string, file: string): unknown {
  const doc = parseYamlExact(text, file);
  validateDoc(kind, doc, file);
  return doc;
}

/** Read, parse and validate a YAML file; an unreadable file is one UsageError. */
export function readYaml(kind: SchemaKind, path: string, file = path): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return loadYaml(kind, text, file);
}

// ---- one line from ajv's errors ------------------------------------------------------------------

type Schema = Record<string, unknown>;

/** '/hosts/0/ssh/port' → 'hosts[0].ssh.port' (arrays by index, mappings by key). */
function keyPath(pointer: string, doc: unknown): string {
  let out = '';
  let at: unknown = doc;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(at)) {
      out += `[${seg}]`;
      at = at[Number(seg)];
    } else {
      out += out ? `.${seg}` : seg;
      at = at && typeof at === 'object' ? (at as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}

const join2 = (path: string, key: string) => (path ? `${path}.${key}` : key);

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v) ?? String(v);
  if (s.length <= 60) return s;
  return Array.isArray(v) ? `a list of ${v.length}` : v && typeof v === 'object' ? 'a mapping' : `${s.slice(0, 57)}…`;
}

const TYPE_TEXT: Record<string, string> = {
  string: 'a string', integer: 'an integer', number: 'a number', boolean: 'true or false', object: 'a mapping', array: 'a list', null: 'nothing',
};

function expected(e: ErrorObject): string {
  const p = (e.parentSchema ?? {}) as Schema;
  switch (e.keyword) {
    case 'type': {
      const t = ([] as string[]).concat(e.params.type as string | string[]);
      return `expected ${t.map((x) => TYPE_TEXT[x] ?? x).join(' or ')}`;
    }
    case 'enum':
      return `expected one of ${(e.params.allowedValues as unknown[]).map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(', ')}`;
    case 'const':
      return `expected ${JSON.stringify(e.params.allowedValue)}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      if (typeof p.minimum === 'number' && typeof p.maximum === 'number') return `expected ${p.type === 'integer' ? 'an integer' : 'a number'} ${p.minimum}..${p.maximum}`;
      return `expected ${p.type === 'integer' ? 'an integer' : 'a number'} ${e.params.comparison} ${e.params.limit}`;
    case 'minLength':
      return e.params.limit === 1 ? 'expected a non-empty string' : `expected at least ${e.params.limit} characters`;
    case 'maxLength':
      return `expected at most ${e.params.limit} characters`;
    case 'minItems':
    case 'maxItems':
      if (p.minItems !== undefined && p.minItems === p.maxItems) return `expected a list of ${p.minItems} values`;
      if (e.keyword === 'minItems') return e.params.limit === 1 ? 'expected a non-empty list' : `expected at least ${e.params.limit} items`;
      return `expected at most ${e.params.limit} items`;
    case 'pattern':
      return `expected a string matching ${e.params.pattern}`;
    case 'uniqueItems':
      return `expected no repeated items (items ${e.params.j} and ${e.params.i} are equal)`;
    default:
      return e.message ?? e.keyword;
  }
}

/** One error as 'key: what was expected, got …'. */
function line(e: ErrorObject, doc: unknown): string {
  const p = (e.parentSchema ?? {}) as Schema;
  const path = keyPath(e.instancePath, doc);
  if (e.keyword === 'required') {
    return `${join2(path, String(e.params.missingProperty))}: ${typeof p.errorMessage === 'string' ? p.errorMessage : 'missing'}`;
  }
  if (e.keyword === 'additionalProperties') {
    const known = Object.keys((p.properties ?? {}) as Schema);
    return `${join2(path, String(e.params.additionalProperty))}: unknown key${known.length ? ` (expected one of ${known.join(', ')})` : ''}`;
  }
  const text = (e.keyword === 'pattern' && typeof p.patternErrorMessage === 'string' ? p.patternErrorMessage : undefined)
    ?? (typeof p.errorMessage === 'string' ? p.errorMessage : undefined) ?? expected(e);
  return `${path || '(top level)'}: ${text}, got ${show(e.data)}`;
}

const isCombo = (e: ErrorObject) => e.keyword === 'anyOf' || e.keyword === 'oneOf';
const hasMessage = (e: ErrorObject) => typeof ((e.parentSchema ?? {}) as Schema).errorMessage === 'string';
/** how deep in the document an error is; a missing or unknown key counts one level below its mapping */
const depth = (e: ErrorObject) =>
  e.instancePath.split('/').length + (['required', 'additionalProperties', 'propertyNames'].includes(e.keyword) ? 1 : 0);

/** among equally deep errors: what says most about the value the user wrote comes first */
function rank(e: ErrorObject): number {
  if (isCombo(e)) return hasMessage(e) ? 0 : 6;
  if (e.keyword === 'type') return 2;
  if (e.keyword === 'propertyNames') return 3;
  if (e.keyword === 'additionalProperties') return 4;
  if (e.keyword === 'required') return 5;
  return 1;
}

/**
 * ajv (allErrors) lists every violation, an anyOf's branch errors before the anyOf itself (also
 * across $ref, where schema paths do not nest) and an if/then's inner errors before the `if`. The
 * line reported is the deepest error in the document (the user was clearly writing that part);
 * among equally deep ones an anyOf that says what it expects, then a wrong value, then a wrong type,
 * then an unknown or missing key.
 */
export function formatSchemaError(errors: readonly ErrorObject[], doc: unknown): string {
  const es = errors.filter((e) => e.keyword !== 'if');
  if (!es.length) return errors[0] ? line(errors[0], doc) : 'invalid';
  const max = Math.max(...es.map(depth));
  const e = es.filter((x) => depth(x) === max).sort((a, b) => rank(a) - rank(b))[0];
  if (e.keyword === 'propertyNames') {
    const p = (e.parentSchema ?? {}) as Schema;
    const name = String(e.params.propertyName);
    const pn = (p.propertyNames ?? {}) as Schema;
    const why = pn.patternErrorMessage ?? pn.errorMessage ?? (typeof pn.pattern === 'string' ? `expected a key matching ${pn.pattern}` : 'not an allowed key');
    return `${join2(keyPath(e.instancePath, doc), name)}: ${String(why)}, got ${show(name)}`;
  }
  if (isCombo(e) && !hasMessage(e)) return `${keyPath(e.instancePath, doc) || '(top level)'}: expected one of the allowed forms, got ${show(e.data)}`;
  return line(e, doc);
}
