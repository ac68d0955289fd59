// A modelled loop that ran past its step bound. Our bounds are not the kernel's: reaching one is a
// `hang` verdict (`broken`, with the arcs walked), never an errno the kernel would not return. Any
// layer may throw it (the device engine, the VFIO core, a driver model), so it lives at the bottom.
export class HangError extends Error {
  override name = 'HangError';
  constructor(readonly where: string, readonly arcs: string[]) {
    super(`step bound exceeded in ${where}${arcs.length ? ` (arcs: ${arcs.join(', ')})` : ''}`);
  }
}
