// What a destination revision must refuse, per docs/reference.md#match-check-order-and-errnos,
// docs/reference.md#load_data-steps and docs/reference.md#resume-fd-write-semantics: the independent statement of
// property 1's "must hold" (the fuzzer's oracle, deliberately not read from the revision models).
//   length   : only 40 (match-only) or 176 are ever loaded; anything else fails at write or load
//   acc_magic: R0–R2 accept V1 only; R3+ and Debian 6.1.192 accept V1 and V2
//   major_ver: R3+ / Debian: a V2 stream needs major_ver == 1 (minor ignored; V1 streams unchecked)
//   dev_id, qp_num, que_iso_cfg: must equal the destination's VF device id, VFT queue count, PF reg 0x30
import { ACC_DEV_MAGIC_V1, ACC_DEV_MAGIC_V2, ACC_DRV_MAJOR_VER, ACC_VF_DATA_SIZE, QM_MATCH_SIZE } from '../formats/accVfData.ts';
import { DEVICE_IDS, type DeviceConfig } from '../device/mmio.ts';
import { LENGTH_FIELD, readMagic } from './streamFields.ts';
import { findAcceptRule, type Traits } from '../drivers/traits.ts';

export interface AcceptanceRule {
  /** where the rule comes from: 'docs/reference.md#match-check-order-and-errnos (R0–R2)', 'docs/reference.md#match-check-order-and-errnos (R3+)', 'traits of <id>' */
  source: string;
  /** does the header's magic (and V2 major_ver) pass check #2 */
  accepts(magic: bigint, major: number): boolean;
  /** major_ver is compared for some magic */
  checksMajor: boolean;
}

const OLD: AcceptanceRule = { source: 'docs/reference.md#match-check-order-and-errnos (R0–R2)', accepts: (m) => m === ACC_DEV_MAGIC_V1, checksMajor: false };
const NEW: AcceptanceRule = {
  source: 'docs/reference.md#match-check-order-and-errnos (R3+, Debian 6.1.192)',
  accepts: (m, major) => m === ACC_DEV_MAGIC_V1 || (m === ACC_DEV_MAGIC_V2 && major === ACC_DRV_MAJOR_VER),
  checksMajor: true,
};

/**
 * The rule for a released revision, by its id (`hisi-acc/v6.16`, `hisi-acc/debian-6.1.192`,
 * `ktree:…`): R0–R2 (< v6.16) old, R3+ and the Debian hybrid new. For ids docs/reference.md does not
 * cover (hypothetical revisions) the revision's own declared accept traits are the spec.
 */
export function acceptanceRuleFor(revId: string, traits?: Traits): AcceptanceRule | null {
  if (/debian/i.test(revId)) return NEW;
  const m = /(?:^|\/|:)v(\d+)\.(\d+)$/.exec(revId);
  if (m) return Number(m[1]) * 100 + Number(m[2]) >= 616 ? NEW : OLD;
  if (!traits) return null;
  return {
    source: `declared traits of ${revId}`,
    accepts: (magic, major) => findAcceptRule(traits.accept, magic, major) !== null,
    checksMajor: traits.accept.some((r) => r.major !== undefined || r.versionByte !== undefined),
  };
}

/** The fields this rule checks (docs/reference.md#match-check-order-and-errnos), in report order. */
export function checkedFieldNames(rule: AcceptanceRule): string[] {
  return [LENGTH_FIELD, 'acc_magic', ...(rule.checksMajor ? ['major_ver'] : []), 'dev_id', 'qp_num', 'que_iso_cfg'];
}

const u32 = (s: Uint8Array, off: number) => (s[off] | (s[off + 1] << 8) | (s[off + 2] << 16) | (s[off + 3] << 24)) >>> 0;

/**
 * Why the destination must refuse `stream` (a reason naming the checked field), or null when no
 * checked field rules it out. `dest` is the destination device.
 */
export function mustRefuse(rule: AcceptanceRule, stream: Uint8Array, dest: DeviceConfig): string | null {
  const n = stream.length;
  if (n !== QM_MATCH_SIZE && n !== ACC_VF_DATA_SIZE) return `${LENGTH_FIELD}: ${n} is neither ${QM_MATCH_SIZE} nor ${ACC_VF_DATA_SIZE}`;
  const magic = readMagic(stream)!;
  const major = stream[28] | (stream[29] << 8);
  if (!rule.accepts(magic, major)) return `acc_magic/major_ver: 0x${magic.toString(16)} major ${major} not accepted`;
  if (u32(stream, 12) !== DEVICE_IDS[dest.type]) return `dev_id: 0x${u32(stream, 12).toString(16)} != 0x${DEVICE_IDS[dest.type].toString(16)}`;
  if (u32(stream, 8) !== dest.qpNum) return `qp_num: ${u32(stream, 8)} != ${dest.qpNum}`;
  if (u32(stream, 16) !== dest.queIsoCfg >>> 0) return `que_iso_cfg: 0x${u32(stream, 16).toString(16)} != 0x${(dest.queIsoCfg >>> 0).toString(16)}`;
  return null;
}

/** Property 3's rule: which checked device fields differ between a source and a destination device. */
export function differingCheckedFields(src: DeviceConfig, dst: DeviceConfig): string[] {
  const d: string[] = [];
  if (DEVICE_IDS[src.type] !== DEVICE_IDS[dst.type]) d.push('dev_id');
  if (src.qpNum !== dst.qpNum) d.push('qp_num');
  if (src.queIsoCfg >>> 0 !== dst.queIsoCfg >>> 0) d.push('que_iso_cfg');
  return d;
}
