// The question of hosts moving from Debian 12's 6.1 kernel to its 6.12 kernel, and back: will running
// VMs migrate between them? Both directions, every workload, one write and QEMU's transfer, on the
// models derived from the two trees' code (each cell explained in
// docs/revisions.md#debian-61192-and-612118-both-directions). The ktree project runs the same slice
// on the real code of both.
import { test, expect } from '@playwright/test';
import { debianUpgradeSlice, expectedDebianCell } from './debian-upgrade.ts';
import { runAndJudge } from '../../harness/runners/sim.ts';

for (const spec of debianUpgradeSlice('hisi-acc/debian-6.1.192', 'hisi-acc/debian-6.12.118')) {
  const want = expectedDebianCell(spec);
  test(`${spec.src} -> ${spec.dst} ${spec.workload} ${spec.transfer}: ${want.outcome}`, () => {
    const r = runAndJudge(spec);
    expect(r.verdict).toMatchObject(want);
    if (want.outcome === 'refused') {
      // QEMU's two writes (the PRE_COPY header, then the rest) reach an offset-blind resume fd
      const writes = r.evidence.timeline.filter((e) => e.side === 'dst' && e.kind === 'write').map((e) => e.detail.size);
      expect(writes).toEqual([40, 136]);
      expect(r.evidence.srcFinalState).toBe('RUNNING');
      expect(r.evidence.guestOn).toBe('src');
    }
  });
}
