// One running kernel guest: QEMU under TCG (never KVM: it opens on these hosts but hangs guests),
// the guest's console in a file, QMP, and the agent's virtio-serial channel. Boot is bounded and
// watched: a guest that never greets, a FATAL step in /init, an oops or panic is an `error`; a soft
// lockup, an RCU stall, a hung task or a request that never gets an answer is a `hang`. Both carry
// an excerpt of the console. The QEMU process is tracked by PID and ended on every way out.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../util/usage-error.ts';
import { installedBuild, type QemuBuild } from '../qemu/builds.ts';
import { startTracked, type ProcHandle } from '../qemu/procs.ts';
import { QmpClient } from '../qemu/qmp.ts';
import { socketPath } from '../qemu/vm.ts';
import type { KernelGuestImage } from './image.ts';
import { AGENT_PORT, type ExecResult, type Hello, type RequestBody, type Response } from './protocol.ts';

/** The repository the guest runs migcompat from (through the read-only share of the host's /). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface MdevSpec {
  /** mdev type as sysfs names it, e.g. mtty-1 */
  type: string;
  uuid: string;
}

/** Two single-port instances (source, destination) and a dual-port one (a device of another type). */
export const DEFAULT_MDEVS: MdevSpec[] = [
  { type: 'mtty-1', uuid: '6e1e0c3a-4c34-4b8e-9a51-000000000001' },
  { type: 'mtty-1', uuid: '6e1e0c3a-4c34-4b8e-9a51-000000000002' },
  { type: 'mtty-2', uuid: '6e1e0c3a-4c34-4b8e-9a51-000000000003' },
];

/** "mtty-1:UUID" as the CLI takes it. */
export function parseMdevSpec(text: string): MdevSpec {
  const m = /^([a-z0-9_-]+):([0-9a-f-]{36})$/.exec(text.trim().toLowerCase());
  if (!m || !UUID_RE.test(m[2]!)) throw new UsageError(`--mdev '${text}': expected TYPE:UUID, e.g. mtty-1:6e1e0c3a-4c34-4b8e-9a51-000000000001`);
  return { type: m[1]!, uuid: m[2]! };
}

export interface BootOptions {
  image: KernelGuestImage;
  /** run folder: console.log and the QEMU command line land here */
  dir: string;
  mdevs: MdevSpec[];
  memMiB?: number;
  /** bound on the whole boot, QEMU start to the agent's greeting */
  bootTimeoutMs?: number;
  /** more kernel command-line words (tests use it to break a boot on purpose) */
  extraAppend?: string[];
  /** a user-mode network whose only way in is this host port, forwarded to the guest's port 22 (ssh.ts) */
  sshPort?: number;
  build?: QemuBuild;
  log?: (s: string) => void;
}

/** Milliseconds from QEMU's start to each boot stage (null when the stage was not seen). */
export interface BootTimes {
  init: number | null;
  modules: number | null;
  agentStart: number | null;
  ready: number;
}

export type GuestOutcome = 'error' | 'hang';

/** The guest failed: `error` (did not boot, crashed) or `hang` (lockup, no answer); never a device verdict. */
export class GuestFailure extends Error {
  override name = 'GuestFailure';
  constructor(readonly outcome: GuestOutcome, readonly what: string, readonly excerpt: string) {
    super(`${outcome}: ${what}\n--- kernel guest console (last lines) ---\n${excerpt || '(empty)'}`);
  }
}

const HANG = /(soft lockup|rcu_\w+ (self-)?detected stall|rcu: INFO: .*stall|blocked for more than \d+ seconds|hung_task)/;
const CRASH = /(MIGCOMPAT: FATAL|Kernel panic|BUG: |Oops|general protection fault|kernel BUG at|RIP: 0010:|Call Trace:)/;

/** What the console says went wrong, if anything: a lockup is a hang; an oops, a panic or a FATAL step an error. */
export function classifyConsole(text: string): { outcome: GuestOutcome; line: string } | null {
  const lines = text.split('\n');
  const hang = lines.find((l) => HANG.test(l));
  if (hang) return { outcome: 'hang', line: hang.trim() };
  const crash = lines.find((l) => CRASH.test(l));
  return crash ? { outcome: 'error', line: crash.trim() } : null;
}

/** The last `n` lines of the console, without control characters. */
export function consoleExcerpt(text: string, n = 30): string {
  return text.replace(/\r/g, '').replace(/[^\n\t\x20-\x7e]/g, '').trimEnd().split('\n').slice(-n).join('\n');
}

