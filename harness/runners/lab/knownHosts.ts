// Which SSH host keys the lab trusts. A lab runner loads streams into devices as root on the hosts it
// reaches, so it never talks to a host it cannot verify. By default a host's key must be in OpenSSH's
// known_hosts (~/.ssh/known_hosts, then /etc/ssh/ssh_known_hosts), read the way ssh reads it: patterns
// with * ? and !, hashed names (|1|salt|hash), "[host]:port" for a port other than 22, @revoked. An
// unknown or changed key is refused with its SHA256 fingerprint and the exact line to add.
// `ssh.hostKey: accept-new` trusts a host seen for the first time and writes its line (a changed key
// is still refused); `ssh.hostKey: SHA256:…` pins one key and ignores known_hosts.
// The file can be moved: `ssh.knownHosts` in the inventory, else MIGCOMPAT_KNOWN_HOSTS.
import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname } from 'node:path';
import { UsageError } from '../../util/usage-error.ts';

/** An SSH host that cannot be trusted: one line (exit 2 in the CLI), before anything runs on it. */
export class HostKeyError extends UsageError {
  override name = 'HostKeyError';
}

/** What the transport knows about a host's SSH identity (a subset of the inventory's `ssh`). */
export interface HostKeyPolicy {
  host: string;
  port: number;
  /** SHA256:… pins one key; 'accept-new' trusts on first use; absent: known_hosts only */
  hostKey?: string;
  /** the known_hosts file to read and write instead of the default ones */
  knownHosts?: string;
}

export const ACCEPT_NEW = 'accept-new';

/** OpenSSH's fingerprint of a host key blob: "SHA256:" + unpadded base64 of its SHA-256. */
export function hostKeyFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type a blob starts with (an SSH string: uint32 length, then the name). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const n = blob.readUInt32BE(0);
  return n > 0 && n < 64 && blob.length >= 4 + n ? blob.subarray(4, 4 + n).toString('latin1') : 'unknown';
}

/** The name ssh looks a host up by: "host" on port 22, "[host]:port" otherwise, lower case. */
export function knownHostName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

/** The known_hosts line for a host's key, as ssh-keyscan would print it (plain, not hashed). */
export const knownHostsLine = (name: string, blob: Buffer): string => `${name} ${keyTypeOf(blob)} ${blob.toString('base64')}`;

export interface KnownHostsEntry {
  file: string;
  line: number;
  marker: '' | '@revoked' | '@cert-authority';
  hosts: string;
  keyType: string;
  key: string;
}

export function parseKnownHosts(text: string, file: string): KnownHostsEntry[] {
  const out: KnownHostsEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const f = line.split(/\s+/);
    const marker = f[0] === '@revoked' || f[0] === '@cert-authority' ? (f.shift() as KnownHostsEntry['marker']) : '';
    if (f.length < 3) return; // not an entry ssh could use either
    out.push({ file, line: i + 1, marker, hosts: f[0]!, keyType: f[1]!, key: f[2]! });
  });
  return out;
}

/** OpenSSH's wildcard match: * any run, ? one character, case-insensitive. */
function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(name);
}

/** Does an entry's host field name this host? Hashed: HMAC-SHA1 keyed by the salt. Lists: a '!' match vetoes. */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let hit = false;
  for (const p of field.split(',')) {
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), name)) return false;
    } else if (globMatch(p, name)) hit = true;
  }
  return hit;
}

export type HostKeyCheck =
  | { status: 'known'; entry: KnownHostsEntry }
  | { status: 'revoked'; entry: KnownHostsEntry }
  | { status: 'changed'; entries: KnownHostsEntry[] }
  | { status: 'unknown'; otherTypes: string[] };

/** Look a host's offered key up in known_hosts entries, the way ssh decides. */
export function checkHostKey(entries: KnownHostsEntry[], name: string, blob: Buffer): HostKeyCheck {
  const type = keyTypeOf(blob);
  const key = blob.toString('base64');
  const mine = entries.filter((e) => e.marker !== '@cert-authority' && hostFieldMatches(e.hosts, name));
  const revoked = entries.find((e) => e.marker === '@revoked' && e.key === key && hostFieldMatches(e.hosts, name));
  if (revoked) return { status: 'revoked', entry: revoked };
  const same = mine.find((e) => e.marker === '' && e.keyType === type && e.key === key);
  if (same) return { status: 'known', entry: same };
  const changed = mine.filter((e) => e.marker === '' && e.keyType === type);
  if (changed.length) return { status: 'changed', entries: changed };
  return { status: 'unknown', otherTypes: [...new Set(mine.filter((e) => e.marker === '').map((e) => e.keyType))] };
}

