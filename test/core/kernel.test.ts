import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Kernel } from '../../src/core/kernel.js';
import { Streams } from '../../src/core/random.js';

describe('Kernel ordering', () => {
  it('runs events by (time, priority, insertion sequence)', () => {
    const k = new Kernel(4);
    const seen: string[] = [];
    const kind = k.register('tag', (a, b) => seen.push(`${a}:${b}`));
    k.schedule(5, 1, kind, 1, 0);
    k.schedule(5, 0, kind, 2, 0);
    k.schedule(1, 9, kind, 3, 0);
    k.schedule(5, 1, kind, 4, 0);
    k.schedule(5, 0, kind, 5, 0);
    k.run();
    expect(seen).toEqual(['3:0', '2:0', '5:0', '1:0', '4:0']);
    expect(k.now).toBe(5);
  });

  it('matches a reference queue on random schedules, including events scheduled while running', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            t: fc.integer({ min: 0, max: 50 }),
            p: fc.integer({ min: 0, max: 3 }),
            child: fc.option(fc.record({ dt: fc.integer({ min: 0, max: 5 }), p: fc.integer({ min: 0, max: 3 }) })),
          }),
          { maxLength: 300 },
        ),
        (specs) => {
          // the same process on the kernel and on a naive reference queue (linear scan for the
          // minimum of (time, priority, seq)); the execution orders must be identical
          const simulate = (useKernel: boolean): number[] => {
            const ran: number[] = [];
            let nextId = 0;
            let seq = 0;
            let now = 0;
            const ref: { t: number; p: number; seq: number; id: number }[] = [];
            const k = new Kernel(2);
            const childOf = new Map<number, { dt: number; p: number }>();
            const fire = (id: number) => {
              ran.push(id);
              const c = childOf.get(id);
              if (c) add(now + c.dt, c.p, undefined);
            };
            const kind = k.register('x', (id) => {
              now = k.now;
              fire(id);
            });
            const add = (t: number, p: number, child: { dt: number; p: number } | null | undefined) => {
              const id = nextId++;
              if (child) childOf.set(id, child);
              if (useKernel) k.schedule(t, p, kind, id);
              else ref.push({ t, p, seq: seq++, id });
            };
            for (const s of specs) add(s.t, s.p, s.child);
            if (useKernel) k.run();
            else {
              while (ref.length) {
                let b = 0;
                for (let i = 1; i < ref.length; i++) {
                  const x = ref[i]!;
                  const y = ref[b]!;
                  if (x.t < y.t || (x.t === y.t && (x.p < y.p || (x.p === y.p && x.seq < y.seq)))) b = i;
                }
                const e = ref.splice(b, 1)[0]!;
                now = e.t;
                fire(e.id);
              }
            }
            return ran;
          };
          expect(simulate(true)).toEqual(simulate(false));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('static schedule equals a stable sort by (time, priority)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 4 })), { maxLength: 500 }), (items) => {
        const k = new Kernel(1);
        const out: number[] = [];
        const kind = k.register('x', (i) => out.push(i));
        items.forEach(([t, p], i) => k.schedule(t, p, kind, i));
        k.run();
        const ref = items.map((x, i) => ({ t: x[0], p: x[1], i })).sort((a, b) => a.t - b.t || a.p - b.p || a.i - b.i).map((x) => x.i);
        expect(out).toEqual(ref);
      }),
    );
  });

  it('cancels pending events and ignores stale handles', () => {
    const k = new Kernel(2);
    const seen: number[] = [];
    const kind = k.register('x', (a) => seen.push(a));
    const h1 = k.schedule(1, 0, kind, 1);
    const h2 = k.schedule(2, 0, kind, 2);
    k.schedule(3, 0, kind, 3);
    expect(k.cancel(h2)).toBe(true);
    expect(k.cancel(h2)).toBe(false);
    k.run(1.5);
    expect(seen).toEqual([1]);
    expect(k.cancel(h1)).toBe(false); // already ran; its slot may be reused
    const h4 = k.schedule(4, 0, kind, 4); // reuses a freed slot
    expect(k.cancel(h1)).toBe(false);
    k.run();
    expect(seen).toEqual([1, 3, 4]);
    expect(k.cancel(h4)).toBe(false);
  });

  it('runs until a horizon and resumes; closures interleave with kinds', () => {
    const k = new Kernel();
    const seen: string[] = [];
    const kind = k.register('x', (a) => seen.push(`k${a}`));
    k.schedule(10, 0, kind, 1);
    k.at(5, 0, () => seen.push('c5'));
    k.at(10, 0, () => seen.push('c10'));
    expect(k.run(7)).toBe(1);
    expect(k.now).toBe(7);
    k.run(100);
    expect(seen).toEqual(['c5', 'k1', 'c10']);
    expect(k.now).toBe(100);
  });

  it('rejects scheduling in the past and bad priorities', () => {
    const k = new Kernel();
    const kind = k.register('x', () => undefined);
    k.run(10);
    expect(() => k.schedule(5, 0, kind)).toThrow(/before now/);
    expect(() => k.schedule(11, -1, kind)).toThrow(/priority/);
    expect(() => k.schedule(11, 0.5, kind)).toThrow(/priority/);
    expect(() => k.schedule(NaN, 0, kind)).toThrow();
  });

  it('grows past its initial capacity with 100k pending events', () => {
    const k = new Kernel(16);
    let sum = 0;
    const kind = k.register('x', (a) => (sum += a));
    for (let i = 0; i < 100_000; i++) k.schedule((i * 7919) % 1000, 0, kind, 1);
    expect(k.pending).toBe(100_000);
    k.run();
    expect(sum).toBe(100_000);
  });
});

describe('Named random streams', () => {
  it('are reproducible per (seed, name) and independent of other streams', () => {
    const a = new Streams(42);
    const b = new Streams(42);
    b.stream('other').next(); // drawing from another stream does not shift this one
    const xa = Array.from({ length: 5 }, () => a.stream('demand').next());
    const xb = Array.from({ length: 5 }, () => b.stream('demand').next());
    expect(xa).toEqual(xb);
    const c = new Streams(43);
    expect(Array.from({ length: 5 }, () => c.stream('demand').next())).not.toEqual(xa);
    expect(new Streams(42).stream('fleet').next()).not.toBe(xa[0]);
  });

  it('exponential draws have the right mean', () => {
    const r = new Streams(1).stream('t');
    const n = 200_000;
    let s = 0;
    for (let i = 0; i < n; i++) s += r.exp(3);
    // standard error of the mean = 3 / sqrt(n); allow 5 sigma
    expect(Math.abs(s / n - 3)).toBeLessThan((5 * 3) / Math.sqrt(n));
  });
});