const SAFE_PATH = /^\/[A-Za-z0-9._/+-]*$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function kernelAppend(opts: { mdevs: MdevSpec[]; repo: string; node: string; tsxSeed?: string; extra?: string[] }): string {
  // these words go on the kernel command line, which has no quoting: refuse anything that needs it
  for (const [what, p] of [['repository path', opts.repo], ['node path', opts.node]] as const) {
    if (!SAFE_PATH.test(p)) throw new UsageError(`kernel guest: the ${what} '${p}' has characters the kernel command line cannot carry`);
  }
  const seed = opts.tsxSeed && SAFE_PATH.test(opts.tsxSeed) ? [`mc.tsx=${opts.tsxSeed}`] : [];
  for (const m of opts.mdevs) {
    if (!UUID_RE.test(m.uuid) || !/^[a-z0-9_-]+$/.test(m.type)) throw new UsageError(`kernel guest: bad mdev '${m.type}:${m.uuid}'`);
  }
  return ['console=ttyS0', 'panic=1', 'loglevel=5', `mc.repo=${opts.repo}`, `mc.node=${opts.node}`, `mc.port=${AGENT_PORT}`,
    ...(opts.mdevs.length ? [`mc.mdev=${opts.mdevs.map((m) => `${m.type}:${m.uuid}`).join(',')}`] : []), ...seed, ...(opts.extra ?? [])].join(' ');
}

export function kernelGuestArgs(o: { image: KernelGuestImage; append: string; console: string; qmp: string; agent: string; memMiB: number; build: QemuBuild; sshPort?: number }): string[] {
  // restrict=on: the guest reaches nothing outside; only the forwarded port reaches the guest
  const net = o.sshPort ? ['-netdev', `user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:${o.sshPort}-:22`, '-device', 'virtio-net-pci,netdev=net0'] : [];
  return [
    ...o.build.args,
    '-name', 'migcompat-kernel-guest',
    '-machine', 'q35', '-accel', 'tcg', '-cpu', 'max', '-smp', '1', '-m', `${o.memMiB}M`,
    '-nodefaults', '-display', 'none', '-no-reboot', '-no-user-config',
    '-kernel', o.image.kernel, '-initrd', o.image.initrd, '-append', o.append,
    '-chardev', `file,id=con0,path=${o.console}`, '-serial', 'chardev:con0',
    '-qmp', `unix:${o.qmp},server=on,wait=off`,
    // the host's / read-only; multidevs=remap keeps inode numbers unique across the host's mounts
    '-fsdev', 'local,id=hostroot,path=/,readonly=on,security_model=none,multidevs=remap',
    '-device', 'virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot',
    '-device', 'virtio-serial-pci,id=vser0',
    '-chardev', `socket,id=agent,path=${o.agent},server=on,wait=off`,
    '-device', `virtserialport,bus=vser0.0,chardev=agent,name=${AGENT_PORT}`,
    ...net,
  ];
}

/** Modules the agent and the CLI's probe/capture/load import inside the guest. */
const GUEST_MODULES = [
  'harness/runners/kernel-guest/guestOps.ts', 'harness/cli/commands/index.ts', 'harness/runners/vfio-host/context.ts',
  'harness/runners/vfio-host/provenance.ts', 'harness/runners/vfio-host/transfer.ts',
];

/**
 * Fill a tsx compile cache for the guest: the host compiles in a fraction of a second what esbuild
 * would compile for many seconds under TCG. tsx keys its cache by content, and the guest sees the
 * repository at the same paths. Best effort: without it the guest compiles by itself.
 */
export function prewarmTsx(seed: string): Promise<boolean> {
  mkdirSync(seed, { recursive: true });
  const code = GUEST_MODULES.map((m) => `await import(${JSON.stringify(join(REPO_ROOT, m))});`).join('');
  return new Promise((res) => {
    const c = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: REPO_ROOT, env: { ...process.env, TMPDIR: seed }, stdio: 'ignore' });
    c.on('error', () => res(false));
    c.on('close', (code) => res(code === 0));
  });
}

