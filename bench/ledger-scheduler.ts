/**
 * Cost of the ledger's view of the kernel on a self-rescheduling event (the pattern of a chain's
 * block timer or a Tangle issuer): each event reads `now` and schedules its successor. Four ways:
 *   kernel       the bare kernel (the floor)
 *   proxy        the former facade: the kernel through a Proxy whose get trap binds every method
 *                on every access (rebuilt here only to measure what it cost; no longer in src/)
 *   proxyPort    the former LedgerPort: that Proxy with the timing.json wrapper on handlers
 *   scheduler    the narrow Scheduler (schedulerOf(kernel)), handlers unwrapped
 *   port         the Scheduler as a LedgerPort builds it: handlers timed for timing.json
 * Wall clock, benchmark only; a few runs each, best one reported.
 */
import { Kernel, type Handler } from '../src/core/kernel.js';
import { PRIORITY } from '../src/core/priorities.js';
import { schedulerOf, type Scheduler } from '../src/ledger/ledger.js';

type Way = 'kernel' | 'proxy' | 'proxyPort' | 'scheduler' | 'port';

function proxyOf(kernel: Kernel, wrap?: (h: Handler) => Handler): Scheduler {
  return new Proxy(kernel, {
    get(target, prop) {
      if (prop === 'register' && wrap) return (name: string, h: Handler) => target.register(name, wrap(h));
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

function once(way: Way, events: number): number {
  const kernel = new Kernel();
  let wallMs = 0;
  const timed = (h: Handler): Handler => (a, b) => {
    const t = performance.now(); // wall-clock ok: benchmark (as LedgerPort does)
    try {
      h(a, b);
    } finally {
      wallMs += performance.now() - t; // wall-clock ok: benchmark
    }
  };
  const s: Scheduler =
    way === 'kernel'
      ? kernel
      : way === 'proxy'
        ? proxyOf(kernel)
        : way === 'proxyPort'
          ? proxyOf(kernel, timed)
          : way === 'scheduler'
            ? schedulerOf(kernel)
            : schedulerOf(kernel, timed);
  let left = events;
  const kind = s.register('tick', () => {
    if (--left > 0) s.schedule(s.now + 1, PRIORITY.LEDGER, kind);
  });
  s.schedule(0, PRIORITY.LEDGER, kind);
  const t0 = performance.now(); // wall-clock ok: benchmark
  kernel.run();
  const sec = (performance.now() - t0) / 1000; // wall-clock ok: benchmark
  if (wallMs < 0) throw new Error('unreachable');
  return events / sec;
}

/** Events per wall second of each way (best of 3), and the speed-ups of the change. */
export function benchScheduler(events = 2_000_000): Record<Way, number> & { schedulerOverProxyX: number; portOverProxyPortX: number } {
  const ways: Way[] = ['kernel', 'proxy', 'proxyPort', 'scheduler', 'port'];
  const best = { kernel: 0, proxy: 0, proxyPort: 0, scheduler: 0, port: 0 };
  for (let rep = 0; rep < 3; rep++) for (const w of ways) best[w] = Math.max(best[w], once(w, events));
  return { ...best, schedulerOverProxyX: best.scheduler / best.proxy, portOverProxyPortX: best.port / best.proxyPort };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = benchScheduler();
  console.log(JSON.stringify(r));
}
