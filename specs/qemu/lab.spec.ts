// Lab mode without hardware: a real OpenSSH server on 127.0.0.1 plays a second lab host. The inventory
// names two hosts, "here" (local: true) and "peer" (SSH). A destination on "peer" is started over SSH
// (ssh2, argument arrays), its QMP is reached through a forwarded unix socket, its console and workload
// files are mirrored back, the migration goes over TCP to the peer's migration address, and every
// remote QEMU is killed by PID. VF passthrough has no VF here: its argument arrays are unit-tested.
import { test, expect } from '@playwright/test';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseInventory, type Inventory } from '../../harness/runners/lab/inventory.ts';
import { SshTransport } from '../../harness/runners/lab/transport.ts';
import { ensureImage } from '../../harness/runners/qemu/image.ts';
import { livePids } from '../../harness/runners/qemu/procs.ts';
import { liveRemotePids, RemoteHost } from '../../harness/runners/qemu/remote.ts';
import { QemuRunner } from '../../harness/runners/qemu/runner.ts';
import { judge } from '../../harness/oracle/judge.ts';
import { DEFAULT_DEVICE } from '../../harness/device/mmio.ts';
import type { CaseSpec } from '../../harness/runners/types.ts';
import { startSshd, type TestSshd } from './sshd.ts';

test.describe.configure({ mode: 'serial' });

let sshd: TestSshd;
let work: string;

let knownHosts: string;

test.beforeAll(async () => {
  sshd = await startSshd();
  work = mkdtempSync(join(tmpdir(), 'mclab-'));
  // the peer is verified the default way, against a known_hosts file (never the real ~/.ssh)
  knownHosts = join(work, '..', `${basename(work)}-known_hosts`);
  writeFileSync(knownHosts, `${sshd.knownHostsLines['ssh-ed25519']}\n`);
});

test.afterAll(async () => {
  await sshd?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
  if (knownHosts) rmSync(knownHosts, { force: true });
});

/** The two-host inventory; with `hostKey` the peer's key is pinned, else known_hosts decides. */
const inventory = (hostKey?: string): Inventory => parseInventory(`
hosts:
  - name: here
    local: true
    kernel: harness
    vfs: [0000:7a:01.1]
  - name: peer
    ssh: { host: 127.0.0.1, port: ${sshd.port}, user: root, key: ${sshd.clientKey}, ${hostKey ? `hostKey: "${hostKey}"` : `knownHosts: ${knownHosts}`} }
    kernel: peer
    vfs: [0000:7a:02.1, 0000:7a:02.2]
    workdir: ${work}
    qemu: [qemu-system-x86_64]
`, 'test inventory');

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

const labCase = (c: Partial<CaseSpec>): CaseSpec => ({
  src: 'qemu/installed@here', dst: 'qemu/installed@peer', workload: 'kernel-crypto', scenario: 'single-hop', transfer: 'tcp',
  device: DEFAULT_DEVICE, requests: 0, inflight: 0, requestSize: 0, seed: 1, ...c,
});

/** Timeline notes of the VMs a case started: host, pid, name. */
const starts = (tl: { detail: Record<string, unknown> }[]) =>
  tl.filter((e) => typeof e.detail.started === 'string').map((e) => ({ name: e.detail.started as string, host: e.detail.host as string, pid: e.detail.pid as number }));

