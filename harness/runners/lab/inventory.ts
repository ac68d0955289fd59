// The lab inventory (YAML): hosts reachable over SSH, their kernels and VFs. Everything in it ends
// up in remote argv, so every field is validated (by the schema) and later quoted element by element.
import { UsageError } from '../../util/usage-error.ts';
import { loadYaml, readYaml } from '../../util/yamlSchema.ts';
import type { GuestArch } from '../types.ts';

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
  /** the host's architecture: the guest it runs (default x86_64; Kunpeng hosts are aarch64) */
  arch?: GuestArch;
  /** tcg (default) or kvm (aarch64: -cpu host with a GICv3) */
  accel?: 'tcg' | 'kvm';
  // kernel module swaps (`migcompat lab --module`); defaults are the real ones
  /** where sysfs is mounted (default /sys) */
  sysfs?: string;
  /** commands the swap runs, as argument arrays: insmod, rmmod, modprobe, and write (a sysfs write: FILE VALUE appended) */
  commands?: Partial<Record<HostCommand, string[]>>;
}

export type HostCommand = 'insmod' | 'rmmod' | 'modprobe' | 'write';
export const HOST_COMMANDS: readonly HostCommand[] = ['insmod', 'rmmod', 'modprobe', 'write'];

export interface Inventory {
  hosts: LabHost[];
  corpus?: string;
}

const DEBIAN_ARCH: Record<string, GuestArch> = { arm64: 'aarch64', amd64: 'x86_64' };

/** a host name or an IPv4/IPv6 address: it ends up inside a QEMU URI (the schema's migrationAddress pattern) */
export const ADDR_RE = /^[A-Za-z0-9][A-Za-z0-9.:-]*$/;

type HostDoc = Omit<LabHost, 'ssh' | 'migcompat' | 'workdir' | 'env' | 'arch'> & {
  ssh?: Partial<LabHost['ssh']>;
  /** Debian's names (arm64, amd64) are accepted too */
  arch?: GuestArch | 'arm64' | 'amd64';
  migcompat?: string[];
  workdir?: string;
  env?: Record<string, string>;
};

/**
 * An inventory from YAML text. The shape (keys, types, names, addresses, fingerprints, argument
 * arrays, one-line strings) is specs/schemas/lab-inventory.schema.json's; here: defaults, Debian's
 * architecture names and unique host names.
 */
export function parseInventory(text: string, source = 'inventory'): Inventory {
  return inventoryOf(loadYaml('lab-inventory', text, source) as { hosts: HostDoc[]; corpus?: string }, source);
}

export function readInventory(path: string): Inventory {
  return inventoryOf(readYaml('lab-inventory', path) as { hosts: HostDoc[]; corpus?: string }, path);
}

function inventoryOf(d: { hosts: HostDoc[]; corpus?: string }, source: string): Inventory {
  const seen = new Set<string>();
  const hosts = d.hosts.map((h, i): LabHost => {
    if (seen.has(h.name)) throw new UsageError(`${source}: hosts[${i}].name: duplicate host '${h.name}'`);
    seen.add(h.name);
    const { arch, ...rest } = h;
    const ssh = h.ssh ?? {};
    return {
      ...rest,
      name: h.name,
      ssh: {
        host: ssh.host ?? 'localhost', user: ssh.user ?? 'root', port: ssh.port ?? 22, key: ssh.key,
        ...(ssh.hostKey ? { hostKey: ssh.hostKey } : {}), ...(ssh.knownHosts ? { knownHosts: ssh.knownHosts } : {}),
      },
      migcompat: h.migcompat ?? ['migcompat'],
      workdir: h.workdir ?? '/var/tmp/migcompat',
      env: h.env ?? {},
      ...(arch ? { arch: DEBIAN_ARCH[arch] ?? (arch as GuestArch) } : {}),
    };
  });
  return { hosts, corpus: d.corpus };
}
