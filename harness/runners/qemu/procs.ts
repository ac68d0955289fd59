// Every process the runner starts is tracked by PID and ended on every path out: the caller's
// try/finally ends them one by one, and a process-exit hook ends whatever is left (a failed assertion,
// an uncaught error, SIGINT/SIGTERM on the harness).
import { spawn, type ChildProcess } from 'node:child_process';

const live = new Map<number, ChildProcess>();
let hooked = false;

function killAllNow(): void {
  for (const [pid] of live) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  live.clear();
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAllNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAllNow();
      process.kill(process.pid, sig); // default action once our handler is gone
    });
  }
}

/** A started process, local or on a lab host (remote.ts). */
export interface ProcHandle {
  pid: number;
  /** lab host name for a process started over SSH; absent for a local one */
  host?: string;
  /** resolves with the exit code (or signal name) when the process ends */
  exited: Promise<number | string>;
  hasExited(): boolean;
  stderr(): string;
  /** SIGTERM, then SIGKILL after graceMs; resolves once it is gone */
  stop(graceMs?: number): Promise<void>;
}

export interface Tracked extends ProcHandle {
  child: ChildProcess;
}

export function startTracked(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Tracked {
  hook();
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: env ?? process.env });
  let err = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    if (err.length < 65536) err += d;
  });
  let done = false;
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      if (child.pid !== undefined) live.delete(child.pid);
      resolve(code ?? signal ?? 'unknown');
    });
    child.once('error', (e) => {
      done = true;
      err += e.message;
      resolve(`spawn-error`);
    });
  });
  if (child.pid === undefined) {
    // spawn failed synchronously (ENOENT is reported through 'error')
    return { child, pid: -1, exited, hasExited: () => true, stderr: () => err, stop: async () => {} };
  }
  const pid = child.pid;
  live.set(pid, child);
  return {
    child,
    pid,
    exited,
    hasExited: () => done,
    stderr: () => err,
    async stop(graceMs = 2000) {
      if (done) return;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        return;
      }
      const t = setTimeout(() => {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}

/** PIDs still running (tests assert this is empty after a case). */
export function livePids(): number[] {
  return [...live.keys()];
}
