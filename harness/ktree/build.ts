// Build a kernel tree's hisi_acc_vfio_pci.c, unmodified, against the shim into a shared library,
// cached by the hash of everything that goes into it. The tree's VFIO core state walk
// (vfio_mig_get_next_state and its tables) is compiled into the same library from the tree's own
// text (coreUnit.ts). A tree that needs something the shim lacks fails with one message naming the
// missing headers and symbols.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { UsageError } from '../util/usage-error.ts';
import { makeDirAtomic } from '../util/atomic.ts';
import { libsDir } from './paths.ts';
import { CORE_FUNCTION, CORE_UNIT_FORMAT, coreUnit } from './coreUnit.ts';
import { DRIVER_DIR, coreSource, treeFileList } from './tree.ts';

export const SHIM_DIR = join(dirname(fileURLToPath(import.meta.url)), 'shim');
const CFLAGS = ['-O2', '-g0', '-fPIC', '-ffreestanding', '-nostdinc', '-fno-strict-aliasing', '-fno-common',
  '-DKBUILD_MODNAME="hisi_acc_vfio_pci"', '-D__KERNEL__',
  '-Werror=implicit-function-declaration', '-Werror=incompatible-pointer-types', '-Werror=int-conversion', '-w'];
/** shim/host/: our own host-side C (signals, CPU-time timers), compiled against the C library's headers */
const HOST_CFLAGS = ['-O2', '-g0', '-fPIC', '-D_GNU_SOURCE', '-Wall', '-Werror'];
/** the file name the generated core unit is compiled under (diagnostics point into the tree's own file) */
const CORE_UNIT = 'vfio_core_walk.c';

/** The tree needs something the shim does not provide (or the compiler refused the code). */
export class KtreeBuildError extends UsageError {
  constructor(message: string, readonly missingHeaders: string[], readonly missingSymbols: string[], readonly log: string) {
    super(message);
  }
}

export interface BuildResult {
  libPath: string;
  hash: string;
  cached: boolean;
  seconds: number;
  files: string[];
}

function gcc(args: string[], cwd: string): { ok: boolean; log: string } {
  // LC_ALL=C: plain quotes in diagnostics, whatever the user's locale (parseDiagnostics reads them)
  const r = spawnSync('gcc', args, { cwd, encoding: 'utf8', maxBuffer: 32 << 20, env: { ...process.env, LC_ALL: 'C' } });
  if (r.error) throw new UsageError(`gcc not available: ${r.error.message} (install gcc)`);
  return { ok: r.status === 0, log: `${r.stdout}${r.stderr}` };
}

function listShim(): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(SHIM_DIR, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (/\.[ch]$/.test(e.name)) out.push(r);
    }
  };
  walk('');
  return out;
}

let gccVersion: string | null = null;
function compilerId(): string {
  if (gccVersion === null) gccVersion = spawnSync('gcc', ['--version'], { encoding: 'utf8' }).stdout?.split('\n')[0] ?? 'gcc?';
  return gccVersion;
}

/** Source hash: the tree's staged files, the shim, the flags and the compiler. */
export function sourceHash(tree: string, files: string[]): string {
  const h = createHash('sha256');
  for (const f of files) h.update(`tree:${f}\0`).update(readFileSync(join(tree, f))).update('\0');
  for (const f of listShim()) h.update(`shim:${f}\0`).update(readFileSync(join(SHIM_DIR, f))).update('\0');
  h.update(CFLAGS.join(' ')).update(HOST_CFLAGS.join(' ')).update(`core-unit:${CORE_UNIT_FORMAT}`).update(compilerId());
  return h.digest('hex').slice(0, 20);
}

