// The hisi migration file behind a data fd (docs/reference.md#resume-fd-write-semantics,
// docs/reference.md#save-fd-read-semantics, docs/reference.md#stream-length-by-situation): a 176-byte buffer
// holding struct acc_vf_data, a file position and total_length. The offset trait decides whether reads and
// writes copy at the file position (R2+) or always at buffer offset 0 (R0, R1, R-Deb).
import { ACC_VF_DATA_SIZE } from '../formats/accVfData.ts';
import { fail, ok, type IoResult } from '../util/errno.ts';
import type { DataFd, PrecopyInfo } from '../vfio/types.ts';

export interface MigFileHooks {
  /** true when the revision implements VFIO_MIG_GET_PRECOPY_INFO (R1+) */
  precopyIoctl: boolean;
  /** copy at buffer offset 0 whatever the position (the pre-v6.8 defect) */
  offsetBlind: boolean;
  /** current migration state of the device (PRECOPY_INFO is valid only in PRE_COPY) */
  isPreCopy(): boolean;
  /** R1+: the match check at the end of every write(); an error is reported as EFAULT */
  afterWrite?(file: MigFile): IoResult<void>;
}

export class MigFile implements DataFd {
  readonly buf = new Uint8Array(ACC_VF_DATA_SIZE);
  pos = 0;
  totalLength = 0;
  disabled = false;
  constructor(readonly fd: number, readonly kind: 'save' | 'resume', private readonly hooks: MigFileHooks) {}

  read(maxBytes: number): IoResult<Uint8Array> {
    if (this.kind !== 'save') return fail('EBADF'); // the resume fd is O_WRONLY: the VFS refuses
    if (this.pos > this.totalLength) return fail('EINVAL');
    if (this.disabled) return fail('ENODEV');
    const n = Math.max(0, Math.min(maxBytes, this.totalLength - this.pos));
    const from = this.hooks.offsetBlind ? 0 : this.pos;
    const out = this.buf.slice(from, from + n);
    this.pos += n;
    return ok(out);
  }

  write(bytes: Uint8Array): IoResult<number> {
    if (this.kind !== 'resume') return fail('EBADF'); // the save fd is O_RDONLY
    if (this.pos + bytes.length > ACC_VF_DATA_SIZE) return fail('ENOMEM');
    if (this.disabled) return fail('ENODEV');
    this.buf.set(bytes, this.hooks.offsetBlind ? 0 : this.pos);
    this.pos += bytes.length;
    this.totalLength += bytes.length;
    if (this.hooks.afterWrite) {
      const r = this.hooks.afterWrite(this);
      if (!r.ok) return fail('EFAULT'); // docs/reference.md#where-the-match-check-runs: every check failure surfaces as -EFAULT, data already stored
    }
    return ok(bytes.length);
  }

  precopyInfo(): IoResult<PrecopyInfo> {
    if (!this.hooks.precopyIoctl || this.kind !== 'save') return fail('ENOTTY');
    if (!this.hooks.isPreCopy()) return fail('EINVAL');
    if (this.disabled) return fail('ENODEV');
    if (this.pos > this.totalLength) return fail('EINVAL');
    return ok({ initialBytes: BigInt(this.totalLength - this.pos), dirtyBytes: 0n });
  }

  /** hisi_acc_vf_disable_fd: further I/O fails with ENODEV; position and length reset (docs/reference.md#stream-length-by-situation). */
  disable(): void {
    this.disabled = true;
    this.pos = 0;
    this.totalLength = 0;
  }

  /** user space closing its fd does not change the driver's state */
  close(): void {}
}
