// Load a revision profile from YAML. The shape (keys, types, trait values) is the schema's
// (specs/schemas/revision.schema.json, harness/util/yamlSchema.ts): a violation is one UsageError
// naming the file and the key. Here the validated document becomes typed traits: magics become exact
// bigints, a single major_ver a list; the one check a schema cannot state (a versionByte range with
// min <= max) stays. `extends: ID` inherits another profile's traits (resolved by the registry).
import { loadYaml, readYaml } from '../util/yamlSchema.ts';
import { UsageError } from '../util/usage-error.ts';
import { NAMED_MAGICS, type AcceptRule, type Traits, type WriteRule } from './traits.ts';

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

type Magic = string | number;
interface ProfileDoc {
  id: string;
  title: string;
  kernel: string;
  extends?: string;
  traits?: Record<string, unknown> & {
    write?: { magic: Magic; major?: number; minor?: number };
    accept?: { magic: Magic; major?: number | number[]; versionByte?: { min: number; max: number }; recomputeDma?: boolean }[];
  };
}

const magicOf = (m: Magic): bigint => (typeof m === 'string' && m in NAMED_MAGICS ? NAMED_MAGICS[m] : BigInt(m));

function profileOf(doc: ProfileDoc, file: string): RevisionProfile {
  const { write, accept, ...rest } = doc.traits ?? {};
  const traits = { ...rest } as Partial<Traits>;
  if (write) traits.write = { magic: magicOf(write.magic), major: write.major, minor: write.minor } satisfies WriteRule;
  if (accept) {
    traits.accept = accept.map((r, i): AcceptRule => {
      const rule: AcceptRule = { magic: magicOf(r.magic) };
      if (r.major !== undefined) rule.major = Array.isArray(r.major) ? r.major : [r.major];
      if (r.versionByte) {
        if (r.versionByte.min > r.versionByte.max) throw new UsageError(`${file}: traits.accept[${i}].versionByte: expected min <= max, got ${r.versionByte.min} > ${r.versionByte.max}`);
        rule.versionByte = { ...r.versionByte };
      }
      if (r.recomputeDma !== undefined) rule.recomputeDma = r.recomputeDma;
      return rule;
    });
  }
  return { id: doc.id, title: doc.title, kernel: doc.kernel, extends: doc.extends, traits, file };
}

export function parseRevisionYaml(text: string, file: string): RevisionProfile {
  return profileOf(loadYaml('revision', text, file) as ProfileDoc, file);
}

export function readRevisionYaml(path: string): RevisionProfile {
  return profileOf(readYaml('revision', path) as ProfileDoc, path);
}