/** What the compiler and linker said is missing, by kind. */
export function parseDiagnostics(log: string): { headers: string[]; symbols: string[]; other: string[] } {
  const headers = new Set<string>();
  const symbols = new Set<string>();
  const other: string[] = [];
  // gcc quotes names with '…' in the C locale and ‘…’ in UTF-8 ones: read both
  for (const line of log.split('\n').map((l) => l.replace(/[\u2018\u2019]/g, "'"))) {
    let m: RegExpExecArray | null;
    if ((m = /fatal error: ([^:]+): No such file or directory/.exec(line))) headers.add(m[1].trim());
    else if ((m = /implicit declaration of function '([^']+)'/.exec(line))) symbols.add(m[1]);
    else if ((m = /undefined reference to `([^']+)'/.exec(line))) symbols.add(m[1]);
    else if ((m = /error: '([^']+)' undeclared/.exec(line))) symbols.add(m[1]);
    else if ((m = /error: unknown type name '([^']+)'/.exec(line))) symbols.add(m[1]);
    else if ((m = /error: (?:storage size of .* isn't known|field '[^']+' has incomplete type|invalid use of undefined type '([^']+)')/.exec(line))) {
      if (m[1]) symbols.add(m[1]); else other.push(line.trim());
    } else if ((m = /has no member named '([^']+)'/.exec(line))) symbols.add(`member ${m[1]}`);
    else if (/\berror\b/.test(line)) other.push(line.trim());
  }
  return { headers: [...headers], symbols: [...symbols], other };
}

/** Build (or find in the cache) the library for the tree at `tree`. */
export function buildTree(tree: string, opts: { force?: boolean } = {}): BuildResult {
  const t0 = process.hrtime.bigint();
  const files = treeFileList(tree);
  const hash = sourceHash(tree, files);
  const outDir = join(libsDir(), hash);
  const libPath = join(outDir, 'libktree.so');
  const seconds = () => Number(process.hrtime.bigint() - t0) / 1e9;
  if (existsSync(libPath) && !opts.force) return { libPath, hash, cached: true, seconds: seconds(), files };
  if (opts.force) rmSync(outDir, { recursive: true, force: true });

  const work = mkdtempSync(join(tmpdir(), 'ktree-build-'));
  try {
    // Stage only the files a build may read, so a full tree's other headers never leak in.
    const stage = join(work, 'tree');
    for (const f of files) {
      mkdirSync(dirname(join(stage, f)), { recursive: true });
      copyFileSync(join(tree, f), join(stage, f));
    }
    const probe = join(work, 'missing'); // empty stand-ins, so one run lists every missing header
    mkdirSync(probe);
    const inc = ['-isystem', gccInclude(), '-I', join(SHIM_DIR, 'include'), '-I', join(stage, 'include'),
      '-I', join(stage, DRIVER_DIR), '-idirafter', probe];
    const missingHeaders: string[] = [];
    const symbols = new Set<string>();
    const other: string[] = [];
    let log = '';
    // the core's state walk: that one function of the tree's core source, verbatim, in a unit of its own
    const core = coreSource(stage)!;
    const unit = coreUnit(readFileSync(join(stage, core), 'utf8'), core);
    if (unit === null) symbols.add(`${CORE_FUNCTION} (no definition in ${core})`);
    else writeFileSync(join(stage, CORE_UNIT), unit);
    const sources = [
      ...files.filter((f) => f.startsWith(DRIVER_DIR) && f.endsWith('.c')).map((f) => join(stage, f)),
      ...(unit === null ? [] : [join(stage, CORE_UNIT)]),
      ...listShim().filter((f) => f.endsWith('.c') && !f.startsWith('host/')).map((f) => join(SHIM_DIR, f)),
    ];
    const objs: string[] = [];
    for (const f of listShim().filter((x) => x.startsWith('host/') && x.endsWith('.c'))) {
      const obj = join(work, `host-${objs.length}.o`);
      const r = gcc([...HOST_CFLAGS, '-c', join(SHIM_DIR, f), '-o', obj], work);
      log += r.log;
      if (!r.ok) throw new KtreeBuildError(`the shim's host code does not compile (${f}): ${lastError(r.log)}`, [], [], log);
      objs.push(obj);
    }
    for (const [i, src] of sources.entries()) {
      const obj = join(work, `${i}.o`);
      for (let attempt = 0; attempt < 50; attempt++) {
        const r = gcc([...CFLAGS, ...inc, '-c', src, '-o', obj], work);
        log += r.log;
        if (r.ok) break;
        const d = parseDiagnostics(r.log);
        const fresh = d.headers.filter((h) => !missingHeaders.includes(h));
        if (fresh.length) {
          for (const h of fresh) {
            missingHeaders.push(h);
            mkdirSync(dirname(join(probe, h)), { recursive: true });
            writeFileSync(join(probe, h), '');
          }
          continue; // compile again to find the next missing header
        }
        d.symbols.forEach((s) => symbols.add(s));
        other.push(...d.other);
        // -w hides calls to undeclared functions once other errors stop the compile (the linker
        // would name them only on the next attempt): ask once more without it, so one message
        // lists everything the shim lacks
        const loud = gcc([...CFLAGS.filter((f) => f !== '-w'), '-fsyntax-only', ...inc, src], work);
        parseDiagnostics(loud.log).symbols.forEach((s) => symbols.add(s));
        break;
      }
      objs.push(obj);
    }
    if (missingHeaders.length || symbols.size || other.length) throw buildError(missingHeaders, [...symbols], other, log);
    const linked = join(work, 'libktree.so');
    const l = gcc(['-shared', '-Wl,-z,defs', '-o', linked, ...objs], work);
    log += l.log;
    if (!l.ok) {
      const d = parseDiagnostics(l.log);
      throw buildError([], d.symbols, d.other, log);
    }
    makeDirAtomic(outDir, (tmp) => {
      copyFileSync(linked, join(tmp, 'libktree.so'));
      writeFileSync(join(tmp, 'build.json'), JSON.stringify({ tree, files, hash, compiler: compilerId(), builtAt: new Date().toISOString() }, null, 2));
    });
    return { libPath, hash, cached: false, seconds: seconds(), files };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const lastError = (log: string): string => log.split('\n').filter((l) => /error/.test(l)).pop()?.trim() ?? 'no output';

function buildError(headers: string[], symbols: string[], other: string[], log: string): KtreeBuildError {
  const parts: string[] = [];
  if (headers.length) parts.push(`missing headers: ${headers.join(', ')}`);
  if (symbols.length) parts.push(`missing symbols: ${symbols.join(', ')}`);
  if (!parts.length) parts.push(`compiler errors: ${other.slice(0, 3).join(' | ')}`);
  return new KtreeBuildError(`the shim cannot build this tree: ${parts.join('; ')}`, headers, symbols, log);
}

let gccInc: string | null = null;
function gccInclude(): string {
  if (gccInc === null) gccInc = spawnSync('gcc', ['-print-file-name=include'], { encoding: 'utf8' }).stdout?.trim() || '/usr/lib/gcc/include';
  return gccInc;
}
