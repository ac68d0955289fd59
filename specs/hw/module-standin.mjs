#!/usr/bin/env node
// Stand-in for the kernel side of a module swap (harness/runners/lab/moduleSwap.ts), so the swap
// runs end to end over SSH without touching this machine's modules: insmod, rmmod, modprobe and
// sysfs writes act on a fake sysfs tree (ROOT), the way the kernel would for the HiSilicon drivers:
// - insmod FILE: takes name=, depends= and the build-id note from the .ko; refuses a loaded module or
//   a missing dependency; a PCI driver module registers its driver and probes matching devices;
// - rmmod NAME…: refuses while another module depends on it; unbinds its devices, and a PF driver
//   takes its VFs away (SR-IOV is disabled on remove);
// - modprobe NAME…: loads the host's own build (INSTALLED below) with its dependencies;
// - write FILE VALUE [FILE VALUE…]: driver/unbind, driver_override, drivers_probe and sriov_numvfs as
//   the kernel treats them; any other file is written as is.
// Every call is appended to ROOT/../calls.log; ROOT/../fail names "op arg" calls that must fail.
// Usage: module-standin.mjs ROOT insmod|rmmod|modprobe|write ARGS…
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const [root, op, ...args] = process.argv.slice(2);
const base = dirname(root);
appendFileSync(join(base, 'calls.log'), JSON.stringify({ op, args }) + '\n');
const fails = existsSync(join(base, 'fail')) ? readFileSync(join(base, 'fail'), 'utf8').split('\n').filter(Boolean) : [];
const die = (msg) => {
  process.stderr.write(`${op}: ${msg}\n`);
  process.exit(1);
};
if (fails.includes(`${op} ${args[0]}`)) die(`injected failure (${args[0]})`);

// the host's own modules: dependencies and build ids (what modprobe loads)
const INSTALLED = {
  hisi_qm: { deps: [] }, hisi_sec2: { deps: ['hisi_qm', 'authenc'] }, hisi_hpre: { deps: ['hisi_qm'] }, hisi_zip: { deps: ['hisi_qm'] },
  hisi_acc_vfio_pci: { deps: ['hisi_qm', 'hisi_sec2', 'hisi_hpre', 'hisi_zip', 'vfio_pci_core', 'vfio'] },
  authenc: { deps: [] }, vfio: { deps: [] }, vfio_pci_core: { deps: ['vfio'] }, ecc: { deps: [] }, ecdh_generic: { deps: ['ecc'] }, libcurve25519_generic: { deps: [] },
};
// PF kind each PF driver binds (the devices carry a `kind` file); the VFIO driver binds only by override
const PF_DRIVER = { hisi_sec2: 'sec', hisi_hpre: 'hpre', hisi_zip: 'zip' };
const installedId = (name) => Buffer.from(`installed-${name}`).toString('hex').padEnd(40, '0').slice(0, 40);

const dev = (bdf, attr = '') => join(root, 'bus/pci/devices', bdf, attr);
const drivers = join(root, 'bus/pci/drivers');
const modDir = (n) => join(root, 'module', n);
const state = () => (existsSync(join(base, 'deps.json')) ? JSON.parse(readFileSync(join(base, 'deps.json'), 'utf8')) : {});
const saveState = (s) => writeFileSync(join(base, 'deps.json'), JSON.stringify(s));
const driverOf = (bdf) => (existsSync(dev(bdf, 'driver')) || isLink(dev(bdf, 'driver')) ? basename(readlinkSync(dev(bdf, 'driver'))) : null);
function isLink(p) {
  try {
    readlinkSync(p);
    return true;
  } catch {
    return false;
  }
}
const devices = () => (existsSync(join(root, 'bus/pci/devices')) ? readdirSync(join(root, 'bus/pci/devices')) : []);
const read = (p, d = '') => (existsSync(p) ? readFileSync(p, 'utf8').trim() : d);
const pfOf = (bdf) => (isLink(dev(bdf, 'physfn')) ? basename(readlinkSync(dev(bdf, 'physfn'))) : null);

function note(id) {
  const desc = Buffer.from(id, 'hex');
  const h = Buffer.alloc(12);
  h.writeUInt32LE(4, 0);
  h.writeUInt32LE(desc.length, 4);
  h.writeUInt32LE(3, 8);
  return Buffer.concat([h, Buffer.from('GNU\0'), desc]);
}

function bindDev(bdf, drv) {
  symlinkSync(`../../drivers/${drv}`, dev(bdf, 'driver'));
}

/** What the kernel would bind a free device to: its override, else its PF kind's driver (VFs: their PF's driver). */
function probe(bdf) {
  if (driverOf(bdf)) return;
  const override = read(dev(bdf, 'driver_override'), '(null)');
  if (override !== '(null)') {
    if (existsSync(join(drivers, override))) bindDev(bdf, override);
    return;
  }
  const kind = read(dev(pfOf(bdf) ?? bdf, 'kind'));
  const drv = Object.entries(PF_DRIVER).find(([, k]) => k === kind)?.[0];
  if (drv && existsSync(join(drivers, drv))) bindDev(bdf, drv);
}

