// What a revision writes and accepts at the head of a stream (the profile traits `write` and
// `accept`, docs/revisions.md), and the acceptance test a destination applies. They live with the
// stream formats so that lint can reason over any set of revision profiles (built-in, a proposal
// passed as YAML, or registered at run time) without knowing the drivers.
import { ACC_DEV_MAGIC_V1, ACC_DEV_MAGIC_V2 } from './accVfData.ts';
import { hex64 } from '../util/hex.ts';

/** What the source writes at bytes 0..39 (docs/reference.md#magics-and-version-fields). */
export interface WriteRule {
  magic: bigint;
  /** V2 header: u16 major_ver @28, u16 minor_ver @30 (docs/reference.md#stream-layout) */
  major?: number;
  minor?: number;
}

/** One magic the destination accepts, and what it implies (docs/reference.md#match-check-order-and-errnos, docs/reference.md#the-2024-version-byte-proposal). */
export interface AcceptRule {
  magic: bigint;
  /** accepted major_ver values (V2 style); absent = not compared */
  major?: number[];
  /** the magic's last byte is a version number (2024 proposal): accepted range, compared on bits 63:8 */
  versionByte?: { min: number; max: number };
  /** V1 streams: eqe_dma/aeqe_dma recomputed in place from qm_eqc_dw[2]:[1] */
  recomputeDma?: boolean;
}

/** The traits of a revision that decide what its source writes and what its destination takes. */
export interface StreamTraits {
  write: WriteRule;
  accept: readonly AcceptRule[];
  /** eqe_dma/aeqe_dma composition on save: buggy = dw[1]<<32|dw[0], fixed = dw[2]<<32|dw[1] */
  xqcCompose: 'buggy' | 'fixed';
  /** the save fd hands out the 40-byte header (vf_qm_state QM_READY) first, as PRE_COPY data */
  preCopy: boolean;
  /** a NULL eqe/aeqe/sqc/cqc address makes the load a no-op */
  nullDmaGuard: boolean;
}

/** A revision as the stream-level tools see it (a harness/drivers Revision with traits satisfies it). */
export interface StreamProfile {
  id: string;
  traits: StreamTraits;
}

/** Named magics a YAML file may use instead of a quoted 64-bit hex string. */
export const NAMED_MAGICS: Record<string, bigint> = { V1: ACC_DEV_MAGIC_V1, V2: ACC_DEV_MAGIC_V2 };

/** 'V1', 'V2' or the magic in hex. */
export function magicName(magic: bigint): string {
  for (const [name, m] of Object.entries(NAMED_MAGICS)) if (m === magic) return name;
  return hex64(magic);
}

/** Does the rule concern this magic at all (its version fields aside)? */
export function ruleNamesMagic(r: AcceptRule, magic: bigint): boolean {
  return r.versionByte ? magic >> 8n === r.magic >> 8n : magic === r.magic;
}

/** Does a received magic (and header) satisfy a rule? Returns the rule or null. */
export function findAcceptRule(accept: readonly AcceptRule[], magic: bigint, major: number): AcceptRule | null {
  for (const r of accept) {
    if (!ruleNamesMagic(r, magic)) continue;
    if (r.versionByte) {
      const v = Number(magic & 0xffn);
      return v < r.versionByte.min || v > r.versionByte.max ? null : r;
    }
    if (r.major && !r.major.includes(major)) return null;
    return r;
  }
  return null;
}
