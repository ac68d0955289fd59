// The Debian packages the tests need on the host, and the set-up that gets them. The list is
// .ci/apt-packages.txt, the only one: `npm test` starts with `migcompat setup`, and CI runs `npm test`.
// As root the set-up installs what is missing (refreshing apt's lists when they offer no version of
// it); otherwise it stops at once with one line naming the command to run as root.
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addArchitecture, aptInstallCommand, dpkgKnowsArch, installPackages, isRoot, nativeArch, notInstalled, refreshAptLists } from './debian.ts';
import { MissingDependencyError, UsageError } from './usage-error.ts';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const HOST_PACKAGES_FILE = join(REPO, '.ci', 'apt-packages.txt');

export interface HostNeeds {
  file: string;
  /** package names, `pkg` or `pkg:arch` */
  packages: string[];
  /** architectures dpkg must serve besides its own (`architecture: arm64` lines, and `pkg:arch` ones) */
  architectures: string[];
}

// Debian policy: lower case letters, digits, + - . ; at least two characters, starting alphanumeric
/** A path as a user typed it: relative inside the working folder, absolute elsewhere. */
const shownPath = (file: string): string => (file.startsWith(process.cwd() + '/') ? relative(process.cwd(), file) : file);

const PKG_RE = /^[a-z0-9][a-z0-9+.-]+(?::([a-z0-9-]+))?$/;
const ARCH_RE = /^architecture:\s*([a-z0-9-]+)$/;

/** One package per line, `# comments`, and `architecture: ARCH` for a foreign architecture. */
export function parseHostNeeds(text: string, file: string): HostNeeds {
  const packages: string[] = [];
  const arches = new Set<string>();
  const shown = shownPath(file);
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const arch = ARCH_RE.exec(line);
    if (arch) {
      arches.add(arch[1]!);
      return;
    }
    const m = PKG_RE.exec(line);
    if (!m) throw new UsageError(`${shown}:${i + 1}: '${line}' is neither a Debian package name nor 'architecture: ARCH'`);
    if (!packages.includes(line)) packages.push(line);
    if (m[1]) arches.add(m[1]);
  });
  return { file, packages, architectures: [...arches] };
}

export function readHostNeeds(file = HOST_PACKAGES_FILE): HostNeeds {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseHostNeeds(text, file);
}

export interface SetupReport {
  /** what was missing when the set-up started */
  missing: string[];
  missingArchitectures: string[];
  /** why apt's lists were refreshed, if they were */
  refreshed: string | null;
  /** installed now, with versions; on a dry run, what apt would install (dependencies included) */
  installed: Record<string, string>;
  dryRun: boolean;
}

/**
 * Check the host against the list and, as root, install what is missing. Not root and something
 * missing: MissingDependencyError naming the exact command. `dryRun` (root): refresh apt's lists if
 * they offer no version of a missing package and let apt simulate the install; nothing is installed.
 * `log` gets one line per step.
 */
export function setupHost(needs: HostNeeds, opts: { dryRun?: boolean; log?: (line: string) => void } = {}): SetupReport {
  const log = opts.log ?? (() => {});
  const dryRun = !!opts.dryRun;
  const native = nativeArch();
  const missingArchitectures = needs.architectures.filter((a) => a !== native && !dpkgKnowsArch(a));
  const missing = notInstalled(needs.packages);
  const report: SetupReport = { missing, missingArchitectures, refreshed: null, installed: {}, dryRun };
  if (!missing.length && !missingArchitectures.length) return report;
  const shown = shownPath(needs.file);
  if (!isRoot()) {
    const what = [
      ...(missing.length ? [`Debian packages ${missing.join(', ')}`] : []),
      ...(missingArchitectures.length ? [`dpkg architecture ${missingArchitectures.join(', ')}`] : []),
    ].join(' and ');
    const cmd = missing.length
      ? aptInstallCommand(missing, missingArchitectures)
      : [...missingArchitectures.map((a) => `dpkg --add-architecture ${a}`), 'apt-get update'].join(' && ');
    throw new MissingDependencyError(`the tests need ${what} (${shown}); as root: ${cmd}`);
  }
  const refresh = (why: string) => log(`setup: refreshing apt's lists (apt-get update): ${why}`);
  if (missingArchitectures.length) {
    for (const a of missingArchitectures) {
      log(`setup: ${dryRun ? 'would run' : 'running'} dpkg --add-architecture ${a}`);
      if (!dryRun) addArchitecture(a);
    }
    if (!dryRun) {
      // apt has no lists for a new architecture yet (downloads of its .debs use them)
      report.refreshed = `new architecture ${missingArchitectures.join(', ')}`;
      refresh(report.refreshed);
      refreshAptLists(`no ${missingArchitectures.join(', ')} package lists yet`);
    }
  }
  if (!missing.length) return report;
  const n = `${missing.length} Debian package${missing.length === 1 ? '' : 's'}`;
  log(`setup: ${dryRun ? 'simulating the install of' : 'installing'} ${n} (${shown}): ${missing.join(' ')}`);
  const r = installPackages(missing, { simulate: dryRun, onRefresh: refresh });
  report.refreshed = r.refreshed ?? report.refreshed;
  report.installed = r.versions;
  return report;
}
