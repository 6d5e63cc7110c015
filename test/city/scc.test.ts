import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { largestScc, stronglyConnectedComponents, type CsrLike } from '../../src/city/scc.js';

/** CSR from an edge list (keeps self-loops and parallel edges). */
function csr(n: number, edges: readonly (readonly [number, number])[]): CsrLike {
  const sorted = [...edges].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const outStart = new Int32Array(n + 1);
  for (const [u] of sorted) outStart[u + 1]!++;
  for (let u = 0; u < n; u++) outStart[u + 1]! += outStart[u]!;
  return { nodeCount: n, outStart, edgeTarget: Int32Array.from(sorted, (e) => e[1]) };
}

/** Naive SCC check: u, v share a component iff each reaches the other. */
function reachability(g: CsrLike): boolean[][] {
  const n = g.nodeCount;
  return Array.from({ length: n }, (_, s) => {
    const seen = new Array<boolean>(n).fill(false);
    const stack = [s];
    seen[s] = true;
    while (stack.length) {
      const u = stack.pop()!;
      for (let e = g.outStart[u]!; e < g.outStart[u + 1]!; e++) {
        const v = g.edgeTarget[e]!;
        if (!seen[v]) {
          seen[v] = true;
          stack.push(v);
        }
      }
    }
    return seen;
  });
}

describe('stronglyConnectedComponents', () => {
  it('small hand-made graphs', () => {
    // 0⇄1→2⇄3, 4 isolated, 5→5 self-loop
    const g = csr(6, [
      [0, 1],
      [1, 0],
      [1, 2],
      [2, 3],
      [3, 2],
      [5, 5],
    ]);
    const r = stronglyConnectedComponents(g);
    expect(r.count).toBe(4);
    const c = r.component;
    expect(c[0]).toBe(c[1]);
    expect(c[2]).toBe(c[3]);
    expect(new Set([c[0], c[2], c[4], c[5]]).size).toBe(4);
    expect([...r.size].sort()).toEqual([1, 1, 2, 2]);
    // Tie between {0,1} and {2,3}: the component with the lowest node id wins.
    expect([...largestScc(g)]).toEqual([0, 1]);
    expect([...largestScc(csr(0, []))]).toEqual([]);
  });

  it('a directed cycle is one component; a path is all singletons', () => {
    const n = 7;
    const cyc = csr(n, Array.from({ length: n }, (_, i) => [i, (i + 1) % n] as const));
    expect(stronglyConnectedComponents(cyc).count).toBe(1);
    const path = csr(n, Array.from({ length: n - 1 }, (_, i) => [i, i + 1] as const));
    expect(stronglyConnectedComponents(path).count).toBe(n);
  });

  it('handles 300k-node deep chains without recursion', () => {
    const n = 300_000;
    const cyc = csr(n, Array.from({ length: n }, (_, i) => [i, (i + 1) % n] as const));
    const r = stronglyConnectedComponents(cyc);
    expect(r.count).toBe(1);
    expect(r.size[0]).toBe(n);
    const path = csr(n, Array.from({ length: n - 1 }, (_, i) => [i, i + 1] as const));
    expect(stronglyConnectedComponents(path).count).toBe(n);
    expect(largestScc(path).length).toBe(1);
    expect(largestScc(path)[0]).toBe(0);
  });

  it('matches naive mutual reachability (property)', () => {
    const graphArb = fc.integer({ min: 1, max: 24 }).chain((n) =>
      fc.record({
        n: fc.constant(n),
        edges: fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: 3 * n }),
      }),
    );
    fc.assert(
      fc.property(graphArb, ({ n, edges }) => {
        const g = csr(n, edges);
        const r = stronglyConnectedComponents(g);
        const reach = reachability(g);
        for (let u = 0; u < n; u++) {
          for (let v = 0; v < n; v++) {
            if ((r.component[u] === r.component[v]) !== (reach[u]![v]! && reach[v]![u]!)) return false;
          }
        }
        // Sizes and count are consistent.
        const counts = new Array<number>(r.count).fill(0);
        for (let v = 0; v < n; v++) counts[r.component[v]!]!++;
        if (counts.some((k, c) => k !== r.size[c])) return false;
        // largestScc: maximal size, ascending ids, lowest-id tie-break.
        const big = largestScc(g, r);
        const max = Math.max(...r.size);
        if (big.length !== max) return false;
        for (let i = 1; i < big.length; i++) if (big[i]! <= big[i - 1]!) return false;
        let firstMax = -1;
        for (let v = 0; v < n && firstMax < 0; v++) if (r.size[r.component[v]!] === max) firstMax = v;
        return big[0] === firstMax;
      }),
      { numRuns: 300, seed: 20260301 },
    );
  });
});
