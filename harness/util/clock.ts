// Simulated time in microseconds. The simulated device and models never read the wall clock.
export class SimClock {
  private us = 0;
  now(): number {
    return this.us;
  }
  advance(us: number): void {
    if (us < 0 || !Number.isFinite(us)) throw new RangeError(`bad delay ${us}`);
    this.us += us;
  }
}