test('ssh transport: pinned host key, verbatim arguments, a guarded remote process ends by PID and when the connection drops', async () => {
  const peer = inventory(sshd.hostKeyFingerprint).hosts[1]!;
  const t = new SshTransport();
  try {
    const hostile = [`a'b`, '$(id -u)', '; echo pwned', '"q" `x`', '*', 'two words'];
    const r = await t.exec(peer, ['printf', '%s\\n', ...hostile]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(hostile.map((a) => `${a}\n`).join(''));

    const rh = new RemoteHost(peer, t, 'guard');
    const p1 = await rh.start(['sleep', '300']);
    expect(p1.pid).toBeGreaterThan(1);
    expect(alive(p1.pid)).toBe(true);
    expect(liveRemotePids()).toContainEqual({ host: 'peer', pid: p1.pid });
    await p1.stop(1000);
    expect(await p1.exited).toBe('SIGTERM');
    expect(alive(p1.pid)).toBe(false);

    const p2 = await rh.start(['sleep', '300']);
    expect(alive(p2.pid)).toBe(true);
    await t.close(); // the harness vanishing: the guard sees EOF and kills its process
    expect(await until(() => !alive(p2.pid), 5000)).toBe(true);
    expect(await p2.exited).not.toBe(0);
    expect(liveRemotePids()).toEqual([]);
  } finally {
    await t.close();
  }
  const wrong = inventory(`SHA256:${'A'.repeat(43)}`).hosts[1]!;
  const t2 = new SshTransport();
  await expect(t2.exec(wrong, ['true'])).rejects.toThrow(`is ssh-ed25519 ${sshd.hostKeyFingerprint}, not the pinned ssh.hostKey SHA256:${'A'.repeat(43)}`);
  await t2.close();
});

test('lab: ping-pong between the harness host and an SSH host, migration over TCP, the workload goes on', async () => {
  const image = await ensureImage();
  const r = await new QemuRunner({ dir: test.info().outputPath('ping-pong'), inventory: inventory() }).runCase(labCase({ scenario: 'ping-pong' }));
  const verdict = judge(r.evidence);
  expect(verdict.outcome, `${verdict.reason}\n${JSON.stringify(r.evidence.checks, null, 1)}`).toBe('migrated');
  expect(r.hops.map((h) => h.outcome)).toEqual(['migrated', 'migrated', 'migrated']);
  for (const h of r.hops) {
    expect(h.dstFirstIter).toBe(h.srcLastIter + 1);
    expect(h.figures.transferredBytes).toBeGreaterThan(10 << 20);
  }
  const vms = starts(r.evidence.timeline);
  expect(vms.map((v) => `${v.name}@${v.host}`)).toEqual(['vm0@here', 'vm1@peer', 'vm2@here', 'vm3@peer']);
  const uris = r.evidence.timeline.filter((e) => typeof e.detail.migrate === 'string').map((e) => e.detail.migrate as string);
  expect(uris).toHaveLength(3);
  for (const u of uris) expect(u).toMatch(/^tcp:127\.0\.0\.1:\d+$/);
  // the peer's QEMUs were not children of this process, and they are gone by PID
  const remote = vms.filter((v) => v.host === 'peer').map((v) => v.pid);
  for (const pid of remote) {
    expect(livePids()).not.toContain(pid);
    expect(alive(pid), `remote QEMU ${pid}`).toBe(false);
  }
  expect(liveRemotePids()).toEqual([]);
  expect(livePids()).toEqual([]);
  // the image went to the peer's workdir by SFTP; the case's remote run folder was removed
  expect(existsSync(join(work, 'image', basename(image.dir), 'initrd.cpio.gz'))).toBe(true);
  expect(readdirSync(work)).toEqual(['image']);
  expect(r.evidence.checks.find((c) => c.name === 'workload-results')?.ok).toBe(true);
  await test.info().attach('evidence.json', { body: JSON.stringify({ ...r.evidence, stream: null }, null, 1), contentType: 'application/json' });
});

test('lab: a destination on the SSH host with another machine type is refused (its exit status comes back), the retry there migrates', async () => {
  const r = await new QemuRunner({ dir: test.info().outputPath('retry'), inventory: inventory() }).runCase(labCase({
    scenario: 'retry-after-refusal', dst: 'qemu/installed@peer+machine=pc-q35-6.2', retryDst: 'qemu/installed@peer',
  }));
  const [refused, retried] = r.hops;
  expect(refused?.outcome, refused?.reason).toBe('refused');
  expect(refused!.dstExit).toBe(1);
  expect(refused!.dstStderr).toMatch(/Machine type received is 'pc-q35-7.2' and local is 'pc-q35-6.2'/);
  expect(refused!.srcStatus).toBe('running');
  expect(retried?.outcome, retried?.reason).toBe('migrated');
  expect(judge(r.evidence).outcome).toBe('migrated');
  expect(r.evidence.guestOn).toBe('dst');
  expect(liveRemotePids()).toEqual([]);
  expect(livePids()).toEqual([]);
});
