// The host <-> guest-agent protocol over one virtio-serial port: JSON, one message per line. The
// agent greets once it is ready (Hello), then answers requests one at a time, in order. Bytes travel
// as base64. Shared by both ends; nothing here touches the file system.

/** virtio-serial port name the agent listens on */
export const AGENT_PORT = 'org.migcompat.agent';

export type Request =
  | { id: number; op: 'ping' }
  /** run a program (argv[0] absolute or on PATH) in the guest; cwd defaults to the repository */
  | { id: number; op: 'exec'; argv: string[]; cwd?: string; env?: Record<string, string>; timeoutMs?: number; stdin?: string }
  /** a function of guestOps.ts, with JSON arguments */
  | { id: number; op: 'call'; fn: string; args: unknown[] }
  /** start a program that keeps running (a server); its output goes to `log`; the value is its pid */
  | { id: number; op: 'spawn'; argv: string[]; log: string }
  | { id: number; op: 'readFile'; path: string }
  | { id: number; op: 'writeFile'; path: string; data: string; mode?: number };

export type Response =
  | { id: number; ok: true; value: unknown; ms: number }
  | { id: number; ok: false; error: string; errorName: string; ms: number };

export interface Hello {
  hello: {
    kernelRelease: string;
    node: string;
    pid: number;
    /** guest uptime (s) when the agent was ready */
    uptime: number;
    repo: string;
    mdevs: MdevInfo[];
  };
}

export interface MdevInfo {
  uuid: string;
  type: string | null;
  driver: string | null;
  group: number | null;
}

export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

/** JSON has no bigint: 64-bit values travel as "0x…" strings, like the CLI's --json output. */
export const toWire = (v: unknown): string => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `0x${x.toString(16)}` : x));

/** A request before the host numbers it. */
export type RequestBody = Request extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;
