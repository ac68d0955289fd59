// Where `npm run build:formats` puts the compiler's output (git-ignored), and what marks it current.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// MIGCOMPAT_FORMATS_GENERATED moves it (tests use it to exercise the in-memory fallback).
export const GENERATED_DIR = process.env.MIGCOMPAT_FORMATS_GENERATED || join(dirname(fileURLToPath(import.meta.url)), 'generated');
export const STAMP_FILE = 'stamp.json';

export interface BuildStamp {
  hash: string;
  compiler: string;
  formats: { name: string; hash: string; className: string; js: string; debugJs: string; dot: string[] }[];
}

export function readStamp(dir = GENERATED_DIR): BuildStamp | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, STAMP_FILE), 'utf8')) as BuildStamp;
  } catch {
    return undefined;
  }
}

/** hisi_acc_vf_data -> HisiAccVfData (the class name kaitai-struct-compiler gives meta.id) */
export const upperCamel = (id: string): string => id.split('_').map((w) => (w ? w[0].toUpperCase() + w.slice(1) : '')).join('');
/** qm_eqc_dw -> qmEqcDw (the property name in generated JavaScript) */
export const lowerCamel = (id: string): string => {
  const u = upperCamel(id);
  return u ? u[0].toLowerCase() + u.slice(1) : u;
};
