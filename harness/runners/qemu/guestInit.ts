// The guest's /init (busybox sh). It loads the modules the host listed, finds the workload's
// virtio-serial port, and then loops forever: one numbered line per iteration with the results of
// hashes, HMAC, AES-CBC and AES-GCM computed by the guest kernel through AF_ALG (kcapi tools). The host
// recomputes every value from the iteration number (workload.ts), so a line proves the kernel work
// happened where the guest ran. After the first iteration it prints, once, which kernel driver serves
// each algorithm (/proc/crypto): generic ones under TCG, hisi_sec_* on a HiSilicon VF in the lab.
// Before the first iteration it reports the hisi_* modules loaded and the devices each hisi_* PCI
// driver has bound (a HISI line); every iteration names the driver each algorithm went to (drv=) and
// the request count of the HiSilicon SEC devices (hw=, from hisi_sec2's debugfs counters).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const WORKLOAD_PORT = 'org.migcompat.workload';

/** Algorithms the workload exercises (names as in /proc/crypto). */
export const WORKLOAD_ALGS = ['sha256', 'sha512', 'hmac(sha256)', 'cbc(aes)', 'gcm(aes)'] as const;

/** The script's text (guest-init.sh beside this module). */
export function guestInit(): string {
  return readFileSync(fileURLToPath(new URL('./guest-init.sh', import.meta.url)), 'utf8');
}
