meta:
  id: qemu_vfio_device_state
  title: QEMU VFIO migration section payload (hw/vfio/migration.c)
  endian: be
  license: MIT
  ks-version: '0.11'
doc: |
  The payload of one "<device>/vfio" section of a QEMU migration stream: a sequence of big-endian
  64-bit markers, ended by END_OF_STATE. A DATA_STATE marker is followed by a be64 size and that
  many bytes of the device's own stream (for hisi_acc: pieces of struct acc_vf_data, e.g. 40 bytes
  in a PRE_COPY PART section and 136 in the END section). A CONFIG_STATE marker is followed by the
  vfio-pci config vmstate, which is opaque here and not self-delimiting: it is taken to run up to
  the 8-byte END_OF_STATE marker that ends the payload. All markers have all-ones high words and
  0xEF10 in bits 31..16 of the low word; 64-bit values are read as two u4 so they stay exact.
doc-ref:
  - QEMU hw/vfio/migration.c (VFIO_MIG_FLAG_END_OF_STATE .. VFIO_MIG_FLAG_DEV_CONFIG_LOAD_READY)
  - QEMU hw/vfio/migration.c (vfio_save_setup, vfio_save_iterate, vfio_save_complete_precopy, vfio_save_state, vfio_load_state)
seq:
  - id: records
    type: record
    repeat: until
    repeat-until: _.is_end or not _.is_known or _io.eof
    doc: |
      Markers with their data, up to and including END_OF_STATE. Reading stops early at an unknown
      marker (QEMU's loader fails with -EINVAL there) or at the end of the input.
types:
  record:
    seq:
      - id: tag_hi
        type: u4
        doc: High word of the be64 marker; 0xFFFFFFFF for every VFIO marker.
        doc-ref: QEMU hw/vfio/migration.c (VFIO_MIG_FLAG_*)
      - id: tag_lo
        type: u4
        enum: vfio_mig_flag
        doc: Low word of the be64 marker, 0xEF10 in bits 31..16 and the flag code in bits 15..0.
        doc-ref: QEMU hw/vfio/migration.c (VFIO_MIG_FLAG_*)
      - id: data
        type:
          switch-on: 'tag_hi == 0xffffffff ? tag_lo : vfio_mig_flag::unknown'
          cases:
            'vfio_mig_flag::dev_data_state': data_chunk
            'vfio_mig_flag::dev_config_state': config_state
        doc: What follows the marker (nothing for most markers).
    instances:
      is_end:
        value: tag_hi == 0xffffffff and tag_lo == vfio_mig_flag::end_of_state
        doc: This record is VFIO_MIG_FLAG_END_OF_STATE.
      is_known:
        value: |
          tag_hi == 0xffffffff and (
            tag_lo == vfio_mig_flag::end_of_state or
            tag_lo == vfio_mig_flag::dev_config_state or
            tag_lo == vfio_mig_flag::dev_setup_state or
            tag_lo == vfio_mig_flag::dev_data_state or
            tag_lo == vfio_mig_flag::dev_init_data_sent or
            tag_lo == vfio_mig_flag::dev_config_load_ready)
        doc: The marker is one QEMU defines.
  data_chunk:
    doc: One chunk read from the device's migration data_fd, written as it was read.
    doc-ref: QEMU hw/vfio/migration.c (vfio_save_block)
    seq:
      - id: size_hi
        type: u4
        doc: High word of the be64 chunk size (0 in practice; QEMU reads at most 1 MiB at a time).
      - id: size_lo
        type: u4
        doc: Low word of the be64 chunk size.
      - id: body
        size: size_hi * 4294967296 + size_lo
        doc: The device's own bytes, passed to the destination's data_fd by write().
  config_state:
    doc: The vfio-pci device config vmstate (PCI config space, MSI/MSI-X, ...), opaque here.
    doc-ref: QEMU hw/vfio/pci.c (vfio_pci_save_config)
    seq:
      - id: body
        size: '_io.size - _io.pos >= 8 ? _io.size - _io.pos - 8 : 0'
        doc: Everything up to the trailing END_OF_STATE marker.
enums:
  vfio_mig_flag:
    0xef100001: end_of_state
    0xef100002: dev_config_state
    0xef100003: dev_setup_state
    0xef100004: dev_data_state
    0xef100005: dev_init_data_sent
    0xef100006: dev_config_load_ready
    0: unknown
