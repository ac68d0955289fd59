// A VF configuration from YAML (`--dest CONFIG.yaml`): any DeviceConfig field, the rest default.
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { DEFAULT_DEVICE, DEVICE_IDS, type DeviceConfig } from '../device/mmio.ts';
import { UsageError } from '../util/usage-error.ts';

export function parseDeviceConfig(text: string, file: string): DeviceConfig {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new UsageError(`${file}: invalid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new UsageError(`${file}: expected a mapping of device fields`);
  const c: DeviceConfig = { ...DEFAULT_DEVICE };
  const int = (k: string, v: unknown, max: number) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw new UsageError(`${file}: ${k}: expected an integer 0..${max}, got ${JSON.stringify(v)}`);
    return v;
  };
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    switch (k) {
      case 'type':
        if (typeof v !== 'string' || !(v in DEVICE_IDS)) throw new UsageError(`${file}: type: expected SEC, HPRE or ZIP, got ${JSON.stringify(v)}`);
        c.type = v as DeviceConfig['type'];
        break;
      case 'qpNum':
        c.qpNum = int(k, v, 1024);
        if (c.qpNum < 1) throw new UsageError(`${file}: qpNum: must be at least 1`);
        break;
      case 'qpBase':
        c.qpBase = int(k, v, 0xffff);
        break;
      case 'queIsoCfg':
        c.queIsoCfg = int(k, v, 0xffffffff);
        break;
      case 'vfId':
        c.vfId = int(k, v, 0xffff);
        break;
      case 'hwMode':
        if (v !== 'vf-ctrl' && v !== 'pf-ctrl') throw new UsageError(`${file}: hwMode: expected vf-ctrl or pf-ctrl, got ${JSON.stringify(v)}`);
        c.hwMode = v;
        break;
      default:
        throw new UsageError(`${file}: ${k}: unknown key (expected type, qpNum, qpBase, queIsoCfg, vfId, hwMode)`);
    }
  }
  return c;
}

export function readDeviceConfig(path: string): DeviceConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`${path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseDeviceConfig(text, path);
}
