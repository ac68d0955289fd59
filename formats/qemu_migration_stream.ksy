meta:
  id: qemu_migration_stream
  title: QEMU migration stream envelope (savevm), as written by QEMU 7.2
  file-extension: bin
  endian: be
  license: MIT
doc: |
  The byte stream `migrate` writes (to a socket, or to a file through `exec:cat > FILE`): a file
  header, the configuration section carrying the machine type, then sections (START/PART/END for
  iterable state such as RAM and VFIO devices, FULL for every other device), commands, an EOF byte and
  the JSON description of the devices (vmdesc). All integers are big-endian.

  The envelope is not self-describing everywhere: a PART/END header names its section by id only, and
  the body of a FULL (vmstate) section has no length of its own. The root type therefore parses the
  file header and the configuration; the section records are the types below, which
  harness/formats/qemuMigration.ts applies one after another, passing what the stream said earlier
  (which section id is "ram", the page size) and the body lengths it computes from the trailing vmdesc
  (every field's written size is recorded there). RAM bodies are decoded record by record so they can
  be stepped over; VFIO bodies are handed to qemu_vfio_device_state.ksy.
doc-ref:
  - QEMU migration/savevm.c, migration/ram.c, migration/vmstate.c (7.2)
  - docs/reference.md#migration-stream-envelope
seq:
  - id: header
    type: file_header
  - id: configuration
    type: configuration_section
    if: header.has_configuration
instances:
  configuration_present:
    value: header.has_configuration
types:
  file_header:
    seq:
      - id: magic
        contents: QEVM
      - id: version
        type: u4
        valid:
          any-of: [2, 3]
    instances:
      peek_type:
        pos: 8
        type: u1
      has_configuration:
        value: peek_type == section_type::configuration.to_i
  configuration_section:
    seq:
      - id: section_type
        contents: [0x07]
      - id: len
        type: u4
      - id: machine_type
        type: str
        size: len
        encoding: ASCII
      - id: subsections
        type: config_subsections
  config_subsections:
    doc: zero or more vmstate subsections of "configuration", each introduced by byte 0x05
    seq:
      - id: item
        type: config_subsection
        if: next_byte == 0x05
      - id: rest
        type: config_subsections
        if: next_byte == 0x05
    instances:
      next_byte:
        pos: _io.pos
        type: u1
        if: not _io.eof
  config_subsection:
    seq:
      - id: marker
        contents: [0x05]
      - id: name_len
        type: u1
      - id: name
        type: str
        size: name_len
        encoding: ASCII
      - id: version_id
        type: u4
      - id: body
        type:
          switch-on: name
          cases:
            '"configuration/target-page-bits"': u4
            '"configuration/capabilities"': capability_list
            '"configuration/uuid"': uuid
  capability_list:
    seq:
      - id: count
        type: u4
      - id: capabilities
        type: short_str
        repeat: expr
        repeat-expr: count
  uuid:
    seq:
      - id: bytes
        size: 16
  short_str:
    seq:
      - id: len
        type: u1
      - id: value
        type: str
        size: len
        encoding: ASCII

  section_full_header:
    doc: START (0x01) or FULL (0x04) section header, after the type byte
    seq:
      - id: section_id
        type: u4
      - id: idstr_len
        type: u1
      - id: idstr
        type: str
        size: idstr_len
        encoding: ASCII
      - id: instance_id
        type: u4
      - id: version_id
        type: u4
  section_short_header:
    doc: PART (0x02) or END (0x03) section header, after the type byte
    seq:
      - id: section_id
        type: u4
  footer:
    doc: written after every section body since machine types 2.4 (send-section-footer)
    seq:
      - id: marker
        contents: [0x7e]
      - id: section_id
        type: u4
  command:
    doc: a COMMAND record (0x08), after the type byte
    seq:
      - id: cmd
        type: u2
        enum: command_type
      - id: len
        type: u2
      - id: data
        size: len
    instances:
      ping_value:
        value: 'data[0] << 24 | data[1] << 16 | data[2] << 8 | data[3]'
        if: cmd == command_type::ping and len == 4
  vmdesc:
    doc: 'after EOF: type byte 0x06, length, the JSON description of the device sections'
    seq:
      - id: section_type
        contents: [0x06]
      - id: len
        type: u4
      - id: json
        type: str
        size: len
        encoding: UTF-8
  opaque_state:
    doc: a vmstate body whose length comes from the vmdesc
    params:
      - id: len
        type: u4
    seq:
      - id: body
        size: len

  ram_data:
    doc: |
      RAM records up to and including the one with the EOS flag. Each record starts with a be64 whose
      low bits (below the target page size) are flags and whose high bits are an address or a size.
    params:
      - id: page_size
        type: u4
    seq:
      - id: records
        type: ram_record(page_size)
        repeat: until
        repeat-until: _.is_eos
  ram_record:
    params:
      - id: page_size
        type: u4
    seq:
      - id: addr_flags
        type: u8
      - id: blocks
        type: ram_block_list(addr)
        if: has_mem_size
      - id: block_name
        type: short_str
        if: (has_page or has_zero or has_xbzrle or has_compressed) and not has_continue
      - id: zero_fill
        type: u1
        if: has_zero
      - id: page
        size: page_size
        if: has_page
      - id: xbzrle
        type: xbzrle_page
        if: has_xbzrle
      - id: compressed
        type: compressed_page
        if: has_compressed
      - id: unsupported
        size: 0
        if: has_hook
        valid:
          expr: false
    instances:
      flags:
        value: addr_flags % page_size
      addr:
        value: addr_flags - flags
      has_zero:
        value: flags & 0x02 != 0
      has_mem_size:
        value: flags & 0x04 != 0
      has_page:
        value: flags & 0x08 != 0
      is_eos:
        value: flags & 0x10 != 0
      has_continue:
        value: flags & 0x20 != 0
      has_xbzrle:
        value: flags & 0x40 != 0
      has_hook:
        value: flags & 0x80 != 0
      has_compressed:
        value: flags & 0x100 != 0
  ram_block_list:
    doc: RAMBlocks (name, used length) until their lengths add up to the total the MEM_SIZE record gave
    params:
      - id: remaining
        type: u8
    seq:
      - id: block
        type: ram_block
        if: remaining > 0
      - id: rest
        type: ram_block_list(remaining - block.used_length)
        if: remaining > 0 and block.used_length < remaining
  ram_block:
    seq:
      - id: name
        type: short_str
      - id: used_length
        type: u8
  xbzrle_page:
    seq:
      - id: encoding
        type: u1
      - id: len
        type: u2
      - id: data
        size: len
  compressed_page:
    seq:
      - id: len
        type: u4
      - id: data
        size: len
enums:
  section_type:
    0x00: eof
    0x01: start
    0x02: part
    0x03: end
    0x04: full
    0x05: subsection
    0x06: vmdescription
    0x07: configuration
    0x08: command
    0x7e: footer
  command_type:
    1: open_return_path
    2: ping
    3: postcopy_advise
    4: postcopy_listen
    5: postcopy_run
    6: postcopy_ram_discard
    7: packaged
    8: enable_colo
    9: postcopy_resume
    10: recv_bitmap
    11: switchover_start
