// Loads the compiled parsers on first use: from generated/ when its stamp matches the current .ksy
// sources, otherwise compiled in memory (a child process runs the asynchronous compiler, about 1-2 s),
// so a library user never hits a missing or stale build step and every decode stays synchronous.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compilerVersion } from './compile.ts';
import { GENERATED_DIR, readStamp } from './generatedDir.ts';
import { listKsySources, parseKsy, sourcesHash, type Ksy } from './ksy.ts';

const require = createRequire(import.meta.url);

/** A generated Kaitai class: `new P(new KaitaiStream(bytes))` parses (normal build). */
export type KaitaiClass = (new (io: unknown, parent?: unknown, root?: unknown) => any) & Record<string, any>;

export interface LoadedFormat {
  name: string;
  className: string;
  ksy: Ksy;
  Parser: KaitaiClass;
  /** debug build: construct, then call `_read()`; every object carries `_debug` offsets */
  DebugParser: KaitaiClass;
}

export type KStream = { pos: number; size: number; byteOffset: number; isEof(): boolean } & Record<string, any>;
/** The runtime's typings do not fit nodenext; its CommonJS export is the stream class itself. */
export const KaitaiStream = require('kaitai-struct/KaitaiStream') as new (buf: ArrayBuffer | Uint8Array, off?: number) => KStream;

/** Evaluates generated CommonJS from memory; `./Name` requires (imported types) come from `files`. */
function evalModules(files: Record<string, string>, className: string): KaitaiClass {
  const cache = new Map<string, Record<string, unknown>>();
  const load = (file: string): Record<string, unknown> => {
    let exp = cache.get(file);
    if (exp) return exp;
    const mod = { exports: {} as Record<string, unknown> };
    cache.set(file, mod.exports);
    const req = (id: string) => (id.startsWith('./') ? load(`${id.slice(2)}.js`) : require(id));
    new Function('module', 'exports', 'require', files[file])(mod, mod.exports, req);
    exp = mod.exports;
    cache.set(file, exp);
    return exp;
  };
  return load(`${className}.js`)[className] as KaitaiClass;
}

function compileInChild(): Record<string, { className: string; js: Record<string, string>; debugJs: Record<string, string> }> {
  const child = join(dirname(fileURLToPath(import.meta.url)), 'compileChild.ts');
  const r = spawnSync(process.execPath, [require.resolve('tsx/cli'), child], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`formats: in-memory compile failed: ${(r.stderr || String(r.error ?? r.signal)).trim()}`);
  return JSON.parse(r.stdout);
}

let loaded: { formats: Map<string, LoadedFormat>; origin: 'generated' | 'memory' } | undefined;

function load(): NonNullable<typeof loaded> {
  const sources = listKsySources();
  const formats = new Map<string, LoadedFormat>();
  const stamp = readStamp();
  if (stamp && stamp.hash === sourcesHash(sources, compilerVersion())) {
    try {
      for (const s of sources) {
        const e = stamp.formats.find((f) => f.name === s.name);
        if (!e) throw new Error(`stamp lacks ${s.name}`);
        formats.set(s.name, {
          name: s.name, className: e.className, ksy: parseKsy(s.text, s.path),
          Parser: require(join(GENERATED_DIR, e.js))[e.className],
          DebugParser: require(join(GENERATED_DIR, e.debugJs))[e.className],
        });
      }
      return { formats, origin: 'generated' };
    } catch {
      formats.clear(); // a half-deleted folder: fall through to compiling
    }
  }
  const compiled = compileInChild();
  for (const s of sources) {
    const c = compiled[s.name];
    formats.set(s.name, {
      name: s.name, className: c.className, ksy: parseKsy(s.text, s.path),
      Parser: evalModules(c.js, c.className), DebugParser: evalModules(c.debugJs, c.className),
    });
  }
  return { formats, origin: 'memory' };
}

/** 'generated' when the build output was current, 'memory' when compiled on load. */
export function parsersOrigin(): 'generated' | 'memory' {
  loaded ??= load();
  return loaded.origin;
}

export function format(name: string): LoadedFormat {
  loaded ??= load();
  const f = loaded.formats.get(name);
  if (!f) throw new Error(`no format named ${name} in formats/`);
  return f;
}
