// The guest agent: runs INSIDE the kernel guest, from the host's repository on the read-only 9p
// share (guest-init.sh starts it with node and tsx, as a lab host runs migcompat). It listens on the
// virtio-serial port given as argv[2], greets the host, and answers requests in order: run a
// program (the migcompat CLI), call a guest operation (guestOps.ts, the library in process), read
// or write a file in the guest. It never exits by itself; the host powers the guest off.
import { spawn } from 'node:child_process';
import { createReadStream, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, writeFileSync, writeSync } from 'node:fs';
import { release, uptime } from 'node:os';
import { basename, dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { toWire, type ExecResult, type Hello, type MdevInfo, type Request, type Response } from './protocol.ts';

const port = process.argv[2];
if (!port) throw new Error('usage: agent.ts /dev/vportNpM');
const fd = openSync(port, 'r+');
const send = (msg: Hello | Response): void => {
  const line = Buffer.from(toWire(msg) + '\n');
  for (let off = 0; off < line.length; ) off += writeSync(fd, line, off);
};

const link = (p: string): string | null => {
  try {
    return basename(readlinkSync(p));
  } catch {
    return null;
  }
};

function mdevs(): MdevInfo[] {
  let names: string[] = [];
  try {
    names = readdirSync('/sys/bus/mdev/devices');
  } catch {
    /* no mdev bus */
  }
  return names.sort().map((uuid) => {
    const d = `/sys/bus/mdev/devices/${uuid}`;
    const g = link(`${d}/iommu_group`);
    return { uuid, type: link(`${d}/mdev_type`), driver: link(`${d}/driver`), group: g === null ? null : Number(g) };
  });
}

function exec(r: Extract<Request, { op: 'exec' }>): Promise<ExecResult> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(r.argv[0]!, r.argv.slice(1), { cwd: r.cwd ?? process.cwd(), env: { ...process.env, ...r.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.end(r.stdin ? Buffer.from(r.stdin, 'base64') : undefined);
    const timer = r.timeoutMs ? setTimeout(() => ((timedOut = true), child.kill('SIGKILL')), r.timeoutMs) : undefined;
    child.on('error', (e) => {
      stderr += e.message;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0, timedOut });
    });
  });
}

// the library loads once, before the greeting: the first call is then as fast as the next
const ops = (await import('./guestOps.ts')) as unknown as Record<string, (...a: unknown[]) => unknown>;

async function handle(r: Request): Promise<unknown> {
  switch (r.op) {
    case 'ping':
      return { uptime: uptime() };
    case 'exec':
      return exec(r);
    case 'readFile':
      return readFileSync(r.path).toString('base64');
    case 'writeFile':
      mkdirSync(dirname(r.path), { recursive: true });
      writeFileSync(r.path, Buffer.from(r.data, 'base64'), { mode: r.mode ?? 0o644 });
      return null;
    case 'spawn': {
      const out = openSync(r.log, 'a');
      const child = spawn(r.argv[0]!, r.argv.slice(1), { stdio: ['ignore', out, out], detached: true });
      child.unref();
      return await new Promise((res, rej) => {
        child.once('spawn', () => res(child.pid));
        child.once('error', rej);
      });
    }
    case 'call': {
      const fn = ops[r.fn];
      if (typeof fn !== 'function') throw new Error(`no guest operation '${r.fn}'`);
      return await fn(...r.args);
    }
  }
}

const queue: Request[] = [];
let busy = false;
async function drain(): Promise<void> {
  if (busy) return;
  busy = true;
  while (queue.length) {
    const r = queue.shift()!;
    const t0 = Date.now();
    try {
      const value = await handle(r);
      send({ id: r.id, ok: true, value, ms: Date.now() - t0 });
    } catch (e) {
      send({ id: r.id, ok: false, error: (e as Error).message ?? String(e), errorName: (e as Error).name ?? 'Error', ms: Date.now() - t0 });
    }
  }
  busy = false;
}

createInterface({ input: createReadStream('', { fd, autoClose: false }) }).on('line', (line) => {
  if (!line.trim()) return;
  let r: Request;
  try {
    r = JSON.parse(line) as Request;
  } catch {
    return; // not ours (a host that reconnected mid-line)
  }
  queue.push(r);
  void drain();
});

send({ hello: { kernelRelease: release(), node: process.version, pid: process.pid, uptime: uptime(), repo: process.cwd(), mdevs: mdevs() } });
