// `npm run build:formats` (also postinstall and the first step of `npm test`): compiles every
// formats/*.ksy with kaitai-struct-compiler into harness/formats/generated/: normal and debug
// JavaScript and graphviz .dot. Skips the work when the sources' hash is unchanged. The folder is
// replaced by a rename, so a reader never sees half of a build. A compile error prints
// "formats: formats/NAME.ksy: problem" and exits 1.
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compileAll, compilerVersion } from './compile.ts';
import { GENERATED_DIR, readStamp, STAMP_FILE, upperCamel, type BuildStamp } from './generatedDir.ts';
import { listKsySources, sourceHash, sourcesHash } from './ksy.ts';

export interface BuildResult {
  skipped: boolean;
  formats: string[];
  dir: string;
}

function writeTree(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    // go/graphviz names can start with '/', never let one escape the folder
    const safe = name.replace(/^\/+/, '').replace(/\.\.(\/|$)/g, '');
    const p = join(dir, safe);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
}

export async function buildFormats(opts: { force?: boolean; outDir?: string } = {}): Promise<BuildResult> {
  const outDir = opts.outDir ?? GENERATED_DIR;
  const sources = listKsySources();
  const version = compilerVersion();
  const hash = sourcesHash(sources, version);
  const names = sources.map((s) => s.name);
  if (!opts.force && readStamp(outDir)?.hash === hash) return { skipped: true, formats: names, dir: outDir };

  const compiled = await compileAll(sources, { debug: true, dot: true });
  const tmp = `${outDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  // generated parsers are UMD/CommonJS inside an ESM package
  writeFileSync(join(tmp, 'package.json'), '{"type":"commonjs"}\n');
  const stamp: BuildStamp = { hash, compiler: version, formats: [] };
  for (const c of compiled) {
    const className = upperCamel(String(c.ksy.meta?.id ?? c.name));
    writeTree(tmp, c.js);
    writeTree(join(tmp, 'debug'), c.debugJs);
    writeTree(join(tmp, 'dot'), c.dot);
    stamp.formats.push({
      name: c.name,
      hash: sourceHash(sources.find((s) => s.name === c.name)!, version),
      className,
      js: `${className}.js`,
      debugJs: `debug/${className}.js`,
      dot: Object.keys(c.dot).map((f) => `dot/${f.replace(/^\/+/, '')}`),
    });
  }
  writeFileSync(join(tmp, STAMP_FILE), JSON.stringify(stamp, null, 2) + '\n');

  const old = `${outDir}.old-${process.pid}`;
  if (existsSync(outDir)) renameSync(outDir, old);
  try {
    renameSync(tmp, outDir);
  } catch (e) {
    // a concurrent build won the race; its output is as good as ours
    if (!existsSync(outDir)) throw e;
    rmSync(tmp, { recursive: true, force: true });
  }
  rmSync(old, { recursive: true, force: true });
  return { skipped: false, formats: names, dir: outDir };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const force = process.argv.includes('--force');
  try {
    const r = await buildFormats({ force });
    process.stdout.write(`formats: ${r.skipped ? 'up to date' : 'compiled'} (${r.formats.join(', ')})\n`);
  } catch (e) {
    process.stderr.write(`formats: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
