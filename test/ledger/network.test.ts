import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_NETWORK_CONFIG, Network, NetworkConfigSchema, type NetworkConfig } from '../../src/ledger/network.js';
import { Rng } from '../../src/core/random.js';

const mk = (over: Partial<NetworkConfig> = {}, seed = '1'): Network =>
  new Network(NetworkConfigSchema.parse(over), new Rng('network', seed));

/** Brute-force Bellman-Ford over the overlay, per-hop cost latency + bytes*8/bandwidth. */
function bellmanFord(net: Network, from: number, bytes: number): number[] {
  const n = net.n;
  const ser = (bytes * 8) / (net.config.bandwidthMbps * 1e6);
  const d = new Array<number>(n).fill(Infinity);
  d[from] = 0;
  for (let round = 0; round < n; round++) {
    let changed = false;
    for (let u = 0; u < n; u++) {
      if (d[u] === Infinity) continue;
      for (const v of net.neighbors(u)) {
        const c = d[u]! + (net.latencyS(u, v) + ser);
        if (c < d[v]!) {
          d[v] = c;
          changed = true;
        }
      }
    }
    if (!changed) break;
  }
  return d;
}

function hopCounts(net: Network, from: number): number[] {
  const h = new Array<number>(net.n).fill(-1);
  h[from] = 0;
  const q = [from];
  for (let k = 0; k < q.length; k++) {
    const u = q[k]!;
    for (const v of net.neighbors(u)) {
      if (h[v] === -1) {
        h[v] = h[u]! + 1;
        q.push(v);
      }
    }
  }
  return h;
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b));

describe('NetworkConfigSchema', () => {
  it('has the documented defaults', () => {
    expect(NetworkConfigSchema.parse({})).toEqual({
      nodes: 10,
      latency: { dist: 'lognormal', meanMs: 50, sdMs: 25 },
      bandwidthMbps: 25,
      topology: { type: 'random', degree: 8 },
      gatewayLatencyMs: 20,
    });
    expect(DEFAULT_NETWORK_CONFIG.nodes).toBe(10);
    expect(NetworkConfigSchema.parse({ topology: { type: 'random' } }).topology).toEqual({ type: 'random', degree: 8 });
    expect(NetworkConfigSchema.parse({ latency: { meanMs: 30 } }).latency).toEqual({ dist: 'lognormal', meanMs: 30 });
  });

  it('rejects bad values with a path', () => {
    const bad = (v: unknown, path: string) => {
      const r = NetworkConfigSchema.safeParse(v);
      expect(r.success).toBe(false);
      expect(r.error!.issues.map((i) => i.path.join('.'))).toContain(path);
    };
    bad({ nodes: 0 }, 'nodes');
    bad({ nodes: 2.5 }, 'nodes');
    bad({ bandwidthMbps: 0 }, 'bandwidthMbps');
    bad({ gatewayLatencyMs: -1 }, 'gatewayLatencyMs');
    bad({ topology: { type: 'random', degree: 1 } }, 'topology.degree');
    bad({ topology: { type: 'star' } }, 'topology.type');
    bad({ latency: { dist: 'uniform', meanMs: 10, minMs: 20, maxMs: 5 } }, 'latency.maxMs');
    bad({ nodes: 3, latency: { matrixMs: [[0, 1], [1, 0]] } }, 'latency.matrixMs');
    bad({ nodes: 2, latency: { matrixMs: [[0, 1], [1]] } }, 'latency.matrixMs.1');
    expect(NetworkConfigSchema.safeParse({ extra: 1 }).success).toBe(false); // strict
    expect(NetworkConfigSchema.safeParse({ latency: { dist: 'pareto', meanMs: 1 } }).success).toBe(false);
  });
});

