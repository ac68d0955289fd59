/*
 * The one shim file compiled against the tree's driver header: it reaches into the driver's own
 * structs for what hardware or the PF driver would hold (the PF's QM) and for what firmware
 * reads after a restore (the VF QM's DMA addresses: docs/device-model.md#model-assumptions).
 */
#include <shim/runtime.h>
#include "hisi_acc_vfio_pci.h"

void *calloc(size_t n, size_t size);
void free(void *p);

void *shim_glue_new_pf_qm(struct pci_dev *pf, void __iomem *io_base, int hw_ver)
{
	struct hisi_qm *qm = calloc(1, sizeof(*qm));

	if (!qm)
		return NULL;
	qm->ver = (enum qm_hw_ver)hw_ver;
	qm->fun_type = QM_HW_PF;
	qm->pdev = pf;
	qm->io_base = io_base;
	mutex_init(&qm->mailbox_lock);
	return qm;
}

void shim_glue_free_pf_qm(void *qm) { free(qm); }

int shim_glue_vf_qm(struct vfio_device *vdev, u64 *dma4, u32 *qp)
{
	struct hisi_acc_vf_core_device *h = container_of(vdev, struct hisi_acc_vf_core_device, core_device.vdev);
	struct hisi_qm *qm = &h->vf_qm;

	dma4[0] = qm->eqe_dma;
	dma4[1] = qm->aeqe_dma;
	dma4[2] = qm->sqc_dma;
	dma4[3] = qm->cqc_dma;
	qp[0] = qm->qp_base;
	qp[1] = qm->qp_num;
	qp[2] = h->vf_qm_state;
	return 0;
}
