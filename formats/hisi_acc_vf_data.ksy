meta:
  id: hisi_acc_vf_data
  title: hisi_acc_vfio_pci live-migration device state (struct acc_vf_data)
  endian: le
  license: MIT
  ks-version: '0.11'
doc: |
  The bytes a hisi_acc_vfio_pci source hands out on the VFIO migration data_fd: the raw in-memory
  struct acc_vf_data, little-endian. A stream is either the 40-byte match header alone (PRE_COPY,
  or a guest without a ready VF driver) or the whole 176-byte struct. V1 and V2 headers differ only
  in bytes 28..39 and are told apart by the magic. Every 64-bit value is read as two u4 words so a
  JavaScript reader keeps it exact (readU8le would round it through a double).
doc-ref:
  - Linux v5.18 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.h (struct acc_vf_data, QM_MATCH_SIZE)
  - Linux v6.16 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.h (ACC_DEV_MAGIC_V2, major_ver, minor_ver)
seq:
  - id: header
    type: match_header
    size: 40
    doc: |
      The first QM_MATCH_SIZE (40) bytes: what a destination compares against its own VF before
      accepting the stream.
    doc-ref: Linux v5.18 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.h (QM_MATCH_SIZE)
  - id: body
    type: vf_body
    size: 136
    if: _io.size >= 176
    doc: |
      Register state and DMA addresses, present only in a full (176-byte) stream; absent when the
      guest VF driver was not ready or when only the PRE_COPY part was read.
    doc-ref: Linux v5.18 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.h (struct acc_vf_data)
  - id: excess
    size-eos: true
    if: _io.size != 40 and _io.size != 176
    doc: |
      Bytes no source ever produces: a stream is exactly 40 or 176 bytes long. Kept so that every
      byte of a malformed stream still has a name.
instances:
  length_ok:
    value: _io.size == 40 or _io.size == 176
    doc: True when the stream has one of the two lengths a source writes.
