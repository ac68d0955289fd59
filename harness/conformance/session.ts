// Runs a command sequence on one device: each command is one uAPI call through the VfioDevice
// interface (any backend), recorded as a Step and judged at once by the Monitor. After every SET,
// reset and reopen the state is read back (GET), as a careful VMM would. A call that never returns
// (HangError from a modelled loop, or the core's skip loop) ends the sequence: the device is gone.
import { HangError } from '../vfio/driver.ts';
import type { DataFd, MigState, VfioDevice } from '../vfio/types.ts';
import { formatCmd, type Cmd, type StreamExpectation, type WriteData } from './commands.ts';
import { Monitor, type Step, type Violation } from './monitor.ts';

/** One device under test, opened and in RUNNING, as a check gets it. */
export interface DeviceHandle {
  dev: VfioDevice;
  /** close the device fd and open it again (close_device, open_device) */
  reopen(): VfioDevice;
  /** leave the device usable for the next user (RUNNING or reset) and close it */
  close(): void;
}

/** Thrown to end a sequence: the device hung, or the clause under test was violated. */
export class SequenceEnd extends Error {
  override name = 'SequenceEnd';
  constructor(readonly why: 'hang' | 'violation') {
    super(why);
  }
}

export interface SessionOptions {
  /** stop at the first violation of this clause (throws SequenceEnd) */
  stopOn?: string;
  /** called before each command runs (a child process reports it, so a real hang names its call) */
  onExec?(cmd: Cmd, index: number): void;
  /** called after each command with its step */
  onStep?(step: Step, index: number): void;
  /**
   * Sequences already known to end in a call that never returns (an earlier child process was
   * killed in them): their last call is not made again, it is recorded as the hang it was.
   */
  hungBefore?: readonly { cmds: Cmd[]; why: string }[];
  monitor?: Monitor;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

export class Session {
  readonly steps: Step[] = [];
  /** every violation, with the index of the step that showed it */
  readonly violations: (Violation & { at: number })[] = [];
  readonly monitor: Monitor;
  hung = false;
  private dev: VfioDevice;
  private readonly fds: (DataFd | null)[] = [];

  constructor(private readonly handle: DeviceHandle, private readonly o: SessionOptions = {}) {
    this.dev = handle.dev;
    this.monitor = o.monitor ?? new Monitor();
  }

  /** Close every data fd the sequence got (the VMM's duty once it is done with them), oldest first. */
  closeFds(): void {
    for (const f of this.fds) {
      try {
        f?.close();
      } catch {
        /* a fd of a device that is gone: nothing more to release */
      }
    }
  }

  /** The first violation of `clause`, if any. */
  first(clause: string): (Violation & { at: number }) | undefined {
    return this.violations.find((v) => v.clause === clause);
  }

  /** Execute one command; returns its step. Throws SequenceEnd on a hang or on the stop clause. */
  exec(cmd: Cmd): Step {
    if (this.hung) throw new SequenceEnd('hang');
    let step: Step;
    const known = this.o.hungBefore?.length ? this.knownHang(cmd) : null;
    if (known) {
      step = { cmd, res: 'HANG', hang: { where: known, arcs: [] } };
      this.hung = true;
    } else {
      this.o.onExec?.(cmd, this.steps.length);
      try {
        step = this.call(cmd);
      } catch (e) {
        if (!(e instanceof HangError)) throw e;
        step = { cmd, res: 'HANG', hang: { where: e.where, arcs: [...e.arcs] } };
        this.hung = true;
      }
    }
    this.steps.push(step);
    const at = this.steps.length - 1;
    this.o.onStep?.(step, at);
    const vs = this.monitor.observe(step);
    for (const v of vs) this.violations.push({ ...v, at });
    if (this.hung) throw new SequenceEnd('hang');
    if (this.o.stopOn && vs.some((v) => v.clause === this.o.stopOn)) throw new SequenceEnd('violation');
    return step;
  }

  /** Whether this sequence plus `cmd` is one that never returned before. */
  private knownHang(cmd: Cmd): string | null {
    const key = JSON.stringify([...this.steps.map((x) => x.cmd), cmd]);
    const h = this.o.hungBefore!.find((p) => JSON.stringify(p.cmds) === key);
    return h ? `${h.why} (an earlier process, killed; the call is not made again)` : null;
  }

  private stateNow(): string {
    const g = this.dev.getState();
    return g.ok ? g.value : '?';
  }

  private fd(label: number): DataFd | null {
    return this.fds[label] ?? null;
  }

