// A VF configuration from YAML (`--dest CONFIG.yaml`): any DeviceConfig field, the rest default.
// The shape is specs/schemas/device-config.schema.json's (matrices use it for devices.configs too).
import { DEFAULT_DEVICE, type DeviceConfig } from '../device/mmio.ts';
import { loadYaml, readYaml } from '../util/yamlSchema.ts';

export function parseDeviceConfig(text: string, file: string): DeviceConfig {
  return { ...DEFAULT_DEVICE, ...(loadYaml('device-config', text, file) as Partial<DeviceConfig>) };
}

export function readDeviceConfig(path: string): DeviceConfig {
  return { ...DEFAULT_DEVICE, ...(readYaml('device-config', path) as Partial<DeviceConfig>) };
}
