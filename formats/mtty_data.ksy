meta:
  id: mtty_data
  title: mtty (Linux samples/vfio-mdev) live-migration device state (struct mtty_data)
  endian: le
  license: MIT
  ks-version: '0.11'
doc: |
  The bytes the kernel's sample mediated device mtty (a virtual PCI serial card with one or two
  8250-style UARTs, migration support since Linux v6.7) hands out on its VFIO migration data_fd.
  The stream is the driver's in-memory struct, copied as is: a 24-byte header (magic, version,
  port count, flags), then one 36-byte record per UART port of the instance. A source hands out
  the header alone in PRE_COPY and the port records once it reaches STOP_COPY, on the same fd.
  A destination checks the header as soon as 24 bytes have arrived (magic, version 1.0, flags 0,
  its own port count) and copies the port records into its UARTs on RESUMING->STOP without
  checking their contents. Offsets are those of the LP64 little-endian ABI (x86_64, arm64), where
  the compiler pads each port record to an even size. The 64-bit magic is read as two u4 words so
  it stays exact in JavaScript.
doc-ref:
  - Linux v6.12 samples/vfio-mdev/mtty.c (struct mtty_data, MTTY_MAGIC, MTTY_MAJOR_VER, MTTY_MINOR_VER)
  - Linux v6.12 samples/vfio-mdev/mtty.c (struct serial_port, struct rxtx, MAX_FIFO_SIZE)
  - Linux v6.12 samples/vfio-mdev/mtty.c (mtty_save_device_data, mtty_resume_write, mtty_load_state)
seq:
  - id: header
    type: header
    size: 24
    if: _io.size >= 24
    doc: |
      Magic, version, port count and flags: what a destination validates the moment the 24th byte
      arrives. Present when the stream holds at least 24 bytes.
  - id: ports
    type: serial_port
    size: 36
    repeat: expr
    repeat-expr: 'whole_ports'
    doc: |
      One record per UART port, in port order (BAR0 is port 0, BAR1 port 1). A real source writes
      exactly header.nr_ports of them; they are read here as far as whole records go.
  - id: excess
    size-eos: true
    if: not _io.eof
    doc: |
      Bytes after the last whole port record (or a stream shorter than the header). No source writes
      a partial record; kept so that every byte of a malformed stream still has a name.
instances:
  whole_ports:
    value: '_io.size >= 24 ? (_io.size - 24) / 36 : 0'
    doc: How many complete 36-byte port records follow the header.
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
  header:
    doc: The fixed part a source fills when the save session opens (struct mtty_data up to ports).
    doc-ref: Linux v6.12 samples/vfio-mdev/mtty.c (mtty_save_device_data)
    seq:
      - id: magic
        type: exact_u8le
        doc: |
          Stream magic 0x7E9D09898C3E2C4E (bytes 4e 2c 3e 8c 89 09 9d 7e). A destination refuses
          any other value with EFAULT from the write that completes the header.
        doc-ref: Linux v6.12 samples/vfio-mdev/mtty.c (MTTY_MAGIC, mtty_resume_write)
      - id: major_ver
        type: u4
        doc: Stream major version, 1. A destination requires exactly 1 (EFAULT otherwise).
        doc-ref: Linux v6.12 samples/vfio-mdev/mtty.c (MTTY_MAJOR_VER)
      - id: minor_ver
        type: u4
        doc: Stream minor version, 0. A destination requires exactly 0 (EFAULT otherwise).
        doc-ref: Linux v6.12 samples/vfio-mdev/mtty.c (MTTY_MINOR_VER)
      - id: nr_ports
        type: u4
        doc: |
          UART ports of the source instance: 1 for type mtty-1 ("Single port serial"), 2 for
          mtty-2 ("Dual port serial"). A destination requires its own count (EFAULT otherwise), so
          a stream moves only between instances of the same type.
        doc-ref: Linux v6.12 samples/vfio-mdev/mtty.c (mtty_types, mtty_resume_write)
      - id: flags
        type: u4
        doc: Reserved; a source writes 0 and a destination refuses anything else (EFAULT).
        doc-ref: Linux v6.12 samples/vfio-mdev/mtty.c (mtty_resume_write)
    instances:
      magic_ok:
        value: magic.hi == 0x7e9d0989 and magic.lo == 0x8c3e2c4e
        doc: True when the magic is mtty's.
  serial_port:
    doc: |
      One emulated 8250 UART: the registers the guest wrote, the 16-byte loopback FIFO (bytes written
      to TX come back on RX), and the FIFO bookkeeping. A destination copies the record into its
      port unchecked, so the indexes must stay below 16.
    doc-ref: Linux v6.12 samples/vfio-mdev/mtty.c (struct serial_port, struct rxtx, handle_bar_write, handle_bar_read)
    seq:
      - id: reg0
        type: u1
        doc: Register slot 0 (RBR/THR). Unused by mtty (TX bytes go to the FIFO); a source leaves it 0.
      - id: ier
        type: u1
        doc: Interrupt enable register as the guest last wrote it (with DLAB clear).
      - id: reg2
        type: u1
        doc: Register slot 2 (IIR/FCR). Unused (FCR is kept in fcr, IIR is computed on read); 0.
      - id: lcr
        type: u1
        doc: Line control register (bit 7 is DLAB, mirrored in dlab).
      - id: mcr
        type: u1
        doc: Modem control register.
      - id: reg5
        type: u1
        doc: Register slot 5 (LSR). Unused (LSR is computed on read); 0.
      - id: reg6
        type: u1
        doc: Register slot 6 (MSR). Unused (MSR is computed on read); 0.
      - id: scr
        type: u1
        doc: Scratch register, free for the guest; carried verbatim (a handy marker of device state).
      - id: fifo
        size: 16
        doc: The loopback FIFO's storage; the live bytes run from fifo_tail to fifo_head, wrapping at 16.
      - id: fifo_head
        type: u1
        doc: Where the next TX byte is stored (0..15).
      - id: fifo_tail
        type: u1
        doc: Where the next RX read takes a byte from (0..15).
      - id: fifo_count
        type: u1
        doc: Bytes waiting in the FIFO (0..16).
      - id: dlab
        type: u1
        doc: Divisor latch access (bool, 0 or 1); while set, offsets 0 and 1 address the divisor.
      - id: overrun
        type: u1
        doc: A TX byte was dropped because the FIFO was full (bool, 0 or 1).
      - id: pad1
        size: 1
        doc: Alignment padding before divisor (0 from a real source).
      - id: divisor
        type: u2
        doc: Baud divisor latch (low byte at offset 0, high byte at offset 1 while dlab is set).
      - id: fcr
        type: u1
        doc: FIFO control register as last written.
      - id: max_fifo_size
        type: u1
        doc: FIFO depth in effect, 16 with the FIFO enabled (FCR bit 0), else 1.
      - id: intr_trigger_level
        type: u1
        doc: Receive interrupt threshold from FCR (1, 4, 8 or 14).
      - id: pad2
        size: 1
        doc: Tail padding of the record (0 from a real source).
