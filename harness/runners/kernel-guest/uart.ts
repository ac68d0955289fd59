// The UARTs of an mtty device, reached through the VFIO device fd (one BAR per port, 8 one-byte
// registers each, 8250 layout): what the kernel checks write before a capture and read after a
// load, to compare device state across a migration. Always one-byte accesses: mtty decodes a wider
// access as a single register.
import type { KernelVfioDevice } from '../../vfio/kernel/device.ts';
import { VFIO_PCI_REGION } from '../../vfio/kernel/uapi.ts';

export const UART = { RX_TX: 0, IER: 1, IIR_FCR: 2, LCR: 3, MCR: 4, LSR: 5, MSR: 6, SCR: 7 } as const;
const LSR_DR = 0x01;

export interface UartWrite {
  scr?: number;
  lcr?: number;
  mcr?: number;
  fcr?: number;
  /** bytes written to TX: mtty loops them back into the receive FIFO */
  tx?: number[];
}

export interface UartState {
  scr: number;
  lcr: number;
  mcr: number;
  /** IER as read (mtty masks it to the low nibble) */
  ier: number;
  lsr: number;
  /** bytes read back from RX until LSR says the FIFO is empty (reading drains it) */
  rx: number[];
}

const bar = (port: number): number => (port === 0 ? VFIO_PCI_REGION.BAR0 : VFIO_PCI_REGION.BAR1);

function reg(dev: KernelVfioDevice, port: number, off: number): number {
  const r = dev.regionRead(bar(port), off, 1);
  if (!r.ok) throw new Error(`${dev.name}: read of UART ${port} register ${off}: ${r.errno}`);
  if (r.value.length !== 1) throw new Error(`${dev.name}: read of UART ${port} register ${off} returned ${r.value.length} bytes`);
  return r.value[0]!;
}

function set(dev: KernelVfioDevice, port: number, off: number, v: number): void {
  const r = dev.regionWrite(bar(port), off, Uint8Array.of(v & 0xff));
  if (!r.ok || r.value !== 1) throw new Error(`${dev.name}: write of UART ${port} register ${off}: ${r.ok ? `${r.value} bytes` : r.errno}`);
}

export function uartWrite(dev: KernelVfioDevice, port: number, w: UartWrite): void {
  if (w.lcr !== undefined) set(dev, port, UART.LCR, w.lcr);
  if (w.fcr !== undefined) set(dev, port, UART.IIR_FCR, w.fcr);
  if (w.mcr !== undefined) set(dev, port, UART.MCR, w.mcr);
  if (w.scr !== undefined) set(dev, port, UART.SCR, w.scr);
  for (const b of w.tx ?? []) set(dev, port, UART.RX_TX, b);
}

/** Registers, then (drain) the FIFO's bytes: a read of RX pops one, so drain changes the device. */
export function uartRead(dev: KernelVfioDevice, port: number, drain: boolean): UartState {
  const s: UartState = { scr: reg(dev, port, UART.SCR), lcr: reg(dev, port, UART.LCR), mcr: reg(dev, port, UART.MCR), ier: reg(dev, port, UART.IER), lsr: reg(dev, port, UART.LSR), rx: [] };
  if (drain) {
    for (let i = 0; i < 32 && reg(dev, port, UART.LSR) & LSR_DR; i++) s.rx.push(reg(dev, port, UART.RX_TX));
  }
  return s;
}
