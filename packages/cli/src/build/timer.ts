// Runs the steps of a build, reporting start/end events and keeping each step's duration for the
// summary ("what took the time").
import type { BuildEvent, BuildStep } from './options.js';

export class StepTimer {
  readonly timings: Array<{ step: BuildStep; ms: number }> = [];
  constructor(private readonly emit: (e: BuildEvent) => void) {}

  async run<T>(step: BuildStep, fn: () => Promise<T>): Promise<T> {
    this.emit({ type: 'step', step, status: 'start' });
    const start = performance.now();
    try {
      return await fn();
    } finally {
      const ms = Math.round(performance.now() - start);
      const existing = this.timings.find((t) => t.step === step);
      if (existing) existing.ms += ms;
      else this.timings.push({ step, ms });
      this.emit({ type: 'step', step, status: 'end', ms });
    }
  }
}
