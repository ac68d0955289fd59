// Which libc the hardware commands use: the system's, or the stand-in library when
// MIGCOMPAT_VFIO_STANDIN names a stand-in configuration (tests and demonstrations).
import { loadLibc } from '../../vfio/kernel/libc.ts';
import type { HostContext } from './ops.ts';

export async function hostContext(opts: { via?: HostContext['via']; sysfsRoot?: string; lockDir?: string } = {}): Promise<HostContext> {
  const standin = process.env.MIGCOMPAT_VFIO_STANDIN;
  if (standin) {
    const { readStandinConfig, startStandin } = await import('../../vfio/kernel/standin/config.ts');
    const cfg = readStandinConfig(standin);
    const revisionDevice = cfg.devices.some((d) => d.revision)
      ? (await import('./standinSim.ts')).standinRevisionDevice
      : undefined;
    const host = startStandin(cfg, revisionDevice);
    return { libc: host.libc, sysfsRoot: opts.sysfsRoot ?? cfg.sysfsRoot, lockDir: opts.lockDir, via: opts.via, host: cfg.host, kernelRelease: cfg.kernelRelease };
  }
  return { libc: loadLibc(), sysfsRoot: opts.sysfsRoot, lockDir: opts.lockDir, via: opts.via };
}
