// QEMU on a lab host reached over SSH (ssh2, lab/transport.ts). Every remote command is an argument
// array that transport.ts quotes element by element, so inventory text is never parsed by the remote
// shell. A remote QEMU runs under a fixed guard script: it prints the PID (we kill by PID on every path
// out) and kills the process itself when the channel's stdin ends, which also happens when the SSH
// connection drops (harness crash, SIGKILL). QMP is reached through a forwarded unix socket
// (direct-streamlocal), and the console and workload files are mirrored into the local run folder by a
// guarded `tail -F`, so the hop logic reads them exactly as it reads a local VM's files.
import { appendFileSync, statSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { basename } from 'node:path';
import type { Duplex } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import type { LabHost } from '../lab/inventory.ts';
import type { ExecResult, SshTransport } from '../lab/transport.ts';
import { archProfile, DEFAULT_ARCH, type GuestArch } from './arch.ts';
import type { QemuBuild } from './builds.ts';
import { InfraError, MissingDependencyError } from './errors.ts';
import type { GuestImage } from './image.ts';
import type { ProcHandle } from './procs.ts';

/**
 * `sh -c GUARD_SCRIPT name argv…`: runs argv in the background with stdin from /dev/null, prints
 * "pid N", kills it with SIGKILL once our stdin (kept on fd 3) reaches EOF, and exits with its status.
 * The text is fixed; inventory values only ever arrive as positional parameters ("$@").
 */
export const GUARD_SCRIPT = [
  'exec 3<&0 </dev/null',
  '"$@" 3<&- &',
  'q=$!',
  'echo "pid $q"',
  '( read -r _ <&3; kill -KILL "$q" 2>/dev/null ) &',
  'g=$!',
  'wait "$q"',
  'rc=$?',
  'kill "$g" 2>/dev/null',
  'exit "$rc"',
].join('\n');

export function guardedArgv(argv: string[]): string[] {
  return ['sh', '-c', GUARD_SCRIPT, 'migcompat-guard', ...argv];
}

/** `env K=V … argv` for the host's environment (as lab/transport.ts does for migcompat). */
export function envArgv(host: LabHost, argv: string[]): string[] {
  const env = Object.entries(host.env).map(([k, v]) => `${k}=${v}`);
  return env.length ? ['env', ...env, ...argv] : argv;
}

/** The QEMU command a host's inventory entry names (default: qemu-system-<its arch>). */
export function hostQemuArgv(host: LabHost): string[] {
  return host.qemu ?? [archProfile(host.arch ?? DEFAULT_ARCH).qemuBinary.replace(/^.*\//, '')];
}

const liveRemote = new Map<string, { host: string; pid: number }>();

/** Remote processes started and not yet seen ending (tests assert this is empty after a case). */
export function liveRemotePids(): { host: string; pid: number }[] {
  return [...liveRemote.values()];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const lastLine = (s: string) => s.trim().split('\n').filter(Boolean).pop() ?? '';

/** A wait status as the guard reports it (128+n for a signal) in the local Tracked's terms. */
function exitStatus(code: number | null, signal?: string): number | string {
  if (code === null) return signal ? `SIG${signal.replace(/^SIG/, '')}` : 'unknown';
  if (code > 128) {
    const name = Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0];
    if (name) return name;
  }
  return code;
}

/** One guarded remote process; `pid` is the remote PID. */
export class RemoteProc implements ProcHandle {
  pid = -1;
  readonly host: string;
  readonly exited: Promise<number | string>;
  private done = false;
  private err = '';
  private readonly key = `${Math.random()}`;

  private constructor(private readonly ch: ClientChannel, private readonly owner: RemoteHost, onStdout?: (b: Buffer) => void) {
    this.host = owner.lab.name;
    ch.on('error', (e: Error) => (this.err += `\n[ssh channel] ${e.message}`));
    ch.stderr.on('data', (d: Buffer) => {
      if (this.err.length < 65536) this.err += d.toString('utf8');
    });
    let status: number | string = 'unknown';
    ch.on('exit', (code: number | null, signal?: string) => (status = exitStatus(code, signal)));
    this.exited = new Promise((resolve) => ch.once('close', () => {
      this.done = true;
      liveRemote.delete(this.key);
      resolve(status);
    }));
    let head = Buffer.alloc(0);
    ch.on('data', (d: Buffer) => {
      if (this.pid >= 0) return onStdout?.(d);
      head = Buffer.concat([head, d]);
      const nl = head.indexOf(10);
      if (nl < 0) return;
      const m = /^pid (\d+)$/.exec(head.subarray(0, nl).toString('latin1'));
      if (m) {
        this.pid = Number(m[1]);
        liveRemote.set(this.key, { host: this.host, pid: this.pid });
      }
      const rest = head.subarray(nl + 1);
      if (rest.length) onStdout?.(rest);
    });
  }

  static async start(owner: RemoteHost, argv: string[], onStdout?: (b: Buffer) => void): Promise<RemoteProc> {
    const ch = await owner.ssh.execStream(owner.lab, guardedArgv(argv));
    const p = new RemoteProc(ch, owner, onStdout);
    const deadline = Date.now() + 15_000;
    while (p.pid < 0) {
      if (p.done) throw new InfraError(`${owner.lab.name}: ${argv[0]} did not start: ${lastLine(p.err) || 'channel closed'}`);
      if (Date.now() > deadline) {
        p.ch.close();
        throw new InfraError(`${owner.lab.name}: no PID from the guard within 15 s`);
      }
      await sleep(20);
    }
    return p;
  }

  hasExited(): boolean {
    return this.done;
  }
  stderr(): string {
    return this.err;
  }

  /** SIGTERM by PID, SIGKILL by PID after graceMs, then end stdin (the guard's own kill) and the channel. */
  async stop(graceMs = 2000): Promise<void> {
    if (this.done) return;
    if (this.pid > 0) {
      await this.owner.exec(['kill', '-TERM', String(this.pid)]).catch(() => null);
      await Promise.race([this.exited, sleep(graceMs)]);
      if (!this.done) await this.owner.exec(['kill', '-KILL', String(this.pid)]).catch(() => null);
    }
    this.ch.end();
    await Promise.race([this.exited, sleep(3000)]);
    if (!this.done) this.ch.close();
    await Promise.race([this.exited, sleep(1000)]);
  }
}

/** A remote file mirrored into a local one by a guarded `tail -c +1 -F`. */
export class RemoteMirror {
  bytes = 0;
  private constructor(readonly remotePath: string, readonly localPath: string, private readonly owner: RemoteHost, private proc: RemoteProc | null = null) {}

  static async start(owner: RemoteHost, remotePath: string, localPath: string): Promise<RemoteMirror> {
    writeFileSync(localPath, '');
    const m = new RemoteMirror(remotePath, localPath, owner);
    m.proc = await RemoteProc.start(owner, ['tail', '-c', '+1', '-F', remotePath], (d) => {
      appendFileSync(localPath, d);
      m.bytes += d.length;
    });
    return m;
  }

  /** Wait until the local copy holds every byte the remote file holds now. */
  async sync(timeoutMs = 5000): Promise<void> {
    const r = await this.owner.exec(['wc', '-c', this.remotePath]);
    const size = Number(r.stdout.trim().split(/\s+/)[0]);
    if (r.code !== 0 || !Number.isFinite(size)) return;
    const deadline = Date.now() + timeoutMs;
    while (this.bytes < size) {
      if (Date.now() > deadline) throw new InfraError(`${this.owner.lab.name}: mirror of ${this.remotePath} stuck at ${this.bytes}/${size} bytes`);
      await sleep(20);
    }
  }

  async stop(): Promise<void> {
    await this.proc?.stop(200);
  }
}

/** One lab host for the duration of a case: its run folder, the guest image pushed there, its QEMU. */
export class RemoteHost {
  readonly runDir: string;
  private image: Promise<{ kernel: string; initrd: string }> | null = null;

  constructor(readonly lab: LabHost, readonly ssh: SshTransport, tag: string) {
    this.runDir = `${lab.workdir}/qemu-${tag}`;
  }

  exec(argv: string[]): Promise<ExecResult> {
    return this.ssh.exec(this.lab, argv);
  }

  private async must(argv: string[]): Promise<ExecResult> {
    const r = await this.exec(argv);
    if (r.code !== 0) throw new InfraError(`${this.lab.name}: ${argv[0]} exited ${r.code}: ${lastLine(r.stderr)}`);
    return r;
  }

  /** The host's QEMU as a build: `qemu/installed` takes whatever it runs, `qemu/x.y.z` must match. */
  async qemuBuild(id: string, arch: GuestArch = this.lab.arch ?? DEFAULT_ARCH): Promise<QemuBuild> {
    const argv = hostQemuArgv(this.lab);
    const r = await this.exec(envArgv(this.lab, [...argv, '--version']));
    const m = /version (\d+\.\d+\.\d+)/.exec(r.stdout);
    if (r.code !== 0 || !m) throw new MissingDependencyError(`${this.lab.name}: '${argv.join(' ')} --version' failed (exit ${r.code}): ${lastLine(r.stderr || r.stdout)}`);
    const version = m[1]!;
    if (id !== 'qemu/installed' && id !== `qemu/${version}`) throw new MissingDependencyError(`${this.lab.name} runs QEMU ${version}, not ${id} (a remote host offers its own QEMU only)`);
    return { id: `qemu/${version}`, version, debVersion: `on ${this.lab.name}`, arch, binary: argv[0]!, args: argv.slice(1), env: {}, installed: true };
  }

  /** Copy the guest image into `<workdir>/image/<key>/` unless it is there already (temp name, then mv). */
  pushImage(img: GuestImage): Promise<{ kernel: string; initrd: string }> {
    this.image ??= (async () => {
      const dir = `${this.lab.workdir}/image/${basename(img.dir)}`;
      await this.must(['mkdir', '-p', dir, this.runDir]);
      const out = { kernel: `${dir}/vmlinuz`, initrd: `${dir}/initrd.cpio.gz` };
      for (const [local, remote] of [[img.kernel, out.kernel], [img.initrd, out.initrd]] as const) {
        const have = await this.exec(['wc', '-c', remote]);
        if (have.code === 0 && Number(have.stdout.trim().split(/\s+/)[0]) === statSync(local).size) continue;
        const tmp = `${remote}.tmp-${process.pid}`;
        await this.ssh.put(this.lab, local, tmp);
        await this.must(['mv', '-f', tmp, remote]);
      }
      return out;
    })();
    return this.image;
  }

  start(argv: string[]): Promise<RemoteProc> {
    return RemoteProc.start(this, envArgv(this.lab, argv));
  }

  openUnix(path: string): Promise<Duplex> {
    return this.ssh.openUnix(this.lab, path);
  }

  mirror(remotePath: string, localPath: string): Promise<RemoteMirror> {
    return RemoteMirror.start(this, remotePath, localPath);
  }

  /** Remove this case's run folder (the image stays cached). */
  async cleanup(): Promise<void> {
    if (this.image) await this.exec(['rm', '-rf', this.runDir]).catch(() => null);
  }
}