types:
  exact_u8le:
    doc: |
      A little-endian u64 kept as two u4 words (low word first, as in memory) so that no value
      passes through a JavaScript double; readers combine hi:lo as a 64-bit integer.
    seq:
      - id: lo
        type: u4
        doc: Bits 31..0.
      - id: hi
        type: u4
        doc: Bits 63..32.
  match_header:
    doc: The 40-byte match header (acc_magic through qm_rsv_state).
    doc-ref: Linux v5.18 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.h (struct acc_vf_data)
    seq:
      - id: acc_magic
        type: exact_u8le
        doc: |
          Stream magic. ACC_DEV_MAGIC (V1) 0xCDCDCDCDFEEDAACC is written by v5.18..v6.15 sources
          (bytes cc aa ed fe cd cd cd cd); ACC_DEV_MAGIC_V2 0xAACCFEEDDECADEDE by v6.16+ and
          Debian 6.1.192 (bytes de de ca de ed fe cc aa). Anything else is refused by every
          destination.
        doc-ref:
          - Linux v5.18 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.h (ACC_DEV_MAGIC)
          - Linux v6.16 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.h (ACC_DEV_MAGIC_V1, ACC_DEV_MAGIC_V2)
      - id: qp_num
        type: u4
        doc: |
          Number of queue pairs of the VF, from the PF's SQC VFT entry (bits 54..45, plus one).
          The destination compares it with its own VFT; a real source never writes 0.
        doc-ref: Linux v5.18 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.c (vf_qm_get_match_data)
      - id: dev_id
        type: u4
        enum: vf_device_id
        doc: |
          PCI device ID of the source VF (vendor 0x19E5): 0xA251 ZIP, 0xA256 SEC, 0xA259 HPRE.
          The destination refuses a stream from another kind of VF.
        doc-ref: Linux v5.18 include/linux/pci_ids.h (PCI_DEVICE_ID_HUAWEI_*_VF)
      - id: que_iso_cfg
        type: u4
        doc: |
          PF register QM_QUE_ISO_CFG_V (0x0030) on the source; the destination compares it with its
          own PF's register. Bit 0 is the doorbell-isolation capability.
        doc-ref: Linux v5.18 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.h (QM_QUE_ISO_CFG_V)
      - id: qp_base
        type: u4
        doc: |
          First queue index of the VF, from the PF's SQC VFT entry (bits 43..28). Transferred but
          never compared by a destination.
        doc-ref: Linux v5.18 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.c (vf_qm_get_match_data)
      - id: vf_qm_state
        type: u4
        enum: qm_state
        doc: |
          QM_VF_STATE as the source saw it: 0 QM_READY (guest VF driver started), 1 QM_NOT_READY
          (then the source stops after the header: a 40-byte stream). A PRE_COPY header carries 0.
        doc-ref: Linux v5.18 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.h (QM_READY, QM_NOT_READY)
      - id: rsv
        size: 12
        type:
          switch-on: layout
          cases:
            'layout::v2': rsv_v2
            _: rsv_v1
        doc: |
          Bytes 28..39: three reserved u32 in a V1 header (zero from a real source); in a V2 header
          major_ver and minor_ver carved out of the first reserved word, then two reserved u32.
          A header with an unknown magic is shown with the V1 labels.
        doc-ref:
          - Linux v5.18 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.h (qm_rsv_state[3])
          - Linux v6.16 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.h (major_ver, minor_ver, qm_rsv_state[2])
    instances:
      layout:
        value: '(acc_magic.hi == 0xcdcdcdcd and acc_magic.lo == 0xfeedaacc) ? 1 : ((acc_magic.hi == 0xaaccfeed and acc_magic.lo == 0xdecadede) ? 2 : 0)'
        enum: layout
        doc: |
          Which header layout the magic selects; compared word by word so that a magic off by one
          is not mistaken for a known one.
  rsv_v1:
    doc: V1 (and unknown-magic) bytes 28..39.
    doc-ref: Linux v5.18 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.h (qm_rsv_state[3])
    seq:
      - id: qm_rsv_state
        type: u4
        repeat: expr
        repeat-expr: 3
        doc: Reserved, zero from every V1 source.
        doc-ref: Linux v5.18 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.h (qm_rsv_state)
  rsv_v2:
    doc: V2 bytes 28..39.
    doc-ref: Linux v6.16 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.h (struct acc_vf_data)
    seq:
      - id: major_ver
        type: u2
        doc: |
          ACC_DRV_MAJOR_VER, 1 from every V2 source. A V2 destination refuses any other value.
        doc-ref: Linux v6.16 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.h (ACC_DRV_MAJOR_VER)
      - id: minor_ver
        type: u2
        doc: ACC_DRV_MINOR_VER, 0 from every V2 source; destinations ignore it.
        doc-ref: Linux v6.16 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.h (ACC_DRV_MINOR_VER)
      - id: qm_rsv_state
        type: u4
        repeat: expr
        repeat-expr: 2
        doc: Reserved, zero from every V2 source.
        doc-ref: Linux v6.16 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.h (qm_rsv_state[2])
  vf_body:
    doc: Bytes 40..175 of a full stream.
    doc-ref: Linux v5.18 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.h (struct acc_vf_data)
    seq:
      - id: aeq_int_mask
        type: u4
        doc: VF register QM_VF_AEQ_INT_MASK (0x0004); 1 masks AEQ interrupts.
        doc-ref: Linux v5.18 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.h (QM_VF_AEQ_INT_MASK)
      - id: eq_int_mask
        type: u4
        doc: VF register QM_VF_EQ_INT_MASK (0x000C); 1 masks EQ interrupts.
        doc-ref: Linux v5.18 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.h (QM_VF_EQ_INT_MASK)
      - id: ifc_int_source
        type: u4
        doc: VF register QM_IFC_INT_SOURCE_V (0x0020), PF-VF communication interrupt source.
        doc-ref: Linux v5.18 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.h (QM_IFC_INT_SOURCE_V)
      - id: ifc_int_mask
        type: u4
        doc: VF register QM_IFC_INT_MASK (0x0024).
        doc-ref: Linux v5.18 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.h (QM_IFC_INT_MASK)
      - id: ifc_int_set
        type: u4
        doc: VF register QM_IFC_INT_SET_V (0x002C); drained to 0 before the source stops.
        doc-ref: Linux v5.18 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.h (QM_IFC_INT_SET_V)
      - id: page_size
        type: u4
        doc: VF register QM_PAGE_SIZE (0x0034).
        doc-ref: Linux v5.18 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.h (QM_PAGE_SIZE)
      - id: qm_eqc_dw
        type: u4
        repeat: expr
        repeat-expr: 7
        doc: |
          EQ context shadow, VF registers 0x8000..0x8018 (0x1C00.. in PF-control mode, v6.19+):
          dw0 head (15..0) and tail (31..16), dw1 base low, dw2 base high, dw6 depth-1 (15..0) and
          initial phase (bit 16).
        doc-ref:
          - Linux v5.18 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.h (QM_EQC_DW0)
          - Linux v6.1 drivers/crypto/hisilicon/qm.c (struct qm_eqc)
      - id: qm_aeqc_dw
        type: u4
        repeat: expr
        repeat-expr: 7
        doc: |
          AEQ context shadow, VF registers 0x8020..0x8038 (0x1C20.. in PF-control mode), same
          dword meanings as the EQ context.
        doc-ref:
          - Linux v5.18 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.h (QM_AEQC_DW0)
          - Linux v6.1 drivers/crypto/hisilicon/qm.c (struct qm_aeqc)
      - id: qm_rsv_regs
        type: u4
        repeat: expr
        repeat-expr: 5
        doc: Reserved register space, never written (zero).
        doc-ref: Linux v5.18 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.h (qm_rsv_regs)
      - id: padding
        type: u4
        doc: Alignment padding before the 64-bit DMA addresses, zero.
        doc-ref: Linux v5.18 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.h (padding)
      - id: eqe_dma
        type: exact_u8le
        doc: |
          EQ base address composed by the source from the EQC dwords: dw1:dw0 (buggy, v5.18..v6.15)
          or dw2:dw1 (fixed, v6.16+ and Debian 6.1.192). v6.16+ destinations recompute it for a V1
          stream and skip the restore when any DMA address is zero.
        doc-ref:
          - Linux v5.18 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.c (vf_qm_state_save)
          - Linux v6.16 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.c (QM_XQC_ADDR_LOW, QM_XQC_ADDR_HIGH)
      - id: aeqe_dma
        type: exact_u8le
        doc: AEQ base address, composed from the AEQC dwords the same way as eqe_dma.
        doc-ref:
          - Linux v5.18 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.c (vf_qm_state_save)
          - Linux v6.16 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.c (QM_XQC_ADDR_LOW, QM_XQC_ADDR_HIGH)
      - id: sqc_dma
        type: exact_u8le
        doc: SQC table base, from a mailbox SQC_BT query (cmd 0x4) on the source.
        doc-ref: Linux v5.18 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.c (qm_get_sqc)
      - id: cqc_dma
        type: exact_u8le
        doc: CQC table base, from a mailbox CQC_BT query (cmd 0x5) on the source.
        doc-ref: Linux v5.18 drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.c (qm_get_cqc)
    instances:
      eq_head:
        value: qm_eqc_dw[0] & 0xffff
        doc: EQ head index (EQC dw0 bits 15..0).
      eq_tail:
        value: (qm_eqc_dw[0] >> 16) & 0xffff
        doc: EQ tail index (EQC dw0 bits 31..16).
      eq_depth:
        value: (qm_eqc_dw[6] & 0xffff) + 1
        doc: EQ depth in entries (EQC dw6 bits 15..0, plus one).
      eq_phase:
        value: (qm_eqc_dw[6] >> 16) & 1
        doc: Initial EQ phase (EQC dw6 bit 16).
      eq_base_fixed_hi:
        value: qm_eqc_dw[2]
        doc: High word of the EQ base composed the fixed way (dw2:dw1).
      eq_base_fixed_lo:
        value: qm_eqc_dw[1]
        doc: Low word of the EQ base composed the fixed way (dw2:dw1).
      eq_base_buggy_hi:
        value: qm_eqc_dw[1]
        doc: High word of the EQ base composed the buggy way (dw1:dw0).
      eq_base_buggy_lo:
        value: qm_eqc_dw[0]
        doc: Low word of the EQ base composed the buggy way (dw1:dw0).
      eqe_dma_is_fixed:
        value: eqe_dma.hi == qm_eqc_dw[2] and eqe_dma.lo == qm_eqc_dw[1]
        doc: eqe_dma equals the fixed composition dw2:dw1.
      eqe_dma_is_buggy:
        value: eqe_dma.hi == qm_eqc_dw[1] and eqe_dma.lo == qm_eqc_dw[0]
        doc: eqe_dma equals the buggy composition dw1:dw0.
      aeq_head:
        value: qm_aeqc_dw[0] & 0xffff
        doc: AEQ head index (AEQC dw0 bits 15..0).
      aeq_tail:
        value: (qm_aeqc_dw[0] >> 16) & 0xffff
        doc: AEQ tail index (AEQC dw0 bits 31..16).
      aeq_depth:
        value: (qm_aeqc_dw[6] & 0xffff) + 1
        doc: AEQ depth in entries (AEQC dw6 bits 15..0, plus one).
      aeq_phase:
        value: (qm_aeqc_dw[6] >> 16) & 1
        doc: Initial AEQ phase (AEQC dw6 bit 16).
      aeq_base_fixed_hi:
        value: qm_aeqc_dw[2]
        doc: High word of the AEQ base composed the fixed way (dw2:dw1).
      aeq_base_fixed_lo:
        value: qm_aeqc_dw[1]
        doc: Low word of the AEQ base composed the fixed way (dw2:dw1).
      aeq_base_buggy_hi:
        value: qm_aeqc_dw[1]
        doc: High word of the AEQ base composed the buggy way (dw1:dw0).
      aeq_base_buggy_lo:
        value: qm_aeqc_dw[0]
        doc: Low word of the AEQ base composed the buggy way (dw1:dw0).
      aeqe_dma_is_fixed:
        value: aeqe_dma.hi == qm_aeqc_dw[2] and aeqe_dma.lo == qm_aeqc_dw[1]
        doc: aeqe_dma equals the fixed composition dw2:dw1.
      aeqe_dma_is_buggy:
        value: aeqe_dma.hi == qm_aeqc_dw[1] and aeqe_dma.lo == qm_aeqc_dw[0]
        doc: aeqe_dma equals the buggy composition dw1:dw0.
enums:
  layout:
    0: unknown
    1: v1
    2: v2
  qm_state:
    0: qm_ready
    1: qm_not_ready
  vf_device_id:
    0xa251: zip_vf
    0xa256: sec_vf
    0xa259: hpre_vf
