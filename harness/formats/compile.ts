// kaitai-struct-compiler through its Node API (0.11: the module is the compiler; there is no CLI).
// The compiler is a 6.5 MB Scala.js bundle, so it is required lazily, only when something compiles.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FORMATS_DIR, listKsySources, parseKsy, type Ksy, type KsySource } from './ksy.ts';

const require = createRequire(import.meta.url);

interface Ksc {
  version: string;
  compile(lang: string, ksy: Ksy, importer: unknown, debug: boolean): Promise<Record<string, string>>;
}

let ksc: Ksc | undefined;
export function compiler(): Ksc {
  ksc ??= require('kaitai-struct-compiler') as Ksc;
  return ksc;
}

/** The compiler version without loading the compiler (for build stamps). */
export function compilerVersion(): string {
  return (require('kaitai-struct-compiler/package.json') as { version: string }).version;
}

export interface CompiledFormat {
  name: string;
  ksy: Ksy;
  /** generated file name -> source, for 'javascript' normal and debug, and 'graphviz' */
  js: Record<string, string>;
  debugJs: Record<string, string>;
  dot: Record<string, string>;
}

function problem(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/\s+/g, ' ').trim();
}

/** Compiles one .ksy; a failure throws an Error whose message names the file and the problem. */
export async function compileFormat(src: KsySource, what: { debug?: boolean; dot?: boolean } = {}): Promise<CompiledFormat> {
  const file = `formats/${src.name}.ksy`;
  const ksy = parseKsy(src.text, file);
  const c = compiler();
  // meta.imports resolve to other files in formats/ (relative names only)
  const importer = {
    importYaml: (name: string) => {
      try {
        return Promise.resolve(parseKsy(readFileSync(join(FORMATS_DIR, `${name}.ksy`), 'utf8'), `formats/${name}.ksy`));
      } catch (e) {
        return Promise.reject(new Error(`import ${name}: ${(e as Error).message}`));
      }
    },
  };
  const run = async (lang: string, debug: boolean) => {
    try {
      return await c.compile(lang, ksy, importer, debug);
    } catch (e) {
      throw new Error(`${file}: ${problem(e)}`);
    }
  };
  return {
    name: src.name,
    ksy,
    js: await run('javascript', false),
    debugJs: what.debug === false ? {} : await run('javascript', true),
    dot: what.dot ? await run('graphviz', false) : {},
  };
}

export async function compileAll(sources = listKsySources(), what: { debug?: boolean; dot?: boolean } = {}): Promise<CompiledFormat[]> {
  const out: CompiledFormat[] = [];
  for (const s of sources) out.push(await compileFormat(s, what));
  return out;
}
