// Build a kernel tree's hisi_acc_vfio_pci.c, unmodified, against the shim into a shared library,
// cached by the hash of everything that goes into it. A tree that needs something the shim lacks
// fails with one message naming the missing headers and symbols.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { UsageError } from '../util/usage-error.ts';
import { makeDirAtomic } from '../util/atomic.ts';
import { libsDir } from './paths.ts';
import { DRIVER_DIR, treeFileList } from './tree.ts';

export const SHIM_DIR = join(dirname(fileURLToPath(import.meta.url)), 'shim');
const CFLAGS = ['-O2', '-g0', '-fPIC', '-ffreestanding', '-nostdinc', '-fno-strict-aliasing', '-fno-common',
  '-DKBUILD_MODNAME="hisi_acc_vfio_pci"', '-D__KERNEL__',
  '-Werror=implicit-function-declaration', '-Werror=incompatible-pointer-types', '-Werror=int-conversion', '-w'];

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
  const r = spawnSync('gcc', args, { cwd, encoding: 'utf8', maxBuffer: 32 << 20 });
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
  h.update(CFLAGS.join(' ')).update(compilerId());
  return h.digest('hex').slice(0, 20);
}

/** What the compiler and linker said is missing, by kind. */
export function parseDiagnostics(log: string): { headers: string[]; symbols: string[]; other: string[] } {
  const headers = new Set<string>();
  const symbols = new Set<string>();
  const other: string[] = [];
  for (const line of log.split('\n')) {
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
    const sources = [
      ...files.filter((f) => f.startsWith(DRIVER_DIR) && f.endsWith('.c')).map((f) => join(stage, f)),
      ...listShim().filter((f) => f.endsWith('.c')).map((f) => join(SHIM_DIR, f)),
    ];
    const missingHeaders: string[] = [];
    const symbols = new Set<string>();
    const other: string[] = [];
    let log = '';
    const objs: string[] = [];
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
