// A bare machine as the set-up sees it, without touching this one: dpkg's database (DPKG_ADMINDIR)
// is a copy of the real one with the listed packages taken out and no foreign architecture, and apt
// (APT_CONFIG) reads that copy and keeps its lists in an empty folder, i.e. lists that offer nothing.
// apt's own simulate switch is on in that view, so no apt-get under it can install anything.
// Who runs it: a non-root user (nobody, through setpriv, when the tests run as root), or root (real
// root, or root of a user namespace when the tests do not run as root).
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const NOBODY = 65534;
export const runningAsRoot = (): boolean => process.getuid?.() === 0;

export interface BareView {
  dir: string;
  admin: string;
  lists: string;
  aptConfig: string;
  env: Record<string, string>;
}

/** dpkg's status file without the stanzas of these packages. */
export function statusWithout(status: string, hide: string[]): string {
  const names = new Set(hide.map((p) => p.split(':')[0]));
  return status.split(/\n\n+/).filter((s) => !names.has(/^Package: (\S+)$/m.exec(s)?.[1] ?? '')).join('\n\n') + '\n';
}

const views: string[] = [];

/** Remove the views made so far (their apt lists are tens of MB). */
export function removeViews(): void {
  for (const d of views.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function bareView(hide: string[]): BareView {
  const dir = mkdtempSync(join(tmpdir(), 'mc-bare-'));
  views.push(dir);
  const admin = join(dir, 'dpkg');
  const lists = join(dir, 'lists');
  mkdirSync(join(lists, 'partial'), { recursive: true });
  mkdirSync(join(dir, 'cache', 'archives', 'partial'), { recursive: true });
  mkdirSync(join(dir, 'home'), { recursive: true });
  mkdirSync(admin, { recursive: true });
  writeFileSync(join(admin, 'status'), statusWithout(readFileSync('/var/lib/dpkg/status', 'utf8'), hide));
  const aptConfig = join(dir, 'apt.conf');
  writeFileSync(aptConfig, [
    `Dir::State::Lists "${lists}";`,
    `Dir::State::status "${join(admin, 'status')}";`,
    `Dir::Cache "${join(dir, 'cache')}";`,
    'APT::Get::Simulate "true";',
    // root of a user namespace cannot switch to the _apt user for downloads
    ...(runningAsRoot() ? [] : ['APT::Sandbox::User "root";']),
  ].join('\n') + '\n');
  // nobody must be able to use the view (and its own HOME and TMPDIR in it)
  for (const d of [dir, admin, lists, join(lists, 'partial'), join(dir, 'cache'), join(dir, 'home')]) chmodSync(d, 0o777);
  const env: Record<string, string> = {
    ...cleanEnv(), DPKG_ADMINDIR: admin, APT_CONFIG: aptConfig, HOME: join(dir, 'home'), TMPDIR: join(dir, 'home'),
    npm_config_cache: join(dir, 'home', '.npm'), npm_config_update_notifier: 'false', npm_config_fund: 'false',
  };
  return { dir, admin, lists, aptConfig, env };
}

/** The environment without what the outer Playwright and npm run put in it. */
export function cleanEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter(([k, v]) => v !== undefined && !/^(TEST_|PW_|PLAYWRIGHT_|npm_|INIT_CWD$)/i.test(k))) as Record<string, string>;
}

/** argv run by a user who is not root: nobody when we are root, else ourselves. */
export const asNonRoot = (argv: string[]): string[] =>
  runningAsRoot() ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', ...argv] : argv;

/** argv run as root: ourselves when we are root, else root of a new user namespace. */
export const asRoot = (argv: string[]): string[] => (runningAsRoot() ? argv : ['unshare', '--map-root-user', ...argv]);
