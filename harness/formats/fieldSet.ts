// Streams from a field set: .ksy field ids as keys (what a YAML file lists), values checked against
// the leaf they fill. Used by `migcompat encode FIELDS.yaml` and by tests crafting odd streams.
// Defaults: length 176, acc_magic ACC_DEV_MAGIC_V2, and for a V2 header major_ver 1, minor_ver 0;
// every other omitted field is zero.
import { UsageError } from '../util/usage-error.ts';
import { loadYaml } from '../util/yamlSchema.ts';
import { ACC_DEV_MAGIC_V2, ACC_DRV_MAJOR_VER, ACC_DRV_MINOR_VER, ACC_VF_DATA_SIZE, QM_MATCH_SIZE, accVfPlans, layoutOfMagic, type AccVfLayout } from './accVfData.ts';
import { compileWriter, propGetter, type PlanLeaf, type Writer } from './plan.ts';

export type FieldInput = number | bigint | string | readonly (number | bigint | string)[];
/** keys: `length` and .ksy field ids (acc_magic, qp_num, major_ver, qm_eqc_dw, eqe_dma, …) */
export type FieldSet = Record<string, FieldInput | undefined>;

const writers = new Map<AccVfLayout, Writer>();
function writerFor(layout: AccVfLayout): Writer {
  let w = writers.get(layout);
  if (!w) {
    w = compileWriter(accVfPlans[layout].leaves, (l) => propGetter(l.name, l.index));
    writers.set(layout, w);
  }
  return w;
}

function toBig(v: unknown, what: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^(0x[0-9a-f]+|[0-9]+)$/i.test(v.trim())) return BigInt(v.trim());
  throw new UsageError(`${what}: expected an integer or a "0x…" string, got ${JSON.stringify(typeof v === 'bigint' ? String(v) : v)}`);
}

function checked(v: unknown, leaf: PlanLeaf, what: string): number | bigint {
  const b = toBig(v, what);
  const bits = BigInt(leaf.size * 8);
  if (b < 0n || b >> bits !== 0n) throw new UsageError(`${what}: ${v} does not fit in ${leaf.size} byte(s)`);
  return leaf.kind === 'u64' ? b : Number(b);
}

/** Which fields a layout has, as `name` -> element count (1 for scalars). */
export function fieldNames(layout: AccVfLayout): Map<string, { count: number; leaf: PlanLeaf }> {
  const m = new Map<string, { count: number; leaf: PlanLeaf }>();
  for (const l of accVfPlans[layout].leaves) {
    const e = m.get(l.name);
    if (e) e.count++;
    else m.set(l.name, { count: 1, leaf: l });
  }
  return m;
}

/** Validates a field set and resolves defaults into the values the writer takes. */
export function resolveFieldSet(fields: FieldSet): { layout: AccVfLayout; length: 40 | 176; values: Record<string, number | bigint | (number | bigint)[]> } {
  const length = fields.length === undefined ? ACC_VF_DATA_SIZE : Number(toBig(fields.length, 'length'));
  if (length !== QM_MATCH_SIZE && length !== ACC_VF_DATA_SIZE) throw new UsageError(`length: must be ${QM_MATCH_SIZE} or ${ACC_VF_DATA_SIZE}, got ${fields.length}`);
  const magic = fields.acc_magic === undefined ? ACC_DEV_MAGIC_V2 : toBig(fields.acc_magic, 'acc_magic');
  const layout = layoutOfMagic(BigInt.asUintN(64, magic));
  const names = fieldNames(layout);
  const values: Record<string, number | bigint | (number | bigint)[]> = { acc_magic: ACC_DEV_MAGIC_V2 };
  if (layout === 'v2') {
    values.major_ver = ACC_DRV_MAJOR_VER;
    values.minor_ver = ACC_DRV_MINOR_VER;
  }
  for (const [k, v] of Object.entries(fields)) {
    if (k === 'length' || v === undefined) continue;
    const f = names.get(k);
    if (!f) {
      const hint = layout === 'v2' ? '' : k === 'major_ver' || k === 'minor_ver' ? ` (only a V2 header has ${k}; set acc_magic to 0xaaccfeeddecadede)` : '';
      throw new UsageError(`unknown field '${k}' for a ${layout} header${hint}`);
    }
    if (f.count > 1 || f.leaf.index !== undefined) {
      if (!Array.isArray(v) || v.length !== f.count) throw new UsageError(`${k}: expected a list of ${f.count} values`);
      values[k] = v.map((x, i) => checked(x, f.leaf, `${k}[${i}]`) as number | bigint);
    } else {
      if (Array.isArray(v)) throw new UsageError(`${k}: expected one value, got a list`);
      values[k] = checked(v, f.leaf, k);
    }
  }
  return { layout, length, values };
}

/** Encodes a field set (see the module comment for defaults). Bad fields throw UsageError. */
export function encodeFieldSet(fields: FieldSet): Uint8Array {
  const { layout, length, values } = resolveFieldSet(fields);
  const out = new Uint8Array(ACC_VF_DATA_SIZE);
  writerFor(layout)(new DataView(out.buffer), values);
  return length === ACC_VF_DATA_SIZE ? out : out.slice(0, length);
}

/**
 * Parses a FIELDS.yaml text: the shape is specs/schemas/stream-fields.schema.json's; integers are
 * read exactly (64-bit values beyond a double's precision arrive as "0x…" strings).
 */
export function parseFieldSetYaml(text: string, file = 'fields'): FieldSet {
  return loadYaml('stream-fields', text, file) as FieldSet;
}