describe('Network construction', () => {
  it('is deterministic per seed (latencies and overlay) and differs across seeds', () => {
    const a = mk({ nodes: 40 }, '7');
    const b = mk({ nodes: 40 }, '7');
    const c = mk({ nodes: 40 }, '8');
    let differs = false;
    for (let i = 0; i < 40; i++) {
      expect(Array.from(a.neighbors(i))).toEqual(Array.from(b.neighbors(i)));
      for (let j = 0; j < 40; j++) {
        expect(a.latencyS(i, j)).toBe(b.latencyS(i, j));
        if (a.latencyS(i, j) !== c.latencyS(i, j)) differs = true;
      }
    }
    expect(differs).toBe(true);
    expect(Array.from(a.broadcast(3, 1000))).toEqual(Array.from(b.broadcast(3, 1000)));
  });

  it('draws latencies for i < j in row order from the given stream', () => {
    const net = mk({ nodes: 4, latency: { dist: 'exponential', meanMs: 30 }, topology: { type: 'full' } }, '3');
    const r = new Rng('network', '3');
    for (let i = 0; i < 4; i++) for (let j = i + 1; j < 4; j++) expect(net.latencyS(i, j)).toBe(r.exp(30) / 1000);
  });

  it('has symmetric latencies (zero diagonal) and a symmetric overlay', () => {
    const net = mk({ nodes: 50, topology: { type: 'random', degree: 5 } });
    for (let i = 0; i < 50; i++) {
      expect(net.latencyS(i, i)).toBe(0);
      for (let j = 0; j < 50; j++) expect(net.latencyS(i, j)).toBe(net.latencyS(j, i));
      const nb = Array.from(net.neighbors(i));
      expect(nb).toEqual([...nb].sort((x, y) => x - y)); // ascending
      expect(nb).not.toContain(i);
      expect(new Set(nb).size).toBe(nb.length);
      for (const j of nb) expect(Array.from(net.neighbors(j))).toContain(i);
    }
  });

  it('random overlays are connected and every node has at least min(degree, N-1) neighbours', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 2, max: 12 }), fc.integer({ min: 0, max: 1e6 }), (n, degree, seed) => {
        const net = mk({ nodes: n, topology: { type: 'random', degree } }, String(seed));
        const h = hopCounts(net, 0);
        expect(h.every((x) => x >= 0)).toBe(true);
        const want = Math.min(degree, n - 1);
        let sum = 0;
        for (let i = 0; i < n; i++) {
          expect(net.neighbors(i).length).toBeGreaterThanOrEqual(want);
          sum += net.neighbors(i).length;
        }
        expect(net.overlayEdges).toBe(sum);
        // near-regular: the mean degree stays close to the target
        if (n > 1) expect(sum / n).toBeLessThanOrEqual(want + 1);
      }),
      { numRuns: 60 },
    );
  });

  it('degree >= N-1 gives the full mesh', () => {
    const net = mk({ nodes: 9 }); // default degree 8
    for (let i = 0; i < 9; i++) expect(net.neighbors(i).length).toBe(8);
  });

  it('latency distributions have the configured mean / bounds', () => {
    const stats = (net: Network) => {
      const xs: number[] = [];
      for (let i = 0; i < net.n; i++) for (let j = i + 1; j < net.n; j++) xs.push(net.latencyS(i, j) * 1000);
      const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
      const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
      return { mean, sd, min: Math.min(...xs), max: Math.max(...xs) };
    };
    const full = { type: 'full' } as const;
    const logn = stats(mk({ nodes: 200, topology: full })); // 19,900 links
    expect(logn.mean).toBeGreaterThan(48);
    expect(logn.mean).toBeLessThan(52);
    expect(logn.sd).toBeGreaterThan(22);
    expect(logn.sd).toBeLessThan(28);
    expect(logn.min).toBeGreaterThan(0);
    const fixed = stats(mk({ nodes: 20, topology: full, latency: { dist: 'fixed', meanMs: 12 } }));
    expect(fixed.min).toBe(12);
    expect(fixed.max).toBe(12);
    const uni = stats(mk({ nodes: 100, topology: full, latency: { dist: 'uniform', meanMs: 0, minMs: 10, maxMs: 30 } }));
    expect(uni.min).toBeGreaterThanOrEqual(10);
    expect(uni.max).toBeLessThan(30);
    expect(Math.abs(uni.mean - 20)).toBeLessThan(0.5);
    const expo = stats(mk({ nodes: 100, topology: full, latency: { dist: 'exponential', meanMs: 40, maxMs: 100 } }));
    expect(expo.max).toBeLessThanOrEqual(100);
    expect(Math.abs(expo.mean - 40 * (1 - Math.exp(-2.5)))).toBeLessThan(2); // mean of the clamped exponential
  });

  it('matrix mode takes the given (possibly asymmetric) latencies and validates N×N', () => {
    const m = [
      [0, 10, 30],
      [12, 0, 5],
      [30, 6, 0],
    ];
    const net = mk({ nodes: 3, latency: { matrixMs: m }, topology: { type: 'full' } });
    expect(net.latencyS(0, 1)).toBe(0.01);
    expect(net.latencyS(1, 0)).toBe(0.012);
    expect(net.latencyS(1, 2)).toBe(0.005);
    // the direct 0 -> 2 link (30 ms) loses to 0 -> 1 -> 2 (15 ms) for small messages
    const d = net.broadcast(0, 0);
    expect(d[2]).toBeCloseTo(0.015, 12);
    expect(() => mk({ nodes: 2, latency: { matrixMs: m } })).toThrow(/matrixMs/);
    expect(() => new Network({ nodes: 2, latency: { matrixMs: [[0, -1], [1, 0]] }, bandwidthMbps: 1, topology: { type: 'full' }, gatewayLatencyMs: 0 }, new Rng('n', '1'))).toThrow();
  });
});

