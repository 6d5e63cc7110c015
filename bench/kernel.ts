/**
 * Kernel throughput: the classic "hold" model. N events are pending; each executed event schedules
 * one successor at now + an increment drawn from an exponential table (precomputed, so the
 * figure measures the queue, not the random generator), so the queue stays at N.
 */
import { Kernel } from '../src/core/kernel.js';
import { Streams } from '../src/core/random.js';

export function benchKernel(pending = 100_000, events = 5_000_000): { pending: number; events: number; seconds: number; eventsPerSecond: number } {
  const k = new Kernel(pending * 2);
  const rng = new Streams(1).stream('bench');
  const TABLE = 1 << 16;
  const inc = new Float64Array(TABLE);
  for (let i = 0; i < TABLE; i++) inc[i] = rng.exp(1);
  let j = 0;
  let left = events;
  const kind = k.register('hold', (a) => {
    if (--left > 0) k.schedule(k.now + inc[j++ & (TABLE - 1)]!, (a & 3), kind, a);
    else k.stop();
  });
  for (let i = 0; i < pending; i++) k.schedule(inc[j++ & (TABLE - 1)]!, i & 3, kind, i);
  // warm-up
  const warm = Math.min(500_000, events / 10);
  left = warm;
  k.run();
  left = events;
  const t0 = performance.now(); // wall-clock ok: benchmark
  const before = k.executed;
  k.run();
  const seconds = (performance.now() - t0) / 1000; // wall-clock ok: benchmark
  const n = k.executed - before;
  return { pending, events: n, seconds, eventsPerSecond: n / seconds };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = benchKernel();
  console.log(JSON.stringify(r));
}