function connectUnix(path: string, deadline: number, alive: () => boolean): Promise<Socket> {
  return new Promise((res, rej) => {
    const attempt = () => {
      const s = createConnection(path);
      s.once('connect', () => res(s));
      s.once('error', (e) => {
        s.destroy();
        if (!alive()) rej(new Error('QEMU exited'));
        else if (Date.now() > deadline) rej(e);
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

export class KernelGuest {
  hello!: Hello['hello'];
  times!: BootTimes;
  private proc!: ProcHandle;
  private qmp: QmpClient | null = null;
  private sock!: Socket;
  private buf = '';
  private nextId = 1;
  private waiting = new Map<number, { resolve: (r: Response) => void }>();
  private helloWaiter: ((h: Hello) => void) | null = null;
  /** when QEMU was started (boot times count from here) */
  private t0 = Date.now();
  /** host time spent filling the guest's tsx cache before QEMU started */
  prewarmMs = 0;
  readonly consolePath: string;
  args: string[] = [];

  private constructor(readonly opts: BootOptions) {
    this.consolePath = join(opts.dir, 'console.log');
  }

  static async boot(opts: BootOptions): Promise<KernelGuest> {
    mkdirSync(opts.dir, { recursive: true });
    const g = new KernelGuest(opts);
    try {
      await g.start();
      return g;
    } catch (e) {
      await g.stop();
      throw e;
    }
  }

  consoleText(): string {
    return existsSync(this.consolePath) ? readFileSync(this.consolePath, 'utf8') : '';
  }
  excerpt(n = 30): string {
    return consoleExcerpt(this.consoleText(), n);
  }
  alive(): boolean {
    return this.proc !== undefined && !this.proc.hasExited();
  }
  get pid(): number {
    return this.proc?.pid ?? -1;
  }

  private fail(outcome: GuestOutcome, what: string): GuestFailure {
    return new GuestFailure(outcome, what, this.excerpt());
  }

  /** A reason to give up now, from the console or the process, or null. */
  private trouble(): GuestFailure | null {
    const c = classifyConsole(this.consoleText());
    if (c) return this.fail(c.outcome, c.line);
    if (!this.alive()) return this.fail('error', `QEMU exited (${this.proc.stderr().trim().split('\n').pop() || 'no message'})`);
    return null;
  }

  private async start(): Promise<void> {
    const o = this.opts;
    const build = o.build ?? installedBuild();
    const qmpPath = socketPath(o.dir, 'kguest-qmp.sock');
    const agentPath = socketPath(o.dir, 'kguest-agent.sock');
    const seed = join(o.dir, 'tsx-seed');
    const seeded = await prewarmTsx(seed);
    this.prewarmMs = Date.now() - this.t0;
    const extra = [...(o.sshPort ? ['mc.net=1'] : []), ...(o.extraAppend ?? [])];
    const append = kernelAppend({ mdevs: o.mdevs, repo: REPO_ROOT, node: process.execPath, tsxSeed: seeded ? seed : undefined, extra });
    this.args = kernelGuestArgs({ image: o.image, append, console: this.consolePath, qmp: qmpPath, agent: agentPath, memMiB: o.memMiB ?? 1024, build, sshPort: o.sshPort });
    this.t0 = Date.now();
    this.proc = startTracked(build.binary, this.args, { ...process.env, ...build.env });
    const deadline = this.t0 + (o.bootTimeoutMs ?? 300_000);
    try {
      this.qmp = await QmpClient.connect(qmpPath, { timeoutMs: 20_000, alive: () => this.alive() });
      this.sock = await connectUnix(agentPath, Date.now() + 20_000, () => this.alive());
    } catch (e) {
      throw this.trouble() ?? this.fail('error', `QEMU did not start: ${(e as Error).message}`);
    }
    this.sock.setEncoding('utf8');
    this.sock.on('data', (d: string) => this.onData(d));
    const hello = new Promise<Hello>((r) => (this.helloWaiter = r));
    let got: Hello | null = null;
    void hello.then((h) => (got = h));
    while (!got) {
      this.stageTimes();
      const t = this.trouble();
      if (t) throw t;
      if (Date.now() > deadline) {
        throw this.fail('error', `the guest did not become ready within ${Math.round((deadline - this.t0) / 1000)} s (last stage: ${this.stage() ?? 'no output'})`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    this.hello = (got as Hello).hello;
    this.times = { ...this.stageTimes(), ready: Date.now() - this.t0 };
  }

  /** Boot stages the console has shown so far, with their time since QEMU started (first seen by polling). */
  private seen = new Map<string, number>();
  private stage(): string | null {
    this.stageTimes();
    const order = ['agentStart', 'modules', 'init'];
    return order.find((s) => this.seen.has(s)) ?? null;
  }
  private stageTimes(): Omit<BootTimes, 'ready'> {
    const c = this.consoleText();
    const now = Date.now() - this.t0;
    for (const [k, re] of [['init', /MIGCOMPAT: init /], ['modules', /MIGCOMPAT: modules loaded/], ['agentStart', /MIGCOMPAT: agent starting/]] as const) {
      if (!this.seen.has(k) && re.test(c)) this.seen.set(k, now);
    }
    return { init: this.seen.get('init') ?? null, modules: this.seen.get('modules') ?? null, agentStart: this.seen.get('agentStart') ?? null };
  }

  private onData(d: string): void {
    this.buf += d;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (!line.trim()) continue;
      let msg: Hello | Response;
      try {
        msg = JSON.parse(line) as Hello | Response;
      } catch {
        continue;
      }
      if ('hello' in msg) {
        this.helloWaiter?.(msg);
        this.helloWaiter = null;
      } else this.waiting.get(msg.id)?.resolve(msg);
    }
  }

  /** One request; a guest that stops answering within timeoutMs is a hang, a crash meanwhile an error. */
  async request(req: RequestBody, timeoutMs = 120_000): Promise<Response> {
    if (!this.alive()) throw this.fail('error', `QEMU is not running (request ${req.op})`);
    const id = this.nextId++;
    let answer: Response | null = null;
    this.waiting.set(id, { resolve: (r) => (answer = r) });
    this.sock.write(JSON.stringify({ ...req, id }) + '\n');
    const deadline = Date.now() + timeoutMs;
    try {
      while (!answer) {
        const t = this.trouble();
        if (t) throw t;
        if (Date.now() > deadline) throw this.fail('hang', `no answer to ${describe(req)} within ${Math.round(timeoutMs / 1000)} s`);
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      this.waiting.delete(id);
    }
    return answer as Response;
  }

  /** A request whose failure inside the guest is thrown here (GuestError, with the guest's message). */
  private async value<T>(req: RequestBody, timeoutMs?: number): Promise<T> {
    const r = await this.request(req, timeoutMs);
    if (!r.ok) throw new GuestError(r.errorName, `${describe(req)}: ${r.errorName}: ${r.error}`);
    return r.value as T;
  }

  exec(argv: string[], opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<ExecResult> {
    const t = opts.timeoutMs ?? 120_000;
    // the guest kills the program at its deadline; the host waits a little longer for that answer
    return this.value<ExecResult>({ op: 'exec', argv, cwd: opts.cwd, env: opts.env, timeoutMs: t }, t + 30_000);
  }

  /** The migcompat CLI inside the guest, as a lab host runs it. */
  migcompat(args: string[], timeoutMs?: number): Promise<ExecResult> {
    return this.exec([process.execPath, join(REPO_ROOT, 'bin/migcompat.js'), ...args], { timeoutMs });
  }

  /** A guest operation (guestOps.ts) with JSON arguments. */
  call<T>(fn: string, args: unknown[], timeoutMs?: number): Promise<T> {
    return this.value<T>({ op: 'call', fn, args }, timeoutMs);
  }

  async readFile(path: string): Promise<Uint8Array> {
    return new Uint8Array(Buffer.from(await this.value<string>({ op: 'readFile', path }), 'base64'));
  }
  writeFile(path: string, bytes: Uint8Array, mode?: number): Promise<null> {
    return this.value<null>({ op: 'writeFile', path, data: Buffer.from(bytes).toString('base64'), mode });
  }
  /** Start a server in the guest (it runs until the guest powers off); the value is its pid. */
  spawn(argv: string[], log: string): Promise<number> {
    return this.value<number>({ op: 'spawn', argv, log });
  }

  /** Power off: QMP quit, then the process by PID (SIGTERM, SIGKILL). Safe to call twice. */
  async stop(): Promise<void> {
    if (this.alive() && this.qmp) {
      try {
        await this.qmp.execute('quit', undefined, 2000);
      } catch {
        /* QEMU may close the socket before answering */
      }
    }
    this.qmp?.close();
    this.sock?.destroy();
    await this.proc?.stop(1500);
  }
}

/** A guest operation failed inside the guest (the guest itself is fine). */
export class GuestError extends Error {
  override name = 'GuestError';
  constructor(readonly guestErrorName: string, message: string) {
    super(message);
  }
}

function describe(req: RequestBody): string {
  if (req.op === 'exec') return `exec ${req.argv.slice(0, 4).join(' ')}`;
  if (req.op === 'call') return `call ${req.fn}`;
  return req.op;
}