describe('Network delays', () => {
  it('transferS and gatewayS: latency + bytes*8/bandwidth', () => {
    const net = mk({ nodes: 5, bandwidthMbps: 8, gatewayLatencyMs: 20 });
    expect(net.transferS(1, 3, 1e6)).toBeCloseTo(net.latencyS(1, 3) + 1, 12);
    expect(net.transferS(2, 2, 1e6)).toBe(0);
    expect(net.gatewayS(500)).toBeCloseTo(0.02 + 0.0005, 12);
    expect(net.gatewayOf(0)).toBe(0);
    expect(net.gatewayOf(7)).toBe(2);
    expect(net.gatewayOf(100004)).toBe(4);
  });

  it('broadcast equals a brute-force Bellman-Ford over the overlay', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 2, max: 10 }),
        fc.constantFrom('lognormal', 'exponential', 'uniform', 'fixed'),
        fc.integer({ min: 0, max: 1e6 }),
        fc.array(fc.integer({ min: 0, max: 5_000_000 }), { minLength: 1, maxLength: 4 }),
        (n, degree, dist, seed, sizes) => {
          const net = mk({ nodes: n, topology: { type: 'random', degree }, latency: { dist, meanMs: 50, sdMs: 40 }, bandwidthMbps: 10 }, String(seed));
          for (const bytes of sizes) {
            const from = (seed + bytes) % n;
            const got = Array.from(net.broadcast(from, bytes));
            const want = bellmanFord(net, from, bytes);
            expect(got[from]).toBe(0);
            for (let v = 0; v < n; v++) if (!close(got[v]!, want[v]!)) expect(got[v]).toBe(want[v]);
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  it('also for non-integer sizes (uncached) and on large overlays', () => {
    const net = mk({ nodes: 300, topology: { type: 'random', degree: 6 } }, '42');
    for (const bytes of [0, 250.5, 1e6]) {
      const got = Array.from(net.broadcast(17, bytes));
      const want = bellmanFord(net, 17, bytes);
      for (let v = 0; v < 300; v++) expect(close(got[v]!, want[v]!)).toBe(true);
    }
  });

  it('bigger messages arrive later; with fixed latency the delay is hops × (latency + size/bandwidth)', () => {
    const net = mk({ nodes: 60, topology: { type: 'random', degree: 4 } }, '5');
    const small = Array.from(net.broadcast(0, 1_000));
    const big = Array.from(net.broadcast(0, 1_000_000));
    for (let v = 1; v < 60; v++) expect(big[v]!).toBeGreaterThan(small[v]!);

    const L = 0.03;
    const fixed = mk({ nodes: 60, topology: { type: 'random', degree: 4 }, latency: { dist: 'fixed', meanMs: 30 }, bandwidthMbps: 10 }, '5');
    const hops = hopCounts(fixed, 4);
    expect(Math.max(...hops)).toBeGreaterThan(1);
    for (const bytes of [0, 10_000, 20_000, 1_000_000]) {
      const d = fixed.broadcast(4, bytes);
      const ser = (bytes * 8) / 10e6;
      for (let v = 0; v < 60; v++) expect(d[v]).toBeCloseTo(hops[v]! * (L + ser), 12);
    }
    // linear in size, per hop: doubling the extra size doubles the extra delay
    const d0 = Array.from(fixed.broadcast(4, 0));
    const d1 = Array.from(fixed.broadcast(4, 10_000));
    const d2 = Array.from(fixed.broadcast(4, 20_000));
    for (let v = 0; v < 60; v++) expect(d2[v]! - d0[v]!).toBeCloseTo(2 * (d1[v]! - d0[v]!), 12);
  });

  it("a 'full' overlay with fixed latency broadcasts as direct transfers; with random latency never slower", () => {
    const fixed = mk({ nodes: 7, topology: { type: 'full' }, latency: { dist: 'fixed', meanMs: 25 } });
    for (const bytes of [0, 300, 2_000_000]) {
      const d = fixed.broadcast(2, bytes);
      for (let v = 0; v < 7; v++) expect(d[v]).toBeCloseTo(fixed.transferS(2, v, bytes), 12);
    }
    const rnd = mk({ nodes: 7, topology: { type: 'full' } }, '9');
    for (const bytes of [0, 300, 2_000_000]) {
      const d = rnd.broadcast(5, bytes);
      for (let v = 0; v < 7; v++) expect(d[v]!).toBeLessThanOrEqual(rnd.transferS(5, v, bytes) + 1e-15);
    }
  });

  it('counts messages and bytes: every node forwards once to every neighbour', () => {
    const full = mk({ nodes: 7, topology: { type: 'full' } });
    full.broadcast(0, 1000);
    expect(full.stats).toEqual({ messages: 42, bytes: 42_000 });
    full.broadcast(0, 1000); // cached result still counts
    expect(full.stats).toEqual({ messages: 84, bytes: 84_000 });
    full.transferS(1, 2, 10);
    full.gatewayS(5);
    expect(full.stats).toEqual({ messages: 86, bytes: 84_015 });

    const rnd = mk({ nodes: 50, topology: { type: 'random', degree: 6 } });
    let edges = 0;
    for (let i = 0; i < 50; i++) edges += rnd.neighbors(i).length;
    rnd.broadcast(3, 200);
    rnd.broadcast(4, 300);
    expect(rnd.stats).toEqual({ messages: 2 * edges, bytes: edges * 500 });
  });

  it('cached results equal fresh ones, also after eviction', () => {
    const a = mk({ nodes: 10 }, '2');
    const first = Array.from(a.broadcast(1, 123));
    for (let b = 0; b < 5000; b++) a.broadcast(b % 10, 1000 + b); // more than the cache holds
    expect(Array.from(a.broadcast(1, 123))).toEqual(first);
    const fresh = mk({ nodes: 10 }, '2');
    expect(Array.from(fresh.broadcast(7, 4321))).toEqual(Array.from(a.broadcast(7, 4321)));
    const hits = a.cacheHits;
    expect(Array.from(a.broadcast(7, 4321))).toEqual(Array.from(fresh.broadcast(7, 4321)));
    expect(a.cacheHits).toBe(hits + 1);
  });

  it('single node and bad arguments', () => {
    const one = mk({ nodes: 1 });
    expect(Array.from(one.broadcast(0, 100))).toEqual([0]);
    expect(one.stats.messages).toBe(0);
    expect(one.gatewayOf(12345)).toBe(0);
    const net = mk({ nodes: 4 });
    expect(() => net.broadcast(4, 10)).toThrow(RangeError);
    expect(() => net.broadcast(0, -1)).toThrow(RangeError);
  });

  it('is fast enough for per-block broadcasts (information only)', () => {
    const net = mk({ nodes: 100 });
    const t0 = performance.now(); // wall-clock ok: test information only
    let s = 0;
    for (let b = 0; b < 20_000; b++) s += net.broadcast(b % 100, 50_000 + b)[99]!;
    const us = ((performance.now() - t0) * 1000) / 20_000; // wall-clock ok
    console.log(`broadcast N=100 degree 8, uncached sizes: ${us.toFixed(2)} µs per call`);
    expect(s).toBeGreaterThan(0);
  });
});
