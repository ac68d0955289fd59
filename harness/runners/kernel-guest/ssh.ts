// The kernel guest as an SSH lab host: the host's own OpenSSH server (/usr/sbin/sshd, read through
// the 9p share) started inside the guest on port 22, reached through QEMU's user-mode network on a
// forwarded 127.0.0.1 port. Keys are generated on the host for this boot only; every sshd setting is
// given with -o over an empty config, so no configuration file of either machine is read or
// changed. A lab inventory then lists the guest's mdev devices as hosts, and `migcompat lab` drives
// migcompat inside the guest over SSH exactly as it drives a lab host.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { parseInventory, type Inventory } from '../lab/inventory.ts';
import { MissingDependencyError } from '../qemu/errors.ts';
import { requireProgram } from '../../util/debian.ts';
import { schemaLine } from '../../util/yamlSchema.ts';
import { GuestFailure, REPO_ROOT, type KernelGuest } from './guest.ts';

const SSHD = '/usr/sbin/sshd';
const GUEST_DIR = '/tmp/migcompat-sshd';

export interface GuestSsh {
  port: number;
  /** the client's private key on the host (the inventory's ssh.key) */
  clientKey: string;
  /** the guest sshd's host key (the inventory's ssh.hostKey) */
  hostKeyFingerprint: string;
}

function banner(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = createConnection(port, '127.0.0.1');
    let b = '';
    s.on('data', (d: Buffer) => {
      b += d.toString();
      if (b.includes('\n')) (s.destroy(), resolve(b));
    });
    s.on('error', () => resolve(''));
    s.on('close', () => resolve(b));
    s.setTimeout(3000, () => (s.destroy(), resolve(b)));
  });
}

/** Start sshd in a guest booted with `sshPort`; resolves once the forwarded port answers with an SSH banner. */
export async function startGuestSshd(guest: KernelGuest, dir: string, timeoutMs = 60_000): Promise<GuestSsh> {
  const port = guest.opts.sshPort;
  if (!port) throw new MissingDependencyError('the kernel guest was booted without a network (sshPort)');
  requireProgram(SSHD, 'openssh-server');
  const keys = join(dir, 'ssh');
  rmSync(keys, { recursive: true, force: true }); // fresh keys for every boot
  mkdirSync(keys, { recursive: true });
  const keygen = (f: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'migcompat-kernel-guest', '-f', join(keys, f)], { stdio: 'ignore' });
  keygen('host_ed25519');
  keygen('client_ed25519');
  const fpr = /(SHA256:\S+)/.exec(execFileSync('ssh-keygen', ['-l', '-f', join(keys, 'host_ed25519.pub')], { encoding: 'utf8' }))?.[1];
  if (!fpr) throw new MissingDependencyError('ssh-keygen printed no fingerprint');
  await guest.writeFile(`${GUEST_DIR}/host_ed25519`, readFileSync(join(keys, 'host_ed25519')), 0o600);
  await guest.writeFile(`${GUEST_DIR}/authorized_keys`, readFileSync(join(keys, 'client_ed25519.pub')), 0o600);
  // sshd started as root wants its privilege-separation folder (/run is a tmpfs in the guest)
  const mk = await guest.exec(['/bin/mkdir', '-p', '-m', '0755', '/run/sshd']);
  if (mk.code !== 0) throw new GuestFailure('error', `mkdir /run/sshd in the guest: ${mk.stderr.trim()}`, guest.excerpt());
  const opts = [
    'Port=22', 'ListenAddress=0.0.0.0', `HostKey=${GUEST_DIR}/host_ed25519`, `AuthorizedKeysFile=${GUEST_DIR}/authorized_keys`,
    'PidFile=none', 'StrictModes=no', 'UsePAM=no', 'PermitRootLogin=prohibit-password', 'PasswordAuthentication=no',
    'KbdInteractiveAuthentication=no', 'Subsystem=sftp internal-sftp', 'UseDNS=no', 'MaxSessions=32', 'LogLevel=ERROR',
  ];
  await guest.spawn([SSHD, '-D', '-e', '-f', '/dev/null', ...opts.flatMap((o) => ['-o', o])], `${GUEST_DIR}/sshd.log`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (/^SSH-2\.0-/.test(await banner(port))) break;
    if (!guest.alive() || Date.now() > deadline) {
      const log = await guest.readFile(`${GUEST_DIR}/sshd.log`).then((b) => Buffer.from(b).toString().trim(), () => '');
      throw new GuestFailure('error', `sshd in the guest did not answer on 127.0.0.1:${port}${log ? `: ${log.split('\n').pop()}` : ''}`, guest.excerpt());
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { port, clientKey: join(keys, 'client_ed25519'), hostKeyFingerprint: fpr };
}

/**
 * A lab inventory whose hosts are the guest's mdev devices (one device per host, all reached over
 * the same SSH login), written to `file` as a user would write it, and read back through the
 * inventory's own validation.
 */
export function guestInventory(guest: KernelGuest, ssh: GuestSsh, devices: { name: string; device: string }[], file: string, corpus?: string): Inventory {
  const lines = [schemaLine('lab-inventory', file), '# the kernel guest as lab hosts (written by migcompat kernel-guest lab)', 'hosts:'];
  for (const d of devices) {
    lines.push(
      `  - name: ${d.name}`,
      `    ssh: { host: 127.0.0.1, port: ${ssh.port}, user: root, key: ${ssh.clientKey}, hostKey: "${ssh.hostKeyFingerprint}" }`,
      `    kernel: ${guest.hello.kernelRelease}`,
      `    vfs: [${d.device}]`,
      `    migcompat: [${process.execPath}, ${join(REPO_ROOT, 'bin/migcompat.js')}]`,
      `    workdir: /tmp/lab-${d.name}`,
      // an SSH login starts in ~: name the repository's tsconfig so tsx finds the compile cache the host filled
      `    env: { MIGCOMPAT_CACHE: /tmp/migcompat-cache, MIGCOMPAT_LOCK_DIR: /tmp/migcompat-locks, TSX_TSCONFIG_PATH: ${join(REPO_ROOT, 'tsconfig.json')} }`,
    );
  }
  if (corpus) lines.push(`corpus: ${corpus}`);
  const text = lines.join('\n') + '\n';
  writeFileSync(file, text);
  return parseInventory(text, file);
}
