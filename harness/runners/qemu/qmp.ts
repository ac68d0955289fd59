// A small typed QMP client over a unix socket (or any byte stream to one, e.g. forwarded over SSH): greeting and capabilities negotiation, commands with
// ids and timeouts, asynchronous events kept in order (QEMU interleaves them with replies; every
// message ends in "\r\n").
import { createConnection } from 'node:net';
import type { Duplex } from 'node:stream';
import { InfraError } from './errors.ts';

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

export class QmpError extends Error {
  override name = 'QmpError';
  constructor(readonly cmd: string, readonly errorClass: string, readonly desc: string) {
    super(`${cmd}: ${errorClass}: ${desc}`);
  }
}

export interface MigrationInfo {
  status?: 'none' | 'setup' | 'cancelling' | 'cancelled' | 'active' | 'postcopy-active' | 'postcopy-paused' | 'postcopy-recover' | 'completed' | 'failed' | 'colo' | 'pre-switchover' | 'device' | 'wait-unplug';
  'total-time'?: number;
  downtime?: number;
  'setup-time'?: number;
  'expected-downtime'?: number;
  'error-desc'?: string;
  'blocked-reasons'?: string[];
  /** incoming side: where it listens (the real port when asked for port 0) */
  'socket-address'?: { type: string; host?: string; port?: string; path?: string }[];
  ram?: { transferred: number; total: number; duplicate: number; normal: number; 'dirty-sync-count': number; mbps: number; [k: string]: number };
}

export interface StatusInfo {
  status: string;
  running: boolean;
}

interface Pending {
  cmd: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class QmpClient {
  readonly events: QmpEvent[] = [];
  greeting: { QMP: { version: { qemu: { major: number; minor: number; micro: number }; package: string } } } | null = null;
  private buf = '';
  private nextId = 1;
  private pending = new Map<string, Pending>();
  private waiters: { pred: (e: QmpEvent) => boolean; resolve: (e: QmpEvent) => void }[] = [];
  private greeted!: Promise<void>;
  private closed: Error | null = null;

  private constructor(private readonly sock: Duplex) {}

  /** Connect (retrying while QEMU creates the socket) and negotiate capabilities. */
  static connect(path: string, opts: { timeoutMs?: number; alive?: () => boolean } = {}): Promise<QmpClient> {
    return QmpClient.connectVia(
      () => new Promise<Duplex>((resolve, reject) => {
        const s = createConnection(path);
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      }),
      path, opts);
  }

  /** Same, over a stream `open` returns (retried until it opens and QEMU greets). */
  static async connectVia(open: () => Promise<Duplex>, path: string, opts: { timeoutMs?: number; alive?: () => boolean } = {}): Promise<QmpClient> {
    const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
    for (;;) {
      let sock: Duplex | null = null;
      try {
        sock = await open();
        const c = new QmpClient(sock);
        c.attach();
        await c.greeted;
        await c.execute('qmp_capabilities');
        return c;
      } catch (e) {
        sock?.destroy();
        if (opts.alive && !opts.alive()) throw new InfraError(`QEMU exited before its QMP socket answered`);
        if (Date.now() > deadline) throw new InfraError(`QMP ${path}: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  private attach(): void {
    this.sock.setEncoding('utf8');
    let greet!: () => void;
    let fail!: (e: Error) => void;
    this.greeted = new Promise((res, rej) => {
      greet = res;
      fail = rej;
    });
    this.sock.on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl).replace(/\r$/, '');
        this.buf = this.buf.slice(nl + 1);
        if (!line.trim()) continue;
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        if ('QMP' in msg) {
          this.greeting = msg as unknown as QmpClient['greeting'];
          greet();
        } else if ('event' in msg) {
          const ev = msg as unknown as QmpEvent;
          this.events.push(ev);
          this.waiters = this.waiters.filter((w) => (w.pred(ev) ? (w.resolve(ev), false) : true));
        } else if ('id' in msg) {
          const p = this.pending.get(String(msg.id));
          if (!p) continue;
          this.pending.delete(String(msg.id));
          clearTimeout(p.timer);
          if ('error' in msg) {
            const err = msg.error as { class: string; desc: string };
            p.reject(new QmpError(p.cmd, err.class, err.desc));
          } else p.resolve(msg.return);
        }
      }
    });
    const onClose = (e?: Error) => {
      this.closed = new InfraError(`QMP connection closed${e ? `: ${e.message}` : ''}`);
      fail(this.closed);
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(this.closed);
      }
      this.pending.clear();
    };
    this.sock.on('error', onClose);
    this.sock.on('close', () => onClose());
  }

  execute<T = unknown>(cmd: string, args?: Record<string, unknown>, timeoutMs = 10_000): Promise<T> {
    if (this.closed) return Promise.reject(this.closed);
    const id = `mc${this.nextId++}`;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new InfraError(`QMP ${cmd} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { cmd, resolve: resolve as (v: unknown) => void, reject, timer });
      this.sock.write(JSON.stringify(args ? { execute: cmd, arguments: args, id } : { execute: cmd, id }) + '\n');
    });
  }

  /** The first event (already received or future) with that name matching pred. */
  waitEvent(name: string, timeoutMs: number, pred: (e: QmpEvent) => boolean = () => true): Promise<QmpEvent> {
    const seen = this.events.find((e) => e.event === name && pred(e));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new InfraError(`no QMP event ${name} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ pred: (e) => e.event === name && pred(e), resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }

  // typed helpers
  queryStatus(): Promise<StatusInfo> {
    return this.execute<StatusInfo>('query-status');
  }
  queryMigrate(): Promise<MigrationInfo> {
    return this.execute<MigrationInfo>('query-migrate');
  }
  setCapabilities(caps: Record<string, boolean>): Promise<unknown> {
    return this.execute('migrate-set-capabilities', { capabilities: Object.entries(caps).map(([capability, state]) => ({ capability, state })) });
  }
  setParameters(params: Record<string, unknown>): Promise<unknown> {
    return this.execute('migrate-set-parameters', params);
  }

  close(): void {
    this.sock.destroy();
  }
}
