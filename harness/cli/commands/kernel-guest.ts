// `migcompat kernel-guest image|run|shell|lab`: the kernel guest from the command line
// (docs/kernel-guest.md). `image` builds or shows the cached guest; `run -- CMD…` boots it, runs one
// command inside (the word `migcompat` runs the repository's CLI there) and powers it off; `shell`
// runs each line read from stdin inside one booted guest; `lab` makes the guest an SSH lab host and
// runs `migcompat lab` against it (capture/load between its mdevs, a stream corpus). The guest's
// console and the lab's files land in results/<run-id>/.
import type { Command } from '../command.ts';
import { parseCommandArgs } from '../command.ts';
import { UsageError } from '../../util/usage-error.ts';
import type { KernelGuest } from '../../runners/kernel-guest/guest.ts';

const usage = 'migcompat kernel-guest image [--json] | run [--mdev TYPE:UUID]... [--json] -- CMD [ARG...] | shell [--mdev TYPE:UUID]... | lab [--pairs] [--corpus DIR] [--transfer PLAN] [--json]';

const command: Command = {
  name: 'kernel-guest',
  usage,
  summary: "Debian's kernel with the mtty sample migration driver in a TCG guest: build it, run migcompat inside, or a line shell",
  async run(argv) {
    const dash = argv.indexOf('--');
    const own = dash >= 0 ? argv.slice(0, dash) : argv;
    const inner = dash >= 0 ? argv.slice(dash + 1) : [];
    const { values, positionals } = parseCommandArgs(own, {
      json: { type: 'boolean' }, mdev: { type: 'string', multiple: true }, pairs: { type: 'boolean' }, corpus: { type: 'string' }, transfer: { type: 'string' },
    }, usage);
    const [sub, ...extra] = positionals;
    if (extra.length) throw new UsageError(`unexpected '${extra[0]}' (put the guest's command after --; usage: ${usage})`);
    const { ensureKernelGuestImage } = await import('../../runners/kernel-guest/image.ts');
    const log = (s: string) => process.stderr.write(`kernel-guest: ${s}\n`);
    if (sub === 'image') {
      const img = ensureKernelGuestImage(log);
      if (values.json) process.stdout.write(JSON.stringify(img, null, 2) + '\n');
      else {
        process.stdout.write([
          `kernel guest ${img.dir}`, `  kernel ${img.kernelRelease} (VFIO core: ${img.vfioCore})`, `  modules ${img.modules.join(' ')}`,
          `  mtty.c sha256 ${img.mttySourceSha256}`, `  initrd ${img.initrdBytes} bytes`,
          ...Object.entries(img.packages).map(([p, v]) => `  ${p} ${v}`),
        ].join('\n') + '\n');
      }
      return 0;
    }
    if (sub !== 'run' && sub !== 'shell' && sub !== 'lab') throw new UsageError(`unknown kernel-guest subcommand '${sub ?? ''}' (usage: ${usage})`);
    if (sub === 'lab') {
      const { parsePlan } = await import('../../transfer/plan.ts');
      parsePlan(values.transfer ?? 'single');
      const { existsSync } = await import('node:fs');
      if (values.corpus && !existsSync(values.corpus)) throw new UsageError(`corpus folder ${values.corpus} does not exist`);
    }
    if (sub === 'run' && inner.length === 0) throw new UsageError(`run needs a command after -- (e.g. -- migcompat probe --device mdev:UUID; usage: ${usage})`);
    const { DEFAULT_MDEVS, GuestFailure, KernelGuest, REPO_ROOT, parseMdevSpec } = await import('../../runners/kernel-guest/guest.ts');
    const mdevs = values.mdev ? values.mdev.map(parseMdevSpec) : DEFAULT_MDEVS;
    const image = ensureKernelGuestImage(log);
    const { join } = await import('node:path');
    const { runDir } = await import('../../util/runDir.ts');
    const dir = join(runDir(), 'kernel-guest');
    log(`booting ${image.kernelRelease} under TCG; console: ${join(dir, 'console.log')}`);
    let guest;
    const { freePort } = await import('../../runners/qemu/hop.ts');
    try {
      guest = await KernelGuest.boot({ image, dir, mdevs, ...(sub === 'lab' ? { sshPort: await freePort() } : {}) });
    } catch (e) {
      if (e instanceof GuestFailure) {
        process.stderr.write(`migcompat: kernel guest ${e.message}\n`);
        return 1;
      }
      throw e;
    }
    log(`ready in ${(guest.times.ready / 1000).toFixed(1)} s; mdev devices: ${guest.hello.mdevs.map((m) => `mdev:${m.uuid} (${m.type})`).join(', ')}`);
    const node = process.execPath;
    const cli = join(REPO_ROOT, 'bin/migcompat.js');
    try {
      if (sub === 'lab') return await lab(guest, dir, values);
      if (sub === 'run') {
        const cmd = inner[0] === 'migcompat' ? [node, cli, ...inner.slice(1)] : inner;
        const r = await guest.exec(cmd, { timeoutMs: 600_000 });
        if (values.json) process.stdout.write(JSON.stringify({ ...r, command: inner, kernelRelease: guest.hello.kernelRelease, mdevs: guest.hello.mdevs }, null, 2) + '\n');
        else {
          process.stdout.write(r.stdout);
          process.stderr.write(r.stderr);
        }
        if (r.timedOut) log(`the command did not finish within 600 s and was killed`);
        return r.code ?? 1;
      }
      // shell: one guest, a line at a time; `migcompat` is a shell function that runs the CLI
      const { createInterface } = await import('node:readline');
      const rl = createInterface({ input: process.stdin, terminal: false });
      const prompt = () => process.stdout.isTTY && process.stdout.write('guest$ ');
      prompt();
      for await (const line of rl) {
        if (line.trim()) {
          const r = await guest.exec(['/bin/sh', '-c', `migcompat() { "${node}" "${cli}" "$@"; }; ${line}`], { timeoutMs: 600_000 });
          process.stdout.write(r.stdout);
          process.stderr.write(r.stderr);
          if (r.code !== 0) process.stderr.write(`[exit ${r.code ?? r.signal}]\n`);
        }
        prompt();
      }
      return 0;
    } catch (e) {
      if (e instanceof GuestFailure) {
        process.stderr.write(`migcompat: kernel guest ${e.message}\n`);
        return 1;
      }
      throw e;
    } finally {
      await guest.stop();
    }
  },
};

