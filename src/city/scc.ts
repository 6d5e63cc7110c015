/**
 * Strongly connected components of a CSR digraph — iterative Tarjan (explicit call stack, no
 * recursion), O(V + E), safe for millions of nodes.
 *
 * Works on anything with `nodeCount`, `outStart` and `edgeTarget` (a `RoadGraph` qualifies).
 * Component ids are assigned in the order Tarjan completes them (reverse topological order of the
 * condensation), which is deterministic for a given graph.
 */
export interface CsrLike {
  readonly nodeCount: number;
  readonly outStart: ArrayLike<number>; // length nodeCount + 1
  readonly edgeTarget: ArrayLike<number>;
}

export interface SccResult {
  /** Number of components. */
  count: number;
  /** component[v] = component id of node v, 0..count-1. */
  component: Int32Array;
  /** size[c] = number of nodes in component c. */
  size: Int32Array;
}

export function stronglyConnectedComponents(g: CsrLike): SccResult {
  const n = g.nodeCount;
  const { outStart, edgeTarget } = g;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack = new Int32Array(n); // Tarjan's node stack
  const callNode = new Int32Array(n); // DFS call stack: node ...
  const callEdge = new Int32Array(n); // ... and its next out-edge to examine
  const component = new Int32Array(n).fill(-1);
  const sizes: number[] = [];
  let sp = 0;
  let next = 0;
  for (let s = 0; s < n; s++) {
    if (index[s] !== -1) continue;
    let csp = 0;
    index[s] = low[s] = next++;
    stack[sp++] = s;
    onStack[s] = 1;
    callNode[csp] = s;
    callEdge[csp++] = outStart[s]!;
    while (csp > 0) {
      const v = callNode[csp - 1]!;
      const e = callEdge[csp - 1]!;
      if (e < outStart[v + 1]!) {
        callEdge[csp - 1] = e + 1;
        const w = edgeTarget[e]!;
        if (index[w] === -1) {
          index[w] = low[w] = next++;
          stack[sp++] = w;
          onStack[w] = 1;
          callNode[csp] = w;
          callEdge[csp++] = outStart[w]!;
        } else if (onStack[w] && index[w]! < low[v]!) {
          low[v] = index[w]!;
        }
        continue;
      }
      // v is finished.
      csp--;
      if (low[v] === index[v]) {
        const c = sizes.length;
        let size = 0;
        let w: number;
        do {
          w = stack[--sp]!;
          onStack[w] = 0;
          component[w] = c;
          size++;
        } while (w !== v);
        sizes.push(size);
      }
      if (csp > 0) {
        const u = callNode[csp - 1]!;
        if (low[v]! < low[u]!) low[u] = low[v]!;
      }
    }
  }
  return { count: sizes.length, component, size: Int32Array.from(sizes) };
}

/**
 * Nodes of the largest strongly connected component, ascending. Ties between equally large
 * components go to the one containing the lowest node id. Empty graph → empty array.
 */
export function largestScc(g: CsrLike, scc: SccResult = stronglyConnectedComponents(g)): Int32Array {
  const n = g.nodeCount;
  let best = -1;
  let bestSize = 0;
  // Scanning nodes in id order makes the first component reaching the max size the one with the
  // lowest node id.
  for (let v = 0; v < n; v++) {
    const c = scc.component[v]!;
    if (scc.size[c]! > bestSize) {
      best = c;
      bestSize = scc.size[c]!;
    }
  }
  const out = new Int32Array(bestSize);
  let k = 0;
  for (let v = 0; v < n; v++) if (scc.component[v] === best) out[k++] = v;
  return out;
}
