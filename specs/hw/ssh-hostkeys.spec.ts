// SSH hosts verified: the lab's ssh2 transport against a real OpenSSH server on 127.0.0.1 (the qemu
// specs' throwaway sshd). known_hosts files are written the way OpenSSH writes them (ssh-keyscan,
// ssh-keygen -H) and checked back with ssh-keygen -F; every file is a temp file named by the
// inventory's ssh.knownHosts or MIGCOMPAT_KNOWN_HOSTS, and the real ~/.ssh is never touched.
import { test, expect } from '@playwright/test';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { parseInventory, type LabHost } from '../../harness/runners/lab/inventory.ts';
import { HostKeyError, checkHostKey, hostFieldMatches, knownHostName, parseKnownHosts } from '../../harness/runners/lab/knownHosts.ts';
import { SshTransport } from '../../harness/runners/lab/transport.ts';
import { startSshd, type TestSshd } from '../qemu/sshd.ts';

test.describe.configure({ mode: 'serial' });

let sshd: TestSshd;
let dir: string;
let ed25519: string; // the server's known_hosts line, from ssh-keyscan
const realKnownHosts = join(homedir(), '.ssh', 'known_hosts');
const stamp = () => (existsSync(realKnownHosts) ? `${statSync(realKnownHosts).mtimeMs}:${statSync(realKnownHosts).size}` : 'absent');
let before: string;