/** The guest's first two mdevs as two lab hosts over SSH: pairs both ways, and/or a corpus replayed on both. */
async function lab(guest: KernelGuest, dir: string, values: { pairs?: boolean; corpus?: string; transfer?: string; json?: boolean }): Promise<number> {
  const { join } = await import('node:path');
  const { startGuestSshd, guestInventory } = await import('../../runners/kernel-guest/ssh.ts');
  const [a, b] = guest.hello.mdevs;
  if (!a || !b) throw new UsageError('kernel-guest lab needs two mdev devices (--mdev twice)');
  const ssh = await startGuestSshd(guest, dir);
  const invFile = join(dir, 'lab-inventory.yaml');
  const inv = guestInventory(guest, ssh, [{ name: 'guest-a', device: `mdev:${a.uuid}` }, { name: 'guest-b', device: `mdev:${b.uuid}` }], invFile, values.corpus);
  process.stderr.write(`kernel-guest: sshd on 127.0.0.1:${ssh.port}; inventory ${invFile}\n`);
  const transfer = values.transfer ?? 'single';
  const { SshTransport } = await import('../../runners/lab/transport.ts');
  const { runPairs, replayCorpus, writeLabResults, labMarkdown } = await import('../../runners/lab/run.ts');
  const t = new SshTransport();
  const cells = [];
  try {
    if (values.pairs || !values.corpus) cells.push(...(await runPairs(inv, t, { transfer, workDir: join(dir, 'lab', 'streams') })));
    if (values.corpus) cells.push(...(await replayCorpus(inv, t, values.corpus, transfer)));
  } finally {
    await t.close();
  }
  writeLabResults(join(dir, 'lab'), { cells });
  const { writeLabGrid } = await import('../../report/labGrid.ts');
  if (cells.length) writeLabGrid(join(dir, '..'), cells);
  if (values.json) process.stdout.write(JSON.stringify(cells.map(({ evidence: _e, ...c }) => c), null, 2) + '\n');
  else process.stdout.write(labMarkdown(cells) + `\nresults: ${join(dir, 'lab')}/lab.json, lab.md; inventory: ${invFile}\n`);
  return cells.some((c) => c.outcome === 'error' || c.outcome === 'broken') ? 1 : 0;
}

export default command;
