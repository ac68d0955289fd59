// Loads a compiled parser on first use: from generated/ when that format's stamp matches its current
// .ksy source, otherwise compiled in memory (a child process runs the asynchronous compiler, about
// 1-2 s), so a library user never hits a missing or stale build step, every decode stays synchronous,
// and an edit to one .ksy does not send the others through the slow path.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compilerVersion } from './compile.ts';
import { GENERATED_DIR, readStamp, type BuildStamp } from './generatedDir.ts';
import { listKsySources, parseKsy, sourceHash, type Ksy } from './ksy.ts';

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
  /** 'generated' when the build output was current, 'memory' when compiled on load */
  origin: 'generated' | 'memory';
}

export type KStream = { pos: number; size: number; byteOffset: number; isEof(): boolean } & Record<string, any>;
/** The runtime's typings do not fit nodenext; its CommonJS export is the stream class itself. */
export const KaitaiStream = require('kaitai-struct/KaitaiStream') as new (buf: ArrayBuffer | Uint8Array, off?: number) => KStream;

/** Evaluates generated CommonJS from memory; `./Name` requires (imported types) come from `files`. */
function evalModules(files: Record<string, string>, className: string): KaitaiClass {
  const cache = new Map<string, Record<string, unknown>>();
  const load = (file: string): Record<string, unknown> => {
    const hit = cache.get(file);
    if (hit) return hit;
    const mod = { exports: {} as Record<string, unknown> };
    cache.set(file, mod.exports);
    const req = (id: string) => (id.startsWith('./') ? load(`${id.slice(2)}.js`) : require(id));
    new Function('module', 'exports', 'require', files[file])(mod, mod.exports, req);
    cache.set(file, mod.exports);
    return mod.exports;
  };
  return load(`${className}.js`)[className] as KaitaiClass;
}

type Compiled = Record<string, { className: string; js: Record<string, string>; debugJs: Record<string, string> }>;

function compileInChild(name: string): Compiled {
  const child = join(dirname(fileURLToPath(import.meta.url)), 'compileChild.ts');
  const r = spawnSync(process.execPath, [require.resolve('tsx/cli'), child, name], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`formats: in-memory compile of ${name} failed: ${(r.stderr || String(r.error ?? r.signal)).trim()}`);
  return JSON.parse(r.stdout) as Compiled;
}

const loaded = new Map<string, LoadedFormat>();
let stamp: BuildStamp | undefined | null = null;

function load(name: string): LoadedFormat {
  const src = listKsySources().find((s) => s.name === name);
  if (!src) throw new Error(`no format named ${name} in formats/`);
  const ksy = parseKsy(src.text, src.path);
  if (stamp === null) stamp = readStamp();
  const e = stamp?.formats.find((f) => f.name === name);
  if (e && e.hash === sourceHash(src, compilerVersion())) {
    try {
      return {
        name, className: e.className, ksy, origin: 'generated',
        Parser: require(join(GENERATED_DIR, e.js))[e.className],
        DebugParser: require(join(GENERATED_DIR, e.debugJs))[e.className],
      };
    } catch {
      // a half-deleted folder: fall through to compiling
    }
  }
  const c = compileInChild(name)[name];
  return { name, className: c.className, ksy, origin: 'memory', Parser: evalModules(c.js, c.className), DebugParser: evalModules(c.debugJs, c.className) };
}

export function format(name: string): LoadedFormat {
  let f = loaded.get(name);
  if (!f) {
    f = load(name);
    loaded.set(name, f);
  }
  return f;
}

/** Where the hisi_acc parser came from: 'generated' (current build) or 'memory'. */
export function parsersOrigin(name = 'hisi_acc_vf_data'): 'generated' | 'memory' {
  return format(name).origin;
}
