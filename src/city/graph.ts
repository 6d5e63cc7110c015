/**
 * Compact directed road graph in compressed-sparse-row (CSR) form.
 *
 * Nodes are integer ids 0..nodeCount-1; edges are integer ids 0..edgeCount-1 sorted by source
 * node, so the out-edges of node u are outStart[u] .. outStart[u+1]-1. A reverse CSR (in-edges)
 * is kept beside it for reverse shortest-path trees: inEdge[k] is the forward edge id of the k-th
 * in-edge, grouped by target node.
 *
 * Travel times are seconds (length / speed), lengths metres. Everything is typed arrays so that
 * routing tables over hundreds of thousands of nodes stay cache-friendly.
 */
export interface RoadGraph {
  readonly nodeCount: number;
  readonly edgeCount: number;
  /** WGS84 degrees (synthetic cities use a local tangent plane around a reference point). */
  readonly lat: Float64Array;
  readonly lon: Float64Array;
  /** OpenStreetMap node id, or -1 for synthetic nodes. */
  readonly osmId: Float64Array;
  /** Forward CSR. */
  readonly outStart: Int32Array; // length nodeCount + 1
  readonly edgeSource: Int32Array; // length edgeCount
  readonly edgeTarget: Int32Array; // length edgeCount
  readonly edgeLengthM: Float64Array; // metres
  readonly edgeTimeS: Float64Array; // seconds
  /** Reverse CSR: in-edges of node v are inEdge[inStart[v] .. inStart[v+1]-1] (forward edge ids). */
  readonly inStart: Int32Array;
  readonly inEdge: Int32Array;
}

export interface EdgeList {
  nodeCount: number;
  lat: Float64Array;
  lon: Float64Array;
  osmId: Float64Array;
  /** Parallel arrays, one entry per directed edge. */
  from: ArrayLike<number>;
  to: ArrayLike<number>;
  lengthM: ArrayLike<number>;
  speedMps: ArrayLike<number>;
}

/**
 * Build a CSR graph from a directed edge list. Self-loops are dropped; parallel edges keep only the
 * fastest (then shortest) one, so results do not depend on input order. Edge ids are assigned in
 * (source, target) order — deterministic for a given edge set.
 */
export function buildGraph(input: EdgeList): RoadGraph {
  const n = input.nodeCount;
  const m0 = input.from.length;
  // Sort edge indices by (from, to, time, length) for determinism and parallel-edge removal.
  const order = new Int32Array(m0);
  for (let i = 0; i < m0; i++) order[i] = i;
  const time = new Float64Array(m0);
  for (let i = 0; i < m0; i++) time[i] = input.lengthM[i]! / input.speedMps[i]!;
  const sorted = Array.from(order).sort((a, b) => {
    const d = input.from[a]! - input.from[b]!;
    if (d !== 0) return d;
    const e = input.to[a]! - input.to[b]!;
    if (e !== 0) return e;
    const t = time[a]! - time[b]!;
    if (t !== 0) return t;
    return input.lengthM[a]! - input.lengthM[b]!;
  });
  const keep: number[] = [];
  let lastF = -1;
  let lastT = -1;
  for (const i of sorted) {
    const f = input.from[i]!;
    const t = input.to[i]!;
    if (f === t) continue;
    if (f === lastF && t === lastT) continue;
    keep.push(i);
    lastF = f;
    lastT = t;
  }
  const m = keep.length;
  const outStart = new Int32Array(n + 1);
  const edgeSource = new Int32Array(m);
  const edgeTarget = new Int32Array(m);
  const edgeLengthM = new Float64Array(m);
  const edgeTimeS = new Float64Array(m);
  for (let e = 0; e < m; e++) {
    const i = keep[e]!;
    edgeSource[e] = input.from[i]!;
    edgeTarget[e] = input.to[i]!;
    edgeLengthM[e] = input.lengthM[i]!;
    edgeTimeS[e] = time[i]!;
    outStart[edgeSource[e]! + 1]!++;
  }
  for (let u = 0; u < n; u++) outStart[u + 1]! += outStart[u]!;
  const inStart = new Int32Array(n + 1);
  for (let e = 0; e < m; e++) inStart[edgeTarget[e]! + 1]!++;
  for (let v = 0; v < n; v++) inStart[v + 1]! += inStart[v]!;
  const fill = inStart.slice(0, n);
  const inEdge = new Int32Array(m);
  for (let e = 0; e < m; e++) inEdge[fill[edgeTarget[e]!]!++] = e;
  return {
    nodeCount: n,
    edgeCount: m,
    lat: input.lat,
    lon: input.lon,
    osmId: input.osmId,
    outStart,
    edgeSource,
    edgeTarget,
    edgeLengthM,
    edgeTimeS,
    inStart,
    inEdge,
  };
}
