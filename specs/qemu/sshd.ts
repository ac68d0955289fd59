// A throwaway OpenSSH server for the lab specs: 127.0.0.1 on a free port, host keys and an
// authorized client key generated in a temp folder, every setting given with -o over an empty config
// (-f /dev/null), so no system configuration is read or changed. The only system-side need is the
// privilege-separation folder /run/sshd that sshd requires when started as root (created if missing,
// as the openssh-server service would). Stopped by PID.
import { freePort } from '../../harness/runners/qemu/hop.ts';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SSHD = '/usr/sbin/sshd';

export interface TestSshd {
  port: number;
  pid: number;
  dir: string;
  /** the client's private key (for the inventory's ssh.key) */
  clientKey: string;
  /** the (first) host key's fingerprint (for the inventory's ssh.hostKey), as ssh-keygen -lf prints it */
  hostKeyFingerprint: string;
  /** known_hosts line of each host key by type ("[127.0.0.1]:PORT ssh-ed25519 AAAA…"), as ssh-keyscan prints it */
  knownHostsLines: Record<string, string>;
  stderr(): string;
  stop(): Promise<void>;
}

/** `hostKeys`: the types of host key sshd holds (default: one ed25519 key); the client picks among them. */
export async function startSshd(config: { hostKeys?: ('ed25519' | 'ecdsa' | 'rsa')[] } = {}): Promise<TestSshd> {
  if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing: install openssh-server (listed in .ci/apt-packages.txt; \`npm test\` installs it as root)`);
  const dir = mkdtempSync(join(tmpdir(), 'mcsshd-'));
  const keygen = (file: string, type = 'ed25519') => execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', 'migcompat-test', '-f', file], { stdio: 'ignore' });
  const hostKeys = config.hostKeys ?? ['ed25519'];
  for (const t of hostKeys) keygen(join(dir, `host_${t}`), t);
  keygen(join(dir, 'client_ed25519'));
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_ed25519.pub')), { mode: 0o600 });
  const fpr = /(SHA256:\S+)/.exec(execFileSync('ssh-keygen', ['-l', '-f', join(dir, `host_${hostKeys[0]}.pub`)], { encoding: 'utf8' }))?.[1];
  if (!fpr) throw new Error('ssh-keygen printed no fingerprint');
  if (process.getuid?.() === 0 && !existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755 });
  const port = await freePort();
  const opts = [
    `Port=${port}`, 'ListenAddress=127.0.0.1', ...hostKeys.map((t) => `HostKey=${join(dir, `host_${t}`)}`), `AuthorizedKeysFile=${join(dir, 'authorized_keys')}`,
    'PidFile=none', 'StrictModes=no', 'UsePAM=no', 'PermitRootLogin=prohibit-password', 'PasswordAuthentication=no',
    'KbdInteractiveAuthentication=no', 'Subsystem=sftp internal-sftp', 'AllowTcpForwarding=yes', 'AllowStreamLocalForwarding=yes',
    'MaxSessions=32', 'LogLevel=ERROR',
  ];
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', '/dev/null', ...opts.flatMap((o) => ['-o', o])], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  let exited = false;
  const gone = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));
  const pid = child.pid!;
  const stop = async () => {
    if (!exited) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
      if (!exited) process.kill(pid, 'SIGKILL');
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // ready when the port answers with an SSH banner
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`sshd exited: ${err.trim()}`);
    }
    const banner = await new Promise<string>((resolve) => {
      const s = createConnection(port, '127.0.0.1');
      let b = '';
      s.on('data', (d: Buffer) => {
        b += d.toString();
        s.destroy();
        resolve(b);
      });
      s.on('error', () => resolve(''));
      s.setTimeout(1000, () => (s.destroy(), resolve('')));
    });
    if (banner.startsWith('SSH-2.0')) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`sshd on port ${port} did not answer: ${err.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const knownHostsLines = Object.fromEntries(hostKeys.map((t) => {
    const [type, blob] = readFileSync(join(dir, `host_${t}.pub`), 'utf8').trim().split(/\s+/);
    return [type!, `[127.0.0.1]:${port} ${type} ${blob}`];
  }));
  return { port, pid, dir, clientKey: join(dir, 'client_ed25519'), hostKeyFingerprint: fpr, knownHostsLines, stderr: () => err, stop };
}
