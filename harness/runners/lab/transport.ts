// How the lab reaches its hosts: ssh2 (exec + SFTP) in the lab, or local processes in tests. A
// remote command is always an argument array; over SSH it becomes one string in which every
// argument is single-quoted, so no inventory text is ever interpreted by the remote shell. Every SSH
// host is verified before anything runs on it (known_hosts, a pinned key or accept-new: knownHosts.ts).
import { spawn } from 'node:child_process';
import type { Duplex } from 'node:stream';
import type { ServerHostKeyAlgorithm } from 'ssh2';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LabHost } from './inventory.ts';
import { HostKeyError, preferredAlgorithms, verifyHostKey } from './knownHosts.ts';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface LabTransport {
  exec(host: LabHost, argv: string[]): Promise<ExecResult>;
  get(host: LabHost, remote: string, local: string): Promise<void>;
  put(host: LabHost, local: string, remote: string): Promise<void>;
  close(): Promise<void>;
}

/** POSIX shell quoting of each argument: 'it'\''s' — the remote shell sees exactly argv. */
export function quoteArgv(argv: string[]): string {
  return argv
    .map((a) => {
      if (a.includes('\0')) throw new Error('argument contains NUL');
      return `'${a.replace(/'/g, `'\\''`)}'`;
    })
    .join(' ');
}

/** The full remote argv for a host: env assignments as `env K=V` arguments, then the command. */
export function hostArgv(host: LabHost, args: string[]): string[] {
  const env = Object.entries(host.env).map(([k, v]) => `${k}=${v}`);
  return [...(env.length ? ['env', ...env] : []), ...host.migcompat, ...args];
}

/** Runs each host's commands as local processes (no shell) and copies files locally: for tests. */
export class LocalTransport implements LabTransport {
  exec(_host: LabHost, argv: string[]): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      const p = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      p.on('error', reject);
      p.on('close', (code) => resolve({ code: code ?? 128, stdout, stderr }));
    });
  }
  async get(_host: LabHost, remote: string, local: string): Promise<void> {
    mkdirSync(dirname(local), { recursive: true });
    copyFileSync(remote, local);
  }
  async put(_host: LabHost, local: string, remote: string): Promise<void> {
    mkdirSync(dirname(remote), { recursive: true });
    copyFileSync(local, remote);
  }
  async close(): Promise<void> {}
}

/** ssh2: one connection per host, exec with quoted argv, SFTP for stream files. */
export class SshTransport implements LabTransport {
  private conns = new Map<string, Promise<import('ssh2').Client>>();

  private conn(host: LabHost): Promise<import('ssh2').Client> {
    let c = this.conns.get(host.name);
    if (!c) {
      c = (async () => {
        const { Client } = (await import('ssh2')).default ?? (await import('ssh2'));
        const client = new Client();
        const prefer = preferredAlgorithms(host.ssh) as ServerHostKeyAlgorithm[];
        let refused: HostKeyError | null = null;
        await new Promise<void>((resolve, reject) => {
          client.on('ready', () => resolve()).on('error', (e) => reject(refused ?? e));
          client.connect({
            host: host.ssh.host, port: host.ssh.port, username: host.ssh.user,
            privateKey: host.ssh.key ? readFileSync(host.ssh.key.replace(/^~(?=\/)/, process.env.HOME ?? '~')) : undefined,
            agent: host.ssh.key ? undefined : process.env.SSH_AUTH_SOCK,
            // a host with several keys shows one known_hosts holds (ssh does the same); removed, then put first
            ...(prefer.length ? { algorithms: { serverHostKey: { remove: prefer, prepend: prefer, append: [] } } } : {}),
            hostVerifier: (key: Buffer) => {
              try {
                verifyHostKey(host.name, host.ssh, key);
                return true;
              } catch (e) {
                if (!(e instanceof HostKeyError)) throw e;
                refused = e;
                return false;
              }
            },
          });
        });
        return client;
      })();
      this.conns.set(host.name, c);
    }
    return c;
  }

  /** Connect (and so verify the host key) without running anything: a lab run checks every host first. */
  async connect(host: LabHost): Promise<void> {
    await this.conn(host);
  }

  /** The connected client for a host (qemu lab mode: long-running commands and forwarded sockets). */
  client(host: LabHost): Promise<import('ssh2').Client> {
    return this.conn(host);
  }

  /** Start argv on the host and return its channel (stdin/stdout, `.stderr`, 'exit' and 'close' events). */
  async execStream(host: LabHost, argv: string[]): Promise<import('ssh2').ClientChannel> {
    const client = await this.conn(host);
    return new Promise((resolve, reject) => client.exec(quoteArgv(argv), (err, stream) => (err ? reject(err) : resolve(stream))));
  }

  /** A stream to a unix socket on the host (OpenSSH direct-streamlocal forwarding). */
  async openUnix(host: LabHost, path: string): Promise<Duplex> {
    const client = await this.conn(host);
    return new Promise((resolve, reject) => client.openssh_forwardOutStreamLocal(path, (err, stream) => (err ? reject(err) : resolve(stream))));
  }

  async exec(host: LabHost, argv: string[]): Promise<ExecResult> {
    const client = await this.conn(host);
    return new Promise((resolve, reject) => {
      client.exec(quoteArgv(argv), (err, stream) => {
        if (err) return reject(err);
        let stdout = '';
        let stderr = '';
        stream.on('data', (d: Buffer) => (stdout += d));
        stream.stderr.on('data', (d: Buffer) => (stderr += d));
        stream.on('close', (code: number | null) => resolve({ code: code ?? 128, stdout, stderr }));
      });
    });
  }

  private async sftp(host: LabHost) {
    const client = await this.conn(host);
    return new Promise<import('ssh2').SFTPWrapper>((resolve, reject) => client.sftp((e, s) => (e ? reject(e) : resolve(s))));
  }

  async get(host: LabHost, remote: string, local: string): Promise<void> {
    const s = await this.sftp(host);
    mkdirSync(dirname(local), { recursive: true });
    await new Promise<void>((resolve, reject) => s.fastGet(remote, local, (e) => (e ? reject(e) : resolve())));
    s.end();
  }

  async put(host: LabHost, local: string, remote: string): Promise<void> {
    const s = await this.sftp(host);
    await new Promise<void>((resolve, reject) => s.fastPut(local, remote, (e) => (e ? reject(e) : resolve())));
    s.end();
  }

  async close(): Promise<void> {
    for (const c of this.conns.values()) (await c.catch(() => null))?.end();
    this.conns.clear();
  }
}

/** Local hosts (inventory `local: true`) as local processes, the others over SSH: one transport for a mixed inventory. */
export class HostTransport implements LabTransport {
  private readonly local = new LocalTransport();
  constructor(private readonly ssh: LabTransport = new SshTransport()) {}
  private pick(host: LabHost): LabTransport {
    return host.local ? this.local : this.ssh;
  }
  exec(host: LabHost, argv: string[]): Promise<ExecResult> {
    return this.pick(host).exec(host, argv);
  }
  get(host: LabHost, remote: string, local: string): Promise<void> {
    return this.pick(host).get(host, remote, local);
  }
  put(host: LabHost, local: string, remote: string): Promise<void> {
    return this.pick(host).put(host, local, remote);
  }
  async close(): Promise<void> {
    await this.ssh.close();
  }
}
