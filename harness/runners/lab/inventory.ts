// The lab inventory (YAML): hosts reachable over SSH, their kernels and VFs. Everything in it ends
// up in remote argv, so every field is validated here and later quoted element by element.
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { UsageError } from '../../util/usage-error.ts';
import { BDF_RE } from '../vfio-host/sysfs.ts';

export interface LabHost {
  name: string;
  ssh: { host: string; user: string; port: number; key?: string };
  /** kernel release as the lab knows it (checked against the capture's provenance) */
  kernel: string;
  vfs: string[];
  /** the migcompat command on that host, as an argument array */
  migcompat: string[];
  /** remote scratch folder for streams */
  workdir: string;
  /** environment for the remote command, passed as `env K=V …` arguments */
  env: Record<string, string>;
}

export interface Inventory {
  hosts: LabHost[];
  corpus?: string;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

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
    for (const v of vfs) if (typeof v !== 'string' || !BDF_RE.test(v)) throw new UsageError(`${at}.vfs: '${String(v)}' is not a PCI address like 0000:75:00.1`);
    const mc = h.migcompat === undefined ? ['migcompat'] : h.migcompat;
    if (!Array.isArray(mc) || mc.length === 0) throw new UsageError(`${at}.migcompat: expected an argument array, e.g. [npx, migcompat]`);
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries((h.env ?? {}) as Record<string, unknown>)) {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(k)) throw new UsageError(`${at}.env: '${k}' is not an environment variable name`);
      env[k] = str(v, `${at}.env.${k}`);
    }
    return {
      name,
      ssh: { host: str(ssh.host, `${at}.ssh.host`), user: str(ssh.user ?? 'root', `${at}.ssh.user`), port, key: ssh.key === undefined ? undefined : str(ssh.key, `${at}.ssh.key`) },
      kernel: str(h.kernel, `${at}.kernel`),
      vfs: vfs as string[],
      migcompat: mc.map((a: unknown, j: number) => str(a, `${at}.migcompat[${j}]`)),
      workdir: str(h.workdir ?? '/var/tmp/migcompat', `${at}.workdir`),
      env,
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
