// `migcompat ktree …`: real driver code as a revision (harness/ktree, docs/ktree.md).
//   fetch debian-6.1|debian-6.12 [--version V] [--json]
//                                               download Debian's linux-source (newest point release of the series)
//                                               and extract the driver's files and the VFIO core's source
//   build (--tree PATH | --debian debian-6.1|debian-6.12) --name NAME [--force] [--json]
//                                               build hisi_acc_vfio_pci.c and the core's state walk unmodified
//                                               against the shim; registers ktree:NAME
//   module (--tree PATH | --debian debian-6.1|debian-6.12) --headers DIR|PKG[=VER] [--arch arm64|x86_64] [--modules A,B] [--force] [--json]
//                                               build kernel modules (hisi_qm, hisi_acc_vfio_pci and what they need) for those headers
//   list [--json]                               registered ktree: revisions
//   compare --model ID --real ktree:NAME [--quick] [--findings FILE] [--json]
//                                               self-check: probes and a matrix slice on both; exit 1 on an unrecorded disagreement
import { parseCommandArgs, type Command } from '../command.ts';
import { UsageError } from '../../util/usage-error.ts';

const USAGE = 'migcompat ktree fetch debian-6.1|debian-6.12 [--version V] | build (--tree PATH | --debian debian-6.1|debian-6.12) --name NAME [--force] | module (--tree PATH | --debian debian-6.1|debian-6.12) --headers DIR|PKG[=VER] [--arch arm64|x86_64] [--modules A,B] [--force] | list | compare --model ID --real ktree:NAME [--quick] [--findings FILE] [--json]';

const ktree: Command = {
  name: 'ktree',
  usage: USAGE,
  summary: 'build a kernel tree\'s hisi_acc driver against the shim (ktree:NAME revisions) and compare it with a model',
  async run(argv) {
    const { values: o, positionals: p } = parseCommandArgs(argv, {
      tree: { type: 'string' }, debian: { type: 'string' }, name: { type: 'string' }, version: { type: 'string' },
      model: { type: 'string' }, real: { type: 'string' }, findings: { type: 'string' }, quick: { type: 'boolean' },
      force: { type: 'boolean' }, json: { type: 'boolean' }, headers: { type: 'string' }, arch: { type: 'string' }, modules: { type: 'string' },
    }, USAGE);
    const [sub, ...rest] = p;
    const { toJson } = await import('../../util/hex.ts');
    const out = (v: unknown, text: string) => process.stdout.write((o.json ? toJson(v) : text) + '\n');
    switch (sub) {
      case 'fetch': {
        if (rest.length !== 1) throw new UsageError(`ktree fetch needs one tree name, e.g. debian-6.12 (usage: ${USAGE})`);
        const { fetchDebian } = await import('../../ktree/fetch.ts');
        const t = fetchDebian(rest[0], o.version);
        out(t, `${t.name}: linux ${t.kernelVersion} (package ${t.pkgVersion}) in ${t.dir}${t.cached ? ' (cached)' : ''}`);
        return 0;
      }
      case 'build': {
        if (!o.name) throw new UsageError(`ktree build needs --name NAME (usage: ${USAGE})`);
        if (!!o.tree === !!o.debian) throw new UsageError('ktree build needs exactly one of --tree PATH or --debian debian-6.1|debian-6.12');
        const { resolve } = await import('node:path');
        const { buildTree } = await import('../../ktree/build.ts');
        const { registerKtree } = await import('../../ktree/registry.ts');
        let tree = o.tree ? resolve(o.tree) : '';
        let pkgVersion: string | undefined;
        if (o.debian) ({ dir: tree, pkgVersion } = (await import('../../ktree/fetch.ts')).fetchDebian(o.debian, o.version));
        const b = buildTree(tree, { force: o.force });
        const e = registerKtree(o.name, tree, b, pkgVersion);
        out({ ...e, cached: b.cached, seconds: b.seconds },
          `ktree:${e.name}: linux ${e.kernelVersion}${pkgVersion ? ` (package ${pkgVersion})` : ''}, ` +
          `${b.cached ? 'cached build' : `built in ${b.seconds.toFixed(2)} s`} (${b.hash}) -> ${b.libPath}`);
        return 0;
      }
      case 'module': {
        if (!!o.tree === !!o.debian) throw new UsageError(`ktree module needs exactly one of --tree PATH or --debian debian-6.1 (usage: ${USAGE})`);
        if (!o.headers) throw new UsageError(`ktree module needs --headers DIR or a Debian package such as linux-headers-6.1.0-57-arm64 (usage: ${USAGE})`);
        const { resolve } = await import('node:path');
        const { ensureHeaders, parseKernelArch } = await import('../../kbuild/headers.ts');
        const { buildModules, fetchModuleSource, HOST_MODULES } = await import('../../kbuild/kmod.ts');
        const arch = parseKernelArch(o.arch ?? 'arm64');
        let tree = o.tree ? resolve(o.tree) : '';
        let treeVersion = 'local';
        if (o.debian) {
          const t = fetchModuleSource(o.debian, o.version);
          tree = t.dir;
          treeVersion = `${o.debian} ${t.pkgVersion}`;
        }
        const wanted = o.modules ? o.modules.split(',').map((m) => m.trim().replace(/-/g, '_')).filter(Boolean) : HOST_MODULES;
        const headers = ensureHeaders(o.headers, arch);
        const b = buildModules(tree, headers, wanted, { treeVersion, force: o.force, log: (s) => process.stderr.write(`${s}\n`) });
        out(b, [
          `${b.dir}`,
          `  ${b.cached ? 'cached build' : `built in ${b.seconds.toFixed(1)} s`} for ${b.kernelRelease} (${b.arch}) from ${b.treeVersion} (${b.hash})`,
          ...b.modules.map((m) => `  ${m.file}  depends=${m.depends.join(',') || '-'}  build-id ${m.buildId ?? '?'}`),
          `  needs from the kernel: ${b.external.join(', ') || 'nothing'}`,
          `  put it in place on lab hosts: migcompat lab INVENTORY --module ${b.dir}`,
        ].join('\n'));
        return 0;
      }
      case 'list': {
        const { readRegistry } = await import('../../ktree/registry.ts');
        const all = Object.values(readRegistry());
        out(all, all.length ? all.map((e) => `ktree:${e.name}  linux ${e.kernelVersion}${e.pkgVersion ? ` (${e.pkgVersion})` : ''}  ${e.tree}`).join('\n')
          : 'no ktree revisions registered');
        return 0;
      }
      case 'compare': {
        if (!o.model || !o.real) throw new UsageError(`ktree compare needs --model ID and --real ktree:NAME (usage: ${USAGE})`);
        const { compare, formatReport } = await import('../../ktree/compare.ts');
        const rep = await compare(o.model, o.real, { scope: o.quick ? 'quick' : 'full', findingsFile: o.findings });
        out(rep, formatReport(rep));
        return rep.unrecorded > 0 ? 1 : 0;
      }
      default:
        throw new UsageError(`unknown ktree subcommand '${sub ?? ''}' (usage: ${USAGE})`);
    }
  },
};
export default ktree;