function setVfs(pf, n) {
  for (const d of devices()) if (pfOf(d) === pf) rmSync(dev(d), { recursive: true, force: true });
  const [dom, bus, df] = pf.split(':');
  const slot = df.split('.')[0];
  for (let i = 1; i <= n; i++) {
    const vf = `${dom}:${bus}:${slot}.${i}`;
    mkdirSync(dev(vf), { recursive: true });
    symlinkSync(`../${pf}`, dev(vf, 'physfn'));
    writeFileSync(dev(vf, 'driver_override'), '(null)\n');
  }
  writeFileSync(dev(pf, 'sriov_numvfs'), `${n}\n`);
  for (let i = 1; i <= n; i++) probe(`${dom}:${bus}:${slot}.${i}`);
}

function load(name, deps, id) {
  if (existsSync(modDir(name))) die(`ERROR: could not insert module: File exists (${name})`);
  const s = state();
  for (const d of deps) if (!existsSync(modDir(d))) die(`ERROR: could not insert '${name}': Unknown symbol in module (needs ${d})`);
  mkdirSync(join(modDir(name), 'notes'), { recursive: true });
  writeFileSync(join(modDir(name), 'notes/.note.gnu.build-id'), note(id));
  writeFileSync(join(modDir(name), 'initstate'), 'live\n');
  s[name] = deps;
  saveState(s);
  if (name in PF_DRIVER || name === 'hisi_acc_vfio_pci') {
    mkdirSync(join(drivers, name), { recursive: true });
    for (const d of devices()) probe(d);
  }
}

function modinfoField(ko, key) {
  const i = ko.indexOf(Buffer.from(`\0${key}=`));
  if (i < 0) return '';
  return ko.toString('latin1', i + key.length + 2, ko.indexOf(0, i + 1));
}

if (op === 'insmod') {
  const ko = readFileSync(args[0]);
  const name = modinfoField(ko, 'name');
  const deps = modinfoField(ko, 'depends').split(',').filter(Boolean).map((d) => d.replace(/-/g, '_'));
  const at = ko.indexOf(Buffer.from([4, 0, 0, 0, 20, 0, 0, 0, 3, 0, 0, 0, 0x47, 0x4e, 0x55, 0]));
  if (!name || at < 0) die(`${args[0]}: not a module with a build id`);
  load(name, deps, ko.subarray(at + 16, at + 36).toString('hex'));
} else if (op === 'modprobe') {
  const visit = (n) => {
    if (existsSync(modDir(n))) return;
    const m = INSTALLED[n];
    if (!m) die(`FATAL: Module ${n} not found`);
    m.deps.forEach(visit);
    load(n, m.deps, installedId(n));
  };
  args.forEach(visit);
} else if (op === 'rmmod') {
  for (const name of args) rmmod(name);
} else if (op === 'write') {
  for (let i = 0; i + 1 < args.length; i += 2) write(args[i], args[i + 1]);
} else {
  die(`unknown op ${op}`);
}

function rmmod(name) {
  if (!existsSync(modDir(name))) die(`ERROR: Module ${name} is not currently loaded`);
  const s = state();
  const users = Object.entries(s).filter(([n, deps]) => n !== name && existsSync(modDir(n)) && deps.includes(name)).map(([n]) => n);
  if (users.length) die(`ERROR: Module ${name} is in use by: ${users.join(' ')}`);
  for (const d of devices()) {
    if (driverOf(d) !== name) continue;
    rmSync(dev(d, 'driver'));
    if (name in PF_DRIVER && existsSync(dev(d, 'sriov_numvfs'))) setVfs(d, 0);
  }
  rmSync(join(drivers, name), { recursive: true, force: true });
  rmSync(modDir(name), { recursive: true, force: true });
  delete s[name];
  saveState(s);
}

function write(file, value) {
  const rel = file.slice(root.length + 1);
  let m;
  if ((m = /^bus\/pci\/devices\/([^/]+)\/driver\/unbind$/.exec(rel))) {
    if (value !== m[1] || !driverOf(m[1])) die(`write error: No such device`);
    rmSync(dev(m[1], 'driver'));
  } else if ((m = /^bus\/pci\/devices\/([^/]+)\/driver_override$/.exec(rel))) {
    writeFileSync(file, value.trim() ? `${value.trim()}\n` : '(null)\n');
  } else if (rel === 'bus/pci/drivers_probe') {
    if (!existsSync(dev(value))) die('write error: No such device');
    probe(value);
  } else if ((m = /^bus\/pci\/devices\/([^/]+)\/sriov_numvfs$/.exec(rel))) {
    const n = Number(value);
    if (!driverOf(m[1])) die('write error: No such device (no PF driver)');
    if (n > 0 && Number(read(file, '0')) > 0) die('write error: Device or resource busy');
    setVfs(m[1], n);
  } else {
    writeFileSync(file, value);
  }
}
