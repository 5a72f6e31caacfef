/** A manual Clock for adapter tests: time moves only through advance(), timers fire in due order. */
import type { Clock } from '../../src/adapters/clock.js';

export class FakeClock implements Clock {
  private current = 0;
  private seq = 0;
  private timers: Array<{ due: number; seq: number; fn: () => void; cancelled: boolean }> = [];

  now(): number {
    return this.current;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer = { due: this.current + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return () => { timer.cancelled = true; };
  }

  /** Delays of the pending (not cancelled) timers from now, ascending. */
  pendingDelays(): number[] {
    return this.timers.filter((t) => !t.cancelled).map((t) => t.due - this.current).sort((a, b) => a - b);
  }

  /** Moves time forward by ms, firing every timer that falls due (including ones scheduled meanwhile). */
  advance(ms: number): void {
    const end = this.current + ms;
    for (;;) {
      const next = this.timers.filter((t) => !t.cancelled && t.due <= end).sort((a, b) => a.due - b.due || a.seq - b.seq)[0];
      if (!next) break;
      this.current = next.due;
      next.cancelled = true;
      next.fn();
    }
    this.timers = this.timers.filter((t) => !t.cancelled);
    this.current = end;
  }
}
