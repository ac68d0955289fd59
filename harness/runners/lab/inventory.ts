// The lab inventory (YAML): hosts reachable over SSH, their kernels and VFs. Everything in it ends
// up in remote argv, so every field is validated here and later quoted element by element.
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { UsageError } from '../../util/usage-error.ts';
import { DEVICE_ID_RE } from '../vfio-host/sysfs.ts';

export interface LabHost {
  name: string;
  /**
   * hostKey: `SHA256:…` pins the host's key, `accept-new` trusts it on first use (and writes it to
   * known_hosts); without it the key must be in known_hosts. knownHosts: that file instead of
   * MIGCOMPAT_KNOWN_HOSTS or ~/.ssh/known_hosts (runners/lab/knownHosts.ts).
   */
  ssh: { host: string; user: string; port: number; key?: string; hostKey?: string; knownHosts?: string };
  /** kernel release as the lab knows it (checked against the capture's provenance) */
  kernel: string;
  vfs: string[];
  /** the migcompat command on that host, as an argument array */
  migcompat: string[];
  /** remote scratch folder for streams */
  workdir: string;
  /** environment for the remote command, passed as `env K=V …` arguments */
  env: Record<string, string>;
  // qemu runner (lab mode); all optional, so hardware-only inventories are unchanged
  /** the harness machine itself: QEMU runs as a local process, no SSH */
  local?: boolean;
  /** the QEMU command on that host, as an argument array (default [qemu-system-x86_64]) */
  qemu?: string[];
  /** address other hosts use to reach this host's migration listener (default ssh.host; 127.0.0.1 when local) */
  migrationAddress?: string;
}

export interface Inventory {
  hosts: LabHost[];
  corpus?: string;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** a host name or an IPv4/IPv6 address: it ends up inside a QEMU URI */
export const ADDR_RE = /^[A-Za-z0-9][A-Za-z0-9.:-]*$/;
/** an OpenSSH SHA256 fingerprint as `ssh-keygen -l` prints it */
const FPR_RE = /^SHA256:[A-Za-z0-9+/]{43}$/;

function str(v: unknown, where: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.includes('\0') || v.includes('\n')) throw new UsageError(`${where}: expected a non-empty one-line string`);
  return v;
}

export function parseInventory(text: string, source = 'inventory'): Inventory {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new UsageError(`${source}: not YAML (${(e as Error).message.split('\n')[0]})`);
  }
  const d = doc as { hosts?: unknown; corpus?: unknown } | null;
  if (!d || !Array.isArray(d.hosts) || d.hosts.length === 0) throw new UsageError(`${source}: needs a non-empty 'hosts' list`);
  const seen = new Set<string>();
  const hosts = d.hosts.map((h: Record<string, unknown>, i: number): LabHost => {
    const at = `${source}: hosts[${i}]`;
    const name = str(h?.name, `${at}.name`);
    if (!NAME_RE.test(name)) throw new UsageError(`${at}.name: '${name}' may only use letters, digits, '.', '_' and '-'`);
    if (seen.has(name)) throw new UsageError(`${at}.name: duplicate host '${name}'`);
    seen.add(name);
    const ssh = (h.ssh ?? {}) as Record<string, unknown>;
    const port = ssh.port === undefined ? 22 : Number(ssh.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`${at}.ssh.port: not a port number`);
    const vfs = h.vfs;
    if (!Array.isArray(vfs) || vfs.length === 0) throw new UsageError(`${at}.vfs: needs at least one VF`);
    for (const v of vfs) if (typeof v !== 'string' || !DEVICE_ID_RE.test(v)) throw new UsageError(`${at}.vfs: '${String(v)}' is not a PCI address like 0000:75:00.1 or an mdev:UUID`);
    const mc = h.migcompat === undefined ? ['migcompat'] : h.migcompat;
    if (!Array.isArray(mc) || mc.length === 0) throw new UsageError(`${at}.migcompat: expected an argument array, e.g. [npx, migcompat]`);
    const local = h.local === undefined ? undefined : h.local === true ? true : h.local === false ? false : undefined;
    if (h.local !== undefined && local === undefined) throw new UsageError(`${at}.local: expected true or false`);
    const qemu = h.qemu;
    if (qemu !== undefined && (!Array.isArray(qemu) || qemu.length === 0)) throw new UsageError(`${at}.qemu: expected an argument array, e.g. [qemu-system-x86_64]`);
    const maddr = h.migrationAddress === undefined ? undefined : str(h.migrationAddress, `${at}.migrationAddress`);
    if (maddr !== undefined && !ADDR_RE.test(maddr)) throw new UsageError(`${at}.migrationAddress: '${maddr}' is not a host name or address`);
    const hostKey = ssh.hostKey === undefined ? undefined : str(ssh.hostKey, `${at}.ssh.hostKey`);
    if (hostKey !== undefined && hostKey !== 'accept-new' && !FPR_RE.test(hostKey)) throw new UsageError(`${at}.ssh.hostKey: expected a fingerprint like SHA256:<43 base64 characters> (ssh-keygen -lf) or accept-new, got '${hostKey}'`);
    const knownHosts = ssh.knownHosts === undefined ? undefined : str(ssh.knownHosts, `${at}.ssh.knownHosts`);
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries((h.env ?? {}) as Record<string, unknown>)) {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(k)) throw new UsageError(`${at}.env: '${k}' is not an environment variable name`);
      env[k] = str(v, `${at}.env.${k}`);
    }
    return {
      name,
      ssh: {
        host: local && ssh.host === undefined ? 'localhost' : str(ssh.host, `${at}.ssh.host`), user: str(ssh.user ?? 'root', `${at}.ssh.user`), port,
        key: ssh.key === undefined ? undefined : str(ssh.key, `${at}.ssh.key`), ...(hostKey ? { hostKey } : {}), ...(knownHosts ? { knownHosts } : {}),
      },
      kernel: str(h.kernel, `${at}.kernel`),
      vfs: vfs as string[],
      migcompat: mc.map((a: unknown, j: number) => str(a, `${at}.migcompat[${j}]`)),
      workdir: str(h.workdir ?? '/var/tmp/migcompat', `${at}.workdir`),
      env,
      ...(local !== undefined ? { local } : {}),
      ...(qemu ? { qemu: qemu.map((a: unknown, j: number) => str(a, `${at}.qemu[${j}]`)) } : {}),
      ...(maddr ? { migrationAddress: maddr } : {}),
    };
  });
  return { hosts, corpus: d.corpus === undefined ? undefined : str(d.corpus, `${source}: corpus`) };
}

export function readInventory(path: string): Inventory {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseInventory(text, path);
}
