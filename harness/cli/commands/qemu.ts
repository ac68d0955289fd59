// `migcompat qemu image|builds|run|decode-stream`: the whole-VM runner from the command line.
import type { Command } from '../command.ts';
import { parseCommandArgs } from '../command.ts';
import { UsageError } from '../../util/usage-error.ts';

const usage = 'migcompat qemu image [--arch x86_64|aarch64] [--json] | builds [--arch A] [--json] | run [--arch x86_64|aarch64] [--src ID] [--dst ID] [--scenario single-hop|ping-pong|retry-after-refusal] [--retry-dst ID] [--transfer unix|tcp] [--inventory FILE [--module BUILD_DIR [--module-hosts A,B] [--swap-only M,N]]] [--json] | decode-stream FILE [--json]';

const command: Command = {
  name: 'qemu',
  usage,
  summary: 'whole-VM live migration with QEMU (TCG): build the guest image, run a case, decode a QEMU migration stream',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      json: { type: 'boolean' },
      src: { type: 'string' },
      dst: { type: 'string' },
      'retry-dst': { type: 'string' },
      scenario: { type: 'string' },
      transfer: { type: 'string' },
      inventory: { type: 'string' },
      arch: { type: 'string' },
      module: { type: 'string' }, 'module-hosts': { type: 'string' }, 'swap-only': { type: 'string' },
    }, usage);
    const [sub, ...rest] = positionals;
    const { toJson } = await import('../../util/hex.ts');
    const out = (v: unknown, text: string[]) => process.stdout.write((values.json ? toJson(v) : text.join('\n')) + '\n');
    const { parseArch, GUEST_ARCHES } = await import('../../runners/qemu/arch.ts');
    const arch = values.arch === undefined ? undefined : parseArch(values.arch);
    if (sub === 'image') {
      const { ensureImage } = await import('../../runners/qemu/image.ts');
      const img = await ensureImage({ arch: arch ?? 'x86_64' }, (s) => process.stderr.write(`${s}\n`));
      out(img, [`${img.arch} guest image ${img.dir}`, `  kernel ${img.kernelRelease}`, `  initrd ${img.initrdBytes} bytes, modules: ${img.modules.join(' ')}`,
        ...(img.hisiModules.length ? [`  HiSilicon guest drivers: ${img.hisiModules.join(' ')}`] : []),
        ...Object.entries(img.packages).map(([p, v]) => `  ${p} ${v}`)]);
      return 0;
    }
    if (sub === 'builds') {
      // every architecture unless --arch names one: cross-version pairs exist for both
      const { installedBuild, otherArchiveVersions, unpackedBuild } = await import('../../runners/qemu/builds.ts');
      const builds = [];
      for (const a of arch ? [arch] : GUEST_ARCHES) {
        builds.push(installedBuild(a));
        for (const v of otherArchiveVersions(a)) builds.push(await unpackedBuild(v, a));
      }
      out(builds, builds.map((b) => `${b.id}  ${b.arch}  (${b.debVersion}${b.installed ? ', installed' : `, unpacked: ${b.binary}`})`));
      return 0;
    }
    if (sub === 'run') {
      const { QemuRunner } = await import('../../runners/qemu/runner.ts');
      const { judge } = await import('../../oracle/judge.ts');
      const { DEFAULT_DEVICE } = await import('../../device/mmio.ts');
      const scenario = values.scenario ?? 'single-hop';
      if (!['single-hop', 'ping-pong', 'retry-after-refusal'].includes(scenario)) throw new UsageError(`unknown scenario '${scenario}' (usage: ${usage})`);
      if (values.transfer && !['unix', 'tcp'].includes(values.transfer)) throw new UsageError(`--transfer must be unix or tcp`);
      // lab mode: sides like qemu/installed@hostB+vfs name inventory hosts
      const inventory = values.inventory ? (await import('../../runners/lab/inventory.ts')).readInventory(values.inventory) : undefined;
      if (values.module && !inventory) throw new UsageError('--module needs --inventory (the hosts the build goes on)');
      const spec = {
        src: values.src ?? 'qemu/installed', dst: values.dst ?? 'qemu/installed', workload: 'kernel-crypto' as const,
        scenario: scenario as 'single-hop', transfer: values.transfer ?? 'unix', device: DEFAULT_DEVICE,
        ...(values['retry-dst'] ? { retryDst: values['retry-dst'] } : {}),
        requests: 0, inflight: 0, requestSize: 0, seed: 0, ...(arch ? { arch } : {}),
      };
      const runner = new QemuRunner({ ...(inventory ? { inventory } : {}) });
      let r: Awaited<ReturnType<typeof runner.runCase>> | null = null;
      let swapOk = true;
      if (values.module && inventory) {
        // the driver build in place on the hosts for this case only (docs/hardware.md#module-swap)
        const { HostTransport } = await import('../../runners/lab/transport.ts');
        const { withSwapOption } = await import('../swapOption.ts');
        const { runDir } = await import('../../util/runDir.ts');
        const t = new HostTransport();
        try {
          swapOk = await withSwapOption({ module: values.module, hosts: values['module-hosts'], only: values['swap-only'] }, inventory.hosts, t, runDir(), async () => {
            r = await runner.runCase(spec);
          });
        } finally {
          await t.close();
        }
        if (!r) return 1;
      } else r = await runner.runCase(spec);
      const verdict = judge(r.evidence);
      out({ verdict, hops: r.hops, bootMs: r.bootMs, drivers: r.drivers, attempts: r.attempts, evidence: r.evidence }, [
        `${r.evidence.caseId}: ${verdict.outcome} (${verdict.reason})`,
        `  boot to first workload line ${r.bootMs} ms; drivers ${Object.entries(r.drivers).map(([k, v]) => `${k}=${v}`).join(' ')}`,
        ...r.hops.map((h, i) => `  hop ${i + 1}: ${h.outcome}: ${h.reason}${h.figures.totalTimeMs !== null ? ` [total ${h.figures.totalTimeMs} ms, downtime ${h.figures.downtimeMs} ms, ${h.figures.transferredBytes} bytes]` : ''}`),
        ...r.evidence.checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`),
      ]);
      return !swapOk || verdict.outcome === 'error' || r.evidence.checks.some((c) => !c.ok) ? 1 : 0;
    }
    if (sub === 'decode-stream') {
      const file = rest[0];
      if (!file) throw new UsageError(`decode-stream needs a FILE (usage: ${usage})`);
      const { readFileSync, existsSync } = await import('node:fs');
      if (!existsSync(file)) throw new UsageError(`no such file: ${file}`);
      const { decodeQemuMigration, isQemuMigrationStream, summarizeQemuStream } = await import('../../formats/qemuMigration.ts');
      const bytes = readFileSync(file);
      if (!isQemuMigrationStream(bytes)) throw new UsageError(`${file} is not a QEMU migration stream (no QEVM magic)`);
      const d = decodeQemuMigration(bytes);
      const { spans: _spans, ...rest2 } = d;
      out({ ...rest2, vfioDevices: d.vfioDevices.map((v) => ({ idstr: v.idstr, bytes: v.bytes, layout: v.decoded.layout, ok: v.decoded.ok })) }, summarizeQemuStream(d));
      return d.ok ? 0 : 1;
    }
    throw new UsageError(`unknown qemu subcommand '${sub ?? ''}' (usage: ${usage})`);
  },
};

export default command;