const expandHome = (p: string): string => p.replace(/^~(?=\/|$)/, homedir());

/** Files read (in order) and the one accept-new writes. */
export function knownHostsFiles(p: Pick<HostKeyPolicy, 'knownHosts'>): { read: string[]; write: string } {
  const chosen = p.knownHosts ?? process.env.MIGCOMPAT_KNOWN_HOSTS;
  if (chosen) return { read: [expandHome(chosen)], write: expandHome(chosen) };
  const user = `${homedir()}/.ssh/known_hosts`;
  return { read: [user, '/etc/ssh/ssh_known_hosts'], write: user };
}

export function readKnownHosts(files: string[]): KnownHostsEntry[] {
  return files.flatMap((f) => {
    if (!existsSync(f)) return [];
    try {
      return parseKnownHosts(readFileSync(f, 'utf8'), f);
    } catch (e) {
      throw new HostKeyError(`cannot read ${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  });
}

/** ssh2 host key algorithms to prefer: the types known_hosts holds for this host, so a host with several keys shows a known one. */
export function preferredAlgorithms(p: HostKeyPolicy): string[] {
  if (p.hostKey && p.hostKey !== ACCEPT_NEW) return [];
  const name = knownHostName(p.host, p.port);
  const types = new Set(readKnownHosts(knownHostsFiles(p).read).filter((e) => e.marker === '' && hostFieldMatches(e.hosts, name)).map((e) => e.keyType));
  const algos: Record<string, string[]> = {
    'ssh-ed25519': ['ssh-ed25519'], 'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'], 'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
    'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'], 'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
  };
  return [...types].flatMap((t) => algos[t] ?? []);
}

const shortType = (type: string): string => (type === 'ssh-ed25519' ? 'ed25519' : type.startsWith('ecdsa-') ? 'ecdsa' : type === 'ssh-rsa' ? 'rsa' : type);

/**
 * Decide on the key a host offers. Returns the line written to known_hosts when accept-new added
 * one; throws HostKeyError (one line: fingerprint and the line to add or replace) when it is refused.
 */
export function verifyHostKey(label: string, p: HostKeyPolicy, blob: Buffer): { added: string | null } {
  const type = keyTypeOf(blob);
  const fpr = hostKeyFingerprint(blob);
  const name = knownHostName(p.host, p.port);
  const who = `${label} (${name})`;
  if (p.hostKey && p.hostKey !== ACCEPT_NEW) {
    if (fpr === p.hostKey) return { added: null };
    throw new HostKeyError(`host key of ${who} is ${type} ${fpr}, not the pinned ssh.hostKey ${p.hostKey}`);
  }
  const files = knownHostsFiles(p);
  const line = knownHostsLine(name, blob);
  const check = checkHostKey(readKnownHosts(files.read), name, blob);
  switch (check.status) {
    case 'known':
      return { added: null };
    case 'revoked':
      throw new HostKeyError(`host key of ${who}, ${type} ${fpr}, is marked @revoked in ${check.entry.file}:${check.entry.line}`);
    case 'changed': {
      const at = check.entries.map((e) => `${e.file}:${e.line}`).join(', ');
      throw new HostKeyError(`host key of ${who} CHANGED: it offers ${type} ${fpr}, ${at} holds another ${type} key (a reinstalled host, or someone in the middle); if the change is expected, replace that line with: ${line}`);
    }
    case 'unknown': {
      if (p.hostKey === ACCEPT_NEW) {
        try {
          mkdirSync(dirname(files.write), { recursive: true, mode: 0o700 });
          const text = existsSync(files.write) ? readFileSync(files.write, 'utf8') : '';
          appendFileSync(files.write, `${text && !text.endsWith('\n') ? '\n' : ''}${line}\n`, { mode: 0o644 });
        } catch (e) {
          throw new HostKeyError(`accept-new for ${who}: cannot write ${files.write} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
        }
        return { added: line };
      }
      const others = check.otherTypes.length ? ` (known there only with ${check.otherTypes.join(', ')})` : '';
      throw new HostKeyError(`host key of ${who} is not in ${files.read.join(' or ')}${others}: it offers ${type} ${fpr}; if that is the host's key (on the host: ssh-keygen -lf /etc/ssh/ssh_host_${shortType(type)}_key.pub), add this line to ${files.write}: ${line} (or set ssh.hostKey: accept-new to add it on first connection)`);
    }
  }
}