  private call(cmd: Cmd): Step {
    const d = this.dev;
    switch (cmd.op) {
      case 'flags': {
        const r = d.migrationFlags();
        return r.ok ? { cmd, res: 'ok', out: String(r.value) } : { cmd, res: r.errno };
      }
      case 'get': {
        const r = d.getState();
        return r.ok ? { cmd, res: 'ok', out: r.value } : { cmd, res: r.errno };
      }
      case 'set': {
        const r = d.setState(cmd.target);
        const step: Step = { cmd, res: r.ok ? 'ok' : r.errno, state: this.stateNow() };
        if (r.ok && r.value.dataFd) {
          step.opened = this.fds.length;
          this.fds.push(r.value.dataFd);
        }
        return step;
      }
      case 'read': {
        const f = this.fd(cmd.fd);
        if (!f) return { cmd, res: 'EBADF' };
        const r = f.read(cmd.max);
        return r.ok ? { cmd, res: 'ok', out: hex(r.value) } : { cmd, res: r.errno };
      }
      case 'write': {
        const f = this.fd(cmd.fd);
        if (!f) return { cmd, res: 'EBADF' };
        const r = f.write(new Uint8Array(Buffer.from(cmd.hex, 'hex')));
        return r.ok ? { cmd, res: 'ok', out: String(r.value) } : { cmd, res: r.errno };
      }
      case 'info': {
        const f = this.fd(cmd.fd);
        if (!f) return { cmd, res: 'EBADF' };
        const r = f.precopyInfo();
        return r.ok ? { cmd, res: 'ok', out: `${r.value.initialBytes}/${r.value.dirtyBytes}` } : { cmd, res: r.errno };
      }
      case 'size': {
        const r = d.dataSize();
        return r.ok ? { cmd, res: 'ok', out: r.value.toString() } : { cmd, res: r.errno };
      }
      case 'reset': {
        const r = d.reset();
        return { cmd, res: r.ok ? 'ok' : r.errno, state: this.stateNow() };
      }
      case 'reopen': {
        this.dev = this.handle.reopen();
        return { cmd, res: 'ok', state: this.stateNow() };
      }
    }
  }

  // ---- helpers the checks use ------------------------------------------------------------------

  flags(): number | null {
    const s = this.exec({ op: 'flags' });
    return s.res === 'ok' ? Number(s.out) : null;
  }
  get(): Step {
    return this.exec({ op: 'get' });
  }
  set(target: MigState, expect?: StreamExpectation): Step {
    return this.exec(expect ? { op: 'set', target, expect } : { op: 'set', target });
  }
  read(fd: number, max: number): Step {
    return this.exec({ op: 'read', fd, max });
  }
  write(fd: number, bytes: Uint8Array | string, data: WriteData, of?: number): Step {
    const h = typeof bytes === 'string' ? bytes : hex(bytes);
    return this.exec(of === undefined ? { op: 'write', fd, hex: h, data } : { op: 'write', fd, hex: h, data, of });
  }
  info(fd: number): Step {
    return this.exec({ op: 'info', fd });
  }
  size(): Step {
    return this.exec({ op: 'size' });
  }
  reset(): Step {
    return this.exec({ op: 'reset' });
  }
  reopen(): Step {
    return this.exec({ op: 'reopen' });
  }

  /** Read with `sizes` (cycled) until a read returns 0 or fails; the bytes read, or null on a failure. */
  readToEnd(fd: number, sizes: readonly number[] = [1 << 20], bound = 1 << 16): string | null {
    let out = '';
    for (let i = 0; i < bound; i++) {
      const s = this.read(fd, sizes[i % sizes.length]);
      if (s.res !== 'ok') return s.res === 'ENOMSG' ? out : null;
      if (!s.out) return out;
      out += s.out;
    }
    return null;
  }

}

/** A sequence as lines, one command with its answer each; a run of identical lines is one "×N" line. */
export function sequenceLines(steps: readonly Step[]): string[] {
  const out: string[] = [];
  let last = '';
  let n = 0;
  const flush = () => {
    if (n) out.push(n > 1 ? `${last}  ×${n}` : last);
  };
  for (const s of steps) {
    const t = stepText(s);
    if (t === last) n++;
    else {
      flush();
      last = t;
      n = 1;
    }
  }
  flush();
  return out;
}

export function stepText(s: Step): string {
  const r = s.res === 'HANG' ? `never returns (${s.hang?.where ?? ''})`
    : s.cmd.op === 'read' && s.res === 'ok' ? `${(s.out ?? '').length / 2} B`
    : s.cmd.op === 'write' && s.res === 'ok' ? `${s.out} B`
    : s.res === 'ok' && s.out !== undefined && s.cmd.op !== 'read' ? s.out
    : s.res;
  const extra = [s.opened !== undefined ? `fd${s.opened}` : '', s.state !== undefined ? `→ ${s.state}` : ''].filter(Boolean).join(' ');
  return `${formatCmd(s.cmd)} = ${r}${extra ? ` ${extra}` : ''}`;
}
