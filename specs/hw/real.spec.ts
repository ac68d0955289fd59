// Real VFs: run only when MIGCOMPAT_VFIO_DEVICES names devices ("0000:75:00.1,0000:75:00.2");
// otherwise every test here is skipped with that reason. Each device is probed, captured and its
// own stream loaded back; a second device, when named, takes the stream (same host, same kernel).
import { test, expect } from '@playwright/test';
import { capture, load, probe } from '../../harness/runners/vfio-host/ops.ts';
import { loadLibc } from '../../harness/vfio/kernel/libc.ts';

const devices = (process.env.MIGCOMPAT_VFIO_DEVICES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const ctx = () => ({ libc: loadLibc(), via: (process.env.MIGCOMPAT_VFIO_VIA ?? 'auto') as 'auto' | 'group' | 'cdev' });

test.describe('real VFs', () => {
  test.skip(devices.length === 0, 'no VFs: set MIGCOMPAT_VFIO_DEVICES=0000:75:00.1[,…] (bound to hisi_acc_vfio_pci)');

  for (const bdf of devices) {
    test(`${bdf}: probe reports a migratable RUNNING device`, () => {
      const p = probe(ctx(), bdf);
      expect(p.flagNames).toContain('STOP_COPY');
      expect(p.state).toBe('RUNNING');
    });

    test(`${bdf}: capture then load its own stream back; left RUNNING`, () => {
      const c = capture(ctx(), bdf);
      expect([40, 176]).toContain(c.stream.length);
      expect(c.recovery.finalState).toBe('RUNNING');
      const l = load(ctx(), bdf, c.stream);
      expect(l.recovery.finalState).toBe('RUNNING');
      expect(l.verdict.outcome).toBe('migrated');
    });
  }

  test('first device → second device', () => {
    test.skip(devices.length < 2, 'needs two VFs in MIGCOMPAT_VFIO_DEVICES');
    const c = capture(ctx(), devices[0]);
    const l = load(ctx(), devices[1], c.stream, 'chunks:40,136');
    expect(['migrated', 'refused']).toContain(l.verdict.outcome);
    expect(l.recovery.finalState).toBe('RUNNING');
  });
});
