// Debian package look-ups and unpacking through the ordinary clients (apt-cache, apt-get download,
// dpkg -x). Nothing is installed on the host here; `.ci/run` installs QEMU, busybox-static and
// kcapi-tools, and the guest kernel and old QEMU builds are only downloaded and unpacked.
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MissingDependencyError } from './errors.ts';

function run(cmd: string, args: string[], cwd?: string): { ok: boolean; out: string; err: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, LC_ALL: 'C' } });
  if (r.error) return { ok: false, out: '', err: r.error.message };
  return { ok: r.status === 0, out: r.stdout ?? '', err: r.stderr ?? '' };
}

/** Installed version of a package, or null. */
export function installedVersion(pkg: string): string | null {
  const r = run('dpkg-query', ['-W', '-f=${Status}\t${Version}', pkg]);
  if (!r.ok) return null;
  const [status, version] = r.out.split('\t');
  return status?.endsWith(' installed') && version ? version : null;
}

let updated = false;
/** apt-cache answers nothing on a machine whose lists were never fetched: fetch them once (root). */
function withLists<T>(query: () => T | null): T | null {
  const first = query();
  if (first !== null || updated) return first;
  updated = true;
  run('apt-get', ['update', '-qq']);
  return query();
}

/** Every version of a package the archive offers (apt-cache madison), newest first. */
export function archiveVersions(pkg: string): string[] {
  return (
    withLists(() => {
      const r = run('apt-cache', ['madison', pkg]);
      const vs = r.out.split('\n').map((l) => l.split('|')[1]?.trim()).filter((v): v is string => !!v);
      return vs.length ? [...new Set(vs)] : null;
    }) ?? []
  );
}

/** The first `Depends:` of a metapackage, e.g. linux-image-cloud-amd64 -> linux-image-6.1.0-56-cloud-amd64. */
export function metaDependency(meta: string, prefix: string): string {
  const dep = withLists(() => {
    const r = run('apt-cache', ['depends', meta]);
    const m = r.out.split('\n').map((l) => l.trim()).find((l) => l.startsWith(`Depends: ${prefix}`));
    return m ? m.slice('Depends: '.length).trim() : null;
  });
  if (!dep) throw new MissingDependencyError(`apt-cache knows no ${prefix}* package behind ${meta} (is Debian's archive reachable?)`);
  return dep;
}

/** `apt-get download pkg=version` into dir, then `dpkg -x` into root. Returns the .deb file names. */
export function downloadAndUnpack(pkgs: { name: string; version: string }[], dir: string, root: string): string[] {
  const r = run('apt-get', ['download', '-qq', ...pkgs.map((p) => `${p.name}=${p.version}`)], dir);
  if (!r.ok) {
    const line = r.err.split('\n').find((l) => l.startsWith('E:')) ?? r.err.trim().split('\n')[0];
    throw new MissingDependencyError(`apt-get download ${pkgs.map((p) => p.name).join(' ')} failed: ${line}`);
  }
  const debs = readdirSync(dir).filter((f) => f.endsWith('.deb'));
  for (const deb of debs) execFileSync('dpkg', ['-x', join(dir, deb), root]);
  return debs;
}

/** Absolute path of an installed program, or a clear error naming the package to install. */
export function requireProgram(path: string, pkg: string): string {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new MissingDependencyError(`${path} not found: install the Debian package ${pkg} (listed in .ci/apt-packages.txt)`);
  }
  return path;
}
