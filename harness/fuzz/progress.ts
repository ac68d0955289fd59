// The progress bar of `migcompat fuzz`: runs, findings (known/new) and runs/s, redrawn in place on a
// terminal, one line every few seconds otherwise (CI logs), nothing at all with --json.
export class Progress {
  private last = 0;
  private t0 = Date.now();
  constructor(private readonly out: NodeJS.WriteStream | null, private readonly seconds: number | null) {}

  update(property: string, runs: number, known: number, fresh: number, force = false): void {
    if (!this.out) return;
    const now = Date.now();
    const tty = this.out.isTTY;
    if (!force && now - this.last < (tty ? 100 : 5000)) return;
    this.last = now;
    const el = (now - this.t0) / 1000;
    const rate = el > 0 ? Math.round(runs / el) : 0;
    let bar = '';
    if (this.seconds) {
      const w = 20, f = Math.min(w, Math.round((el / this.seconds) * w));
      bar = `[${'#'.repeat(f)}${'.'.repeat(w - f)}] `;
    }
    const line = `${bar}${property}: ${runs.toLocaleString('en-US')} runs, findings ${known} known / ${fresh} new, ${rate.toLocaleString('en-US')} runs/s`;
    this.out.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
  }

  restart(): void {
    this.t0 = Date.now();
    this.last = 0;
  }

  /** ends the current property's line (a terminal keeps the last redraw) */
  done(): void {
    if (this.out?.isTTY) this.out.write('\n');
  }
}