test.beforeAll(async () => {
  before = stamp();
  sshd = await startSshd();
  dir = mkdtempSync(join(tmpdir(), 'mc-knownhosts-'));
  ed25519 = execFileSync('ssh-keyscan', ['-p', String(sshd.port), '-t', 'ed25519', '127.0.0.1'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
});

test.afterAll(async () => {
  await sshd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  expect(stamp()).toBe(before); // the real known_hosts was neither created nor changed
});

/** A lab host for the test sshd; `knownHosts: null` leaves the field out (the environment or the default decides). */
function host(o: { knownHosts?: string | null; hostKey?: string } = {}): LabHost {
  const ssh = [`host: 127.0.0.1`, `port: ${sshd.port}`, `user: ${userInfo().username}`, `key: ${sshd.clientKey}`,
    ...(o.knownHosts === null ? [] : [`knownHosts: ${o.knownHosts ?? join(dir, 'none')}`]), ...(o.hostKey ? [`hostKey: "${o.hostKey}"`] : [])];
  return parseInventory(`hosts:\n  - name: peer\n    ssh: { ${ssh.join(', ')} }\n    kernel: k\n    vfs: [0000:7a:02.1]\n`, 'test inventory').hosts[0]!;
}

async function connect(h: LabHost): Promise<string> {
  const t = new SshTransport();
  try {
    const r = await t.exec(h, ['echo', 'in']);
    return `${r.code} ${r.stdout.trim()}`;
  } finally {
    await t.close();
  }
}

async function refusal(h: LabHost): Promise<string> {
  const t = new SshTransport();
  try {
    await t.exec(h, ['true']);
  } catch (e) {
    expect(e).toBeInstanceOf(HostKeyError);
    return (e as Error).message;
  } finally {
    await t.close();
  }
  throw new Error('the connection was not refused');
}

const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

/** Another ed25519 key, in a known_hosts line for this server's name: what a reinstalled host looks like. */
function otherKeyLine(name = `[127.0.0.1]:${sshd.port}`): string {
  const k = join(mkdtempSync(join(dir, 'otherkey-')), 'k');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', k], { stdio: 'ignore' });
  const [type, blob] = readFileSync(`${k}.pub`, 'utf8').split(' ');
  return `${name} ${type} ${blob}`;
}

test('the fixture agrees with ssh-keyscan', () => {
  expect(ed25519).toBe(sshd.knownHostsLines['ssh-ed25519']);
});

test('known: a plain line (ssh-keyscan) and a hashed one (ssh-keygen -H) both let the connection through', async () => {
  expect(await connect(host({ knownHosts: file('plain', `# lab hosts\n${otherKeyLine('other.example')}\n${ed25519}\n`) }))).toBe('0 in');
  const hashed = file('hashed', `${ed25519}\n`);
  execFileSync('ssh-keygen', ['-q', '-H', '-f', hashed], { stdio: 'ignore' });
  const text = readFileSync(hashed, 'utf8');
  expect(text).toMatch(/^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+ ssh-ed25519 /);
  expect(text).not.toContain('127.0.0.1');
  expect(await connect(host({ knownHosts: hashed }))).toBe('0 in');
});

test('unknown: refused with the fingerprint ssh-keygen prints and the exact line; that line, added, lets it through', async () => {
  const text = `${otherKeyLine('[127.0.0.1]:1')}\n`;
  const kh = file('unknown', text);
  const msg = await refusal(host({ knownHosts: kh }));
  expect(msg).toContain(`host key of peer ([127.0.0.1]:${sshd.port}) is not in ${kh}: it offers ssh-ed25519 ${sshd.hostKeyFingerprint};`);
  expect(msg).toContain(`add this line to ${kh}: ${ed25519} (or set ssh.hostKey: accept-new`);
  expect(msg).not.toContain('\n');
  expect(readFileSync(kh, 'utf8')).toBe(text); // nothing written
  const line = / add this line to \S+: (.+) \(or set/.exec(msg)![1]!;
  writeFileSync(kh, `${readFileSync(kh, 'utf8')}${line}\n`);
  expect(await connect(host({ knownHosts: kh }))).toBe('0 in');
  // no file at all: refused the same way, and no file appears
  const none = join(dir, 'missing', 'known_hosts');
  expect(await refusal(host({ knownHosts: none }))).toContain(`is not in ${none}: it offers ssh-ed25519 ${sshd.hostKeyFingerprint}`);
  expect(existsSync(none)).toBe(false);
});

test('changed: another key for this host is refused with both places named, and the file is left alone', async () => {
  const text = `${otherKeyLine('other.example')}\n${otherKeyLine()}\n`;
  const kh = file('changed', text);
  const msg = await refusal(host({ knownHosts: kh }));
  expect(msg).toBe(`host key of peer ([127.0.0.1]:${sshd.port}) CHANGED: it offers ssh-ed25519 ${sshd.hostKeyFingerprint}, ${kh}:2 holds another ssh-ed25519 key (a reinstalled host, or someone in the middle); if the change is expected, replace that line with: ${ed25519}`);
  expect(readFileSync(kh, 'utf8')).toBe(text);
  // accept-new does not paper over a change either
  expect(await refusal(host({ knownHosts: kh, hostKey: 'accept-new' }))).toMatch(/CHANGED/);
  expect(readFileSync(kh, 'utf8')).toBe(text);
});

test('accept-new: the first connection writes the line (ssh-keygen -F finds it), later ones verify against it', async () => {
  const kh = join(dir, 'new', 'known_hosts');
  expect(await connect(host({ knownHosts: kh, hostKey: 'accept-new' }))).toBe('0 in');
  expect(readFileSync(kh, 'utf8')).toBe(`${ed25519}\n`);
  const found = spawnSync('ssh-keygen', ['-F', `[127.0.0.1]:${sshd.port}`, '-f', kh], { encoding: 'utf8' });
  expect(found.status).toBe(0);
  expect(found.stdout).toContain(ed25519);
  // the default policy now knows the host; a second accept-new adds nothing
  expect(await connect(host({ knownHosts: kh }))).toBe('0 in');
  expect(await connect(host({ knownHosts: kh, hostKey: 'accept-new' }))).toBe('0 in');
  expect(readFileSync(kh, 'utf8')).toBe(`${ed25519}\n`);
});

test('a pinned SHA256 fingerprint decides alone; a wrong one is refused with the key offered', async () => {
  expect(await connect(host({ hostKey: sshd.hostKeyFingerprint }))).toBe('0 in'); // known_hosts file absent
  const wrong = `SHA256:${'A'.repeat(43)}`;
  expect(await refusal(host({ hostKey: wrong, knownHosts: file('pinned', `${ed25519}\n`) })))
    .toBe(`host key of peer ([127.0.0.1]:${sshd.port}) is ssh-ed25519 ${sshd.hostKeyFingerprint}, not the pinned ssh.hostKey ${wrong}`);
});

test('MIGCOMPAT_KNOWN_HOSTS moves the default file; the inventory field wins over it', async () => {
  const env = file('env', `${ed25519}\n`);
  const saved = process.env.MIGCOMPAT_KNOWN_HOSTS;
  process.env.MIGCOMPAT_KNOWN_HOSTS = env;
  try {
    expect(await connect(host({ knownHosts: null }))).toBe('0 in');
    expect(await refusal(host({ knownHosts: file('empty', '') }))).toMatch(/is not in .*empty: it offers/);
    process.env.MIGCOMPAT_KNOWN_HOSTS = join(dir, 'env-new');
    expect(await connect(host({ knownHosts: null, hostKey: 'accept-new' }))).toBe('0 in');
    expect(readFileSync(join(dir, 'env-new'), 'utf8')).toBe(`${ed25519}\n`);
  } finally {
    if (saved === undefined) delete process.env.MIGCOMPAT_KNOWN_HOSTS;
    else process.env.MIGCOMPAT_KNOWN_HOSTS = saved;
  }
});

test('@revoked: a revoked key is refused even where another line knows it', async () => {
  const kh = file('revoked', `${ed25519}\n@revoked * ${ed25519.split(' ').slice(1).join(' ')}\n`);
  expect(await refusal(host({ knownHosts: kh }))).toBe(`host key of peer ([127.0.0.1]:${sshd.port}), ssh-ed25519 ${sshd.hostKeyFingerprint}, is marked @revoked in ${kh}:2`);
});

test('a host with several keys is asked for the type known_hosts holds', async () => {
  const multi = await startSshd({ hostKeys: ['ed25519', 'ecdsa'] });
  try {
    const ecdsa = multi.knownHostsLines['ecdsa-sha2-nistp256']!;
    const kh = file('multi', `${ecdsa}\n`);
    const h = { ...host({ knownHosts: kh }), ssh: { ...host().ssh, port: multi.port, key: multi.clientKey, knownHosts: kh } };
    expect(await connect(h)).toBe('0 in'); // ssh2 alone would ask for ed25519 first, which this file does not hold
  } finally {
    await multi.stop();
  }
});

test('known_hosts lines: host patterns, negation, hashed names, ports, markers', () => {
  expect(knownHostName('Lab-A.example', 22)).toBe('lab-a.example');
  expect(knownHostName('10.0.0.2', 2222)).toBe('[10.0.0.2]:2222');
  expect(hostFieldMatches('*.lab,!bad.lab', 'good.lab')).toBe(true);
  expect(hostFieldMatches('*.lab,!bad.lab', 'bad.lab')).toBe(false);
  expect(hostFieldMatches('[10.0.0.?]:2222', '[10.0.0.7]:2222')).toBe(true);
  expect(hostFieldMatches('10.0.0.7', '[10.0.0.7]:2222')).toBe(false); // another port is another entry
  expect(hostFieldMatches('LAB-A.example', 'lab-a.example')).toBe(true);
  // a hashed name from ssh-keygen -H matches that name only
  const kh = file('hash-unit', 'lab-a.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDkq\n');
  execFileSync('ssh-keygen', ['-q', '-H', '-f', kh], { stdio: 'ignore' });
  const hashed = readFileSync(kh, 'utf8').split(' ')[0]!;
  expect([hostFieldMatches(hashed, 'lab-a.example'), hostFieldMatches(hashed, 'lab-b.example')]).toEqual([true, false]);
  const entries = parseKnownHosts('# c\n\n@cert-authority *.lab ssh-ed25519 AAAA\nhalf-line\nh ssh-rsa AAAB x y\n', 'f');
  expect(entries.map((e) => [e.line, e.marker, e.hosts, e.keyType])).toEqual([[3, '@cert-authority', '*.lab', 'ssh-ed25519'], [5, '', 'h', 'ssh-rsa']]);
  // a CA line is not a host key: the host stays unknown
  expect(checkHostKey(entries, 'x.lab', Buffer.from('AAAA', 'base64')).status).toBe('unknown');
});

test('inventory: ssh.hostKey is a SHA256 fingerprint or accept-new, ssh.knownHosts a path', () => {
  const inv = (ssh: string) => parseInventory(`hosts:\n  - name: a\n    ssh: { host: 10.0.0.1${ssh} }\n    kernel: k\n    vfs: [0000:75:00.1]\n`, 'lab.yaml').hosts[0]!.ssh;
  expect(inv('')).toEqual({ host: '10.0.0.1', user: 'root', port: 22, key: undefined });
  expect(inv(', hostKey: accept-new, knownHosts: ~/lab_known_hosts')).toMatchObject({ hostKey: 'accept-new', knownHosts: '~/lab_known_hosts' });
  expect(inv(`, hostKey: "SHA256:${'a'.repeat(43)}"`).hostKey).toBe(`SHA256:${'a'.repeat(43)}`);
  expect(() => inv(', hostKey: yes')).toThrow("lab.yaml: hosts[0].ssh.hostKey: expected a fingerprint like SHA256:<43 base64 characters> (ssh-keygen -lf) or accept-new, got \"yes\"");
  expect(() => inv(', knownHosts: ""')).toThrow('lab.yaml: hosts[0].ssh.knownHosts: expected a non-empty one-line string, got ""');
});

test('migcompat lab: an unknown host is one line and exit 2 before anything runs on any host', () => {
  const out = join(dir, 'lab-out');
  const inv = file('lab.yaml', [
    'hosts:',
    `  - name: peer`, `    ssh: { host: 127.0.0.1, port: ${sshd.port}, user: ${userInfo().username}, key: ${sshd.clientKey}, knownHosts: ${join(dir, 'lab-empty')} }`,
    `    kernel: k`, `    vfs: [0000:7a:02.1]`, `    migcompat: [touch, ${join(dir, 'ran')}]`,
  ].join('\n') + '\n');
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'harness/cli/main.ts', 'lab', inv, '--out', out], { encoding: 'utf8' });
  expect(r.status).toBe(2);
  expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^migcompat: host key of peer \\(\\[127\\.0\\.0\\.1\\]:${sshd.port}\\) is not in .*lab-empty: it offers ssh-ed25519 ${sshd.hostKeyFingerprint.replace(/[+/]/g, '\\$&')};`))]);
  expect(existsSync(join(dir, 'ran'))).toBe(false);
  expect(existsSync(out)).toBe(false);
});
