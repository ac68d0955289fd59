/*
 * The QM helpers a VFIO migration driver imports from the accelerator driver (hisi_qm_mb,
 * hisi_qm_wait_mb_ready), written from the mailbox protocol (docs/reference.md#mailbox): wait for the busy
 * bit to clear, one 128-bit store, wait again, then check the status bits.
 */
#include <shim/kernel.h>
#include <linux/hisi_acc_qm.h>

#define SHIM_MB_STATUS_MASK GENMASK(12, 9)
#define SHIM_MB_POLL_US 10
#define SHIM_MB_TIMEOUT_US 1000

int hisi_qm_wait_mb_ready(struct hisi_qm *qm)
{
	u32 val;

	return readl_relaxed_poll_timeout(qm->io_base + QM_MB_CMD_SEND_BASE, val,
					  !((val >> QM_MB_BUSY_SHIFT) & 0x1), SHIM_MB_POLL_US,
					  SHIM_MB_TIMEOUT_US);
}

int hisi_qm_mb(struct hisi_qm *qm, u8 cmd, dma_addr_t dma_addr, u16 queue, bool op)
{
	u8 mb[16] = { 0 };
	u16 w0 = (u16)(cmd | (op ? 1u << QM_MB_OP_SHIFT : 0) | (1u << QM_MB_BUSY_SHIFT));
	u32 lo = lower_32_bits(dma_addr), hi = upper_32_bits(dma_addr);
	int ret = 0;

	mb[0] = w0 & 0xff; mb[1] = w0 >> 8;
	mb[2] = queue & 0xff; mb[3] = queue >> 8;
	for (int i = 0; i < 4; i++) {
		mb[4 + i] = (lo >> (8 * i)) & 0xff;
		mb[8 + i] = (hi >> (8 * i)) & 0xff;
	}

	mutex_lock(&qm->mailbox_lock);
	if (hisi_qm_wait_mb_ready(qm)) {
		dev_err(&qm->pdev->dev, "mailbox busy before send\n");
		ret = -EBUSY;
	} else {
		memcpy_toio(qm->io_base + QM_MB_CMD_SEND_BASE, mb, sizeof(mb));
		if (hisi_qm_wait_mb_ready(qm)) {
			dev_err(&qm->pdev->dev, "mailbox timeout\n");
			ret = -ETIMEDOUT;
		} else if (readl(qm->io_base + QM_MB_CMD_SEND_BASE) & SHIM_MB_STATUS_MASK) {
			dev_err(&qm->pdev->dev, "mailbox command failed\n");
			ret = -EIO;
		}
	}
	if (ret)
		atomic64_inc(&qm->debug.dfx.mb_err_cnt);
	mutex_unlock(&qm->mailbox_lock);
	return ret;
}
