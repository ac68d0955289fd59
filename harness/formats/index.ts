// Public API of the stream formats: what the engine, fuzzing, the matrix and the CLI import.
import { decodeAccVfData, type DecodedAccVf } from './accVfData.ts';
import { accVfFieldMap, type AccVfFieldMap } from './accVfMap.ts';

export * from './accVfData.ts';
export { accVfFieldMap, type AccVfSpan, type AccVfFieldMap } from './accVfMap.ts';
export { fieldAt, spanHex, fieldMapOf, type FieldMap, type FieldSpan, type FieldValue } from './fieldMap.ts';
export { diff, type FieldChange, type StreamDiff } from './diff.ts';
export { lint, lintDecoded, type Acceptance, type Finding, type LintReport, type Provenance, type Severity } from './lint.ts';
export { findAcceptRule, magicName, NAMED_MAGICS, type AcceptRule, type StreamProfile, type StreamTraits, type WriteRule } from './streamRules.ts';
export { encodeFieldSet, parseFieldSetYaml, resolveFieldSet, fieldNames, type FieldSet, type FieldInput } from './fieldSet.ts';
export { decodeVfioDeviceState, vfioDeviceStateFieldMap, VFIO_MIG_FLAG, QEMU_VFIO_FORMAT, type DecodedVfioState, type VfioRecord } from './qemuDeviceState.ts';
export { buildPlan, type Plan, type PlanLeaf } from './plan.ts';
export { parsersOrigin } from './parsers.ts';

export interface DecodedStream extends DecodedAccVf {
  /** byte -> field map from the compiler's debug build (with `fieldMap: true`) */
  fieldMap?: AccVfFieldMap;
}

/** Decodes a hisi_acc stream; `fieldMap: true` adds the byte -> field map (slower). Never throws on bytes. */
export function decode(bytes: Uint8Array, opts: { fieldMap?: boolean } = {}): DecodedStream {
  const d: DecodedStream = decodeAccVfData(bytes);
  if (opts.fieldMap) d.fieldMap = accVfFieldMap(bytes, d);
  return d;
}

export { encodeFieldSet as encode } from './fieldSet.ts';
export { decodeMtty, lintMtty, isMttyStream, mttyStreamSize, MTTY_MAGIC, MTTY_FORMAT, MTTY_HEADER_SIZE, MTTY_PORT_SIZE, MTTY_FIFO_SIZE, type DecodedMtty, type MttyPort, type MttyHeader, type MttyLintReport } from './mtty.ts';
