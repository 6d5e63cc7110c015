/**
 * Precomputed shortest-path trees for O(1) travel-time lookups — the hot path of the decision loop.
 *
 * What is precomputed. `buildTrees(graph, roots, direction)` runs one Dijkstra (by travel time)
 * per root over the CSR road graph and keeps, for every node and every root, the travel time and
 * the length in metres along that time-shortest path:
 *   - 'to'   (reverse tree, Dijkstra on the reverse CSR): time from ANY node to root k — e.g. roots
 *            are charging stations and the question is "how long from this EV to station k";
 *   - 'from' (forward tree): time from root k to any node.
 * Tables are NODE-MAJOR: entry [node * K + k], so the K candidate roots of one node are contiguous
 * (one or two cache lines for an EV scanning its candidate stations). Times are computed in
 * Float64 inside Dijkstra and stored as Float32 (relative error ≤ 6e-8); unreachable = Infinity.
 * Ties in time are broken deterministically: an exactly equal time via a shorter length wins,
 * otherwise the first relaxation wins, and the heap pops equal keys by lowest node id, so the
 * tables are a pure function of (graph, roots, direction).
 *
 * Memory: K × N × 8 bytes (two Float32 arrays: time and length), e.g. 600 roots × 22,500 nodes =
 * 108 MB, 100 roots × 100,000 nodes = 80 MB. Size K accordingly (stations, depots, not every node).
 * No predecessor arrays are stored: `pathTo` / `pathFrom` rebuild a path from the distance table by
 * greedy descent (pick the edge with dist[u] = w(u,v) + dist[v]), O(path length × degree).
 *
 * Complexity: build O(K · (N + M) log N) with a typed-array binary heap (decrease-key, Int32 node
 * ids, Float64 keys), one reusable workspace per graph (no per-root allocation besides the output);
 * lookup O(1) (one multiply-add and one typed-array read).
 *
 * Measured (bench/routing.ts, 150×150 grid = 22,500 nodes / ~85,000 edges, one core of a shared
 * EPYC VM): ~3–5 ms per tree, i.e. 600 roots in ~2–3 s; ~10–40 ns per lookup (random rows of a
 * 108 MB table, mostly cache misses); ~40,000 path reconstructions/s.
 *
 * Why not ngraph.path in the hot path: one A* query on a 22,500-node grid costs ~5–6 ms here, so
 * 10,000 EVs × 10 candidate stations = 100,000 point-to-point searches would take ~10 minutes per
 * decision round; after the build, the same 100,000 lookups take a few milliseconds. ngraph.path is
 * used only as the independent reference in test/city/routing.test.ts; `dijkstraOne` is a plain
 * one-to-one Float64 search for explicit on-demand routes.
 */
import type { RoadGraph } from './graph.js';

export type TreeDirection = 'to' | 'from';

/** Per-root shortest-path tables, node-major: entry [node * rootCount + k]. */
export class TreeTable {
  /** Number of roots (K). */
  readonly rootCount: number;

  constructor(
    readonly direction: TreeDirection,
    /** Root node ids; column k of the table belongs to roots[k]. */
    readonly roots: Int32Array,
    readonly nodeCount: number,
    /** Seconds, [node * K + k]; Infinity when unreachable. */
    readonly timeS: Float32Array,
    /** Metres along the time-shortest path, [node * K + k]; Infinity when unreachable. */
    readonly lengthM: Float32Array,
  ) {
    this.rootCount = roots.length;
  }

  /** 'to': seconds from `node` to root k; 'from': seconds from root k to `node`. */
  time(node: number, k: number): number {
    return this.timeS[node * this.rootCount + k]!;
  }

  /** Metres along the time-shortest path (same orientation as `time`). */
  length(node: number, k: number): number {
    return this.lengthM[node * this.rootCount + k]!;
  }

  /** Offset of node's row in the raw arrays: timeS[rowOffset(node) + k]. */
  rowOffset(node: number): number {
    return node * this.rootCount;
  }

  /** Bytes held by the two tables. */
  get byteLength(): number {
    return this.timeS.byteLength + this.lengthM.byteLength;
  }
}

/** Result of a one-to-one search. Unreachable: timeS = lengthM = Infinity, empty nodes/edges. */
export interface Route {
  timeS: number;
  lengthM: number;
  /** Node sequence source .. target (just [source] when source === target). */
  nodes: Int32Array;
  /** Forward edge ids, nodes.length - 1 of them. */
  edges: Int32Array;
}

// ---------------------------------------------------------------------------------------------
// Workspace: reusable per-graph buffers, reset in O(touched) between searches.
// ---------------------------------------------------------------------------------------------

const UNSEEN = -1;
const SETTLED = -2;

/**
 * Adjacency laid out contiguously for one search direction: the neighbours of u are
 * other[start[u] .. start[u+1]-1] with their edge time/length beside them, and edgeId maps the slot
 * back to the forward edge id (read only when a predecessor is recorded).
 */
interface Adjacency {
  readonly start: Int32Array;
  readonly other: Int32Array;
  readonly time: Float64Array;
  readonly length: Float64Array;
  readonly edgeId: Int32Array;
}

class Workspace {
  readonly dist: Float64Array;
  readonly len: Float64Array;
  /** Forward edge id through which the node was reached (both directions). */
  readonly pred: Int32Array;
  /** Heap slot, UNSEEN or SETTLED. */
  readonly pos: Int32Array;
  readonly heap: Int32Array;
  readonly touched: Int32Array;
  touchedCount = 0;
  /** Visit stamps for path descent. */
  readonly stamp: Int32Array;
  stampValue = 0;
  readonly forward: Adjacency;
  private reverseAdj: Adjacency | null = null;

  constructor(private readonly g: RoadGraph) {
    const n = g.nodeCount;
    this.dist = new Float64Array(n).fill(Infinity);
    this.len = new Float64Array(n).fill(Infinity);
    this.pred = new Int32Array(n).fill(-1);
    this.pos = new Int32Array(n).fill(UNSEEN);
    this.heap = new Int32Array(n);
    this.touched = new Int32Array(n);
    this.stamp = new Int32Array(n);
    const identity = new Int32Array(g.edgeCount);
    for (let e = 0; e < g.edgeCount; e++) identity[e] = e;
    this.forward = { start: g.outStart, other: g.edgeTarget, time: g.edgeTimeS, length: g.edgeLengthM, edgeId: identity };
  }

  /** In-edges copied into slot order (built on first use): no edge-id indirection in the inner loop. */
  get reverse(): Adjacency {
    if (this.reverseAdj === null) {
      const g = this.g;
      const m = g.edgeCount;
      const other = new Int32Array(m);
      const time = new Float64Array(m);
      const length = new Float64Array(m);
      for (let i = 0; i < m; i++) {
        const e = g.inEdge[i]!;
        other[i] = g.edgeSource[e]!;
        time[i] = g.edgeTimeS[e]!;
        length[i] = g.edgeLengthM[e]!;
      }
      this.reverseAdj = { start: g.inStart, other, time, length, edgeId: g.inEdge };
    }
    return this.reverseAdj;
  }

  reset(): void {
    const { dist, len, pred, pos, touched } = this;
    for (let i = 0; i < this.touchedCount; i++) {
      const v = touched[i]!;
      dist[v] = Infinity;
      len[v] = Infinity;
      pred[v] = -1;
      pos[v] = UNSEEN;
    }
    this.touchedCount = 0;
  }

  nextStamp(): number {
    if (this.stampValue >= 0x7fffffff) {
      this.stamp.fill(0);
      this.stampValue = 0;
    }
    return ++this.stampValue;
  }
}

const workspaces = new WeakMap<RoadGraph, Workspace>();

function workspaceFor(g: RoadGraph): Workspace {
  let ws = workspaces.get(g);
  if (ws === undefined) {
    ws = new Workspace(g);
    workspaces.set(g, ws);
  }
  return ws;
}

// ---------------------------------------------------------------------------------------------
// Dijkstra with a binary heap on typed arrays (decrease-key via pos[]). Keys live in `dist`;
// equal keys pop by lowest node id.
// ---------------------------------------------------------------------------------------------

/**
 * Single-source Dijkstra from `root` into ws (dist/len/pred), over `adj` (ws.forward: times FROM
 * root; ws.reverse: times TO root). Stops after settling `stopAt` when stopAt >= 0. The caller
 * resets the workspace afterwards.
 */
function search(adj: Adjacency, root: number, ws: Workspace, stopAt: number): void {
  const { start, other, time: wT, length: wL, edgeId } = adj;
  const { dist, len, pred, pos, heap, touched } = ws;
  let tc = ws.touchedCount;
  dist[root] = 0;
  len[root] = 0;
  pred[root] = -1;
  heap[0] = root;
  pos[root] = 0;
  touched[tc++] = root;
  let size = 1;
  while (size > 0) {
    const u: number = heap[0]!;
    pos[u] = SETTLED;
    size--;
    if (size > 0) {
      // Sift the last element down from the root slot.
      const v = heap[size]!;
      const dv = dist[v]!;
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= size) break;
        let w = heap[c]!;
        let dw = dist[w]!;
        const c2 = c + 1;
        if (c2 < size) {
          const w2 = heap[c2]!;
          const d2 = dist[w2]!;
          if (d2 < dw || (d2 === dw && w2 < w)) {
            c = c2;
            w = w2;
            dw = d2;
          }
        }
        if (dv < dw || (dv === dw && v < w)) break;
        heap[i] = w;
        pos[w] = i;
        i = c;
      }
      heap[i] = v;
      pos[v] = i;
    }
    if (u === stopAt) break;
    const du = dist[u]!;
    const lu = len[u]!;
    const end = start[u + 1]!;
    for (let j: number = start[u]!; j < end; j++) {
      const v = other[j]!;
      const pv = pos[v]!;
      if (pv === SETTLED) continue;
      const nd = du + wT[j]!;
      let i: number;
      if (pv === UNSEEN) {
        i = size++;
        touched[tc++] = v;
      } else {
        const dv = dist[v]!;
        if (nd < dv) {
          i = pv;
        } else {
          // Exact tie in time: prefer the shorter path (key unchanged, heap untouched).
          if (nd === dv) {
            const nl = lu + wL[j]!;
            if (nl < len[v]!) {
              len[v] = nl;
              pred[v] = edgeId[j]!;
            }
          }
          continue;
        }
      }
      dist[v] = nd;
      len[v] = lu + wL[j]!;
      pred[v] = edgeId[j]!;
      // Sift v up from slot i.
      while (i > 0) {
        const p = (i - 1) >> 1;
        const w = heap[p]!;
        const dw = dist[w]!;
        if (dw < nd || (dw === nd && w < v)) break;
        heap[i] = w;
        pos[w] = i;
        i = p;
      }
      heap[i] = v;
      pos[v] = i;
    }
  }
  ws.touchedCount = tc;
}

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

function checkNode(g: RoadGraph, v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v >= g.nodeCount) {
    throw new RangeError(`${what} ${v} is not a node of the graph (0..${g.nodeCount - 1})`);
  }
}

/** Roots processed per block before transposing into the node-major output. */
const BLOCK = 16;

/**
 * One time-shortest-path tree per root. 'to': time from every node to root k (reverse Dijkstra);
 * 'from': time from root k to every node. Duplicated roots are allowed (identical columns).
 */
export function buildTrees(graph: RoadGraph, roots: ArrayLike<number>, direction: TreeDirection): TreeTable {
  if (direction !== 'to' && direction !== 'from') throw new TypeError(`bad direction ${String(direction)}`);
  const n = graph.nodeCount;
  const K = roots.length;
  const rootIds = Int32Array.from(roots);
  for (let k = 0; k < K; k++) checkNode(graph, roots[k]!, 'root');
  const timeS = new Float32Array(n * K);
  const lengthM = new Float32Array(n * K);
  const ws = workspaceFor(graph);
  ws.reset();
  const adj = direction === 'to' ? ws.reverse : ws.forward;
  const B = Math.min(BLOCK, K);
  // Root-major staging block: Float64 -> Float32 conversion by TypedArray.set, then a tiled
  // transpose writes contiguous runs of B floats per node instead of K-strided scatter.
  const bt = new Float32Array(B * n);
  const bl = new Float32Array(B * n);
  for (let k0 = 0; k0 < K; k0 += B) {
    const bs = Math.min(B, K - k0);
    for (let b = 0; b < bs; b++) {
      search(adj, rootIds[k0 + b]!, ws, -1);
      bt.set(ws.dist, b * n);
      bl.set(ws.len, b * n);
      ws.reset();
    }
    for (let u = 0; u < n; u++) {
      const o = u * K + k0;
      for (let b = 0, s = u; b < bs; b++, s += n) {
        timeS[o + b] = bt[s]!;
        lengthM[o + b] = bl[s]!;
      }
    }
  }
  return new TreeTable(direction, rootIds, n, timeS, lengthM);
}

/**
 * Plain one-to-one Dijkstra (Float64), stopping when the target is settled. Same tie-breaking as
 * buildTrees. For explicit routes on demand, not for the per-candidate hot path.
 */
export function dijkstraOne(graph: RoadGraph, source: number, target: number): Route {
  checkNode(graph, source, 'source');
  checkNode(graph, target, 'target');
  const ws = workspaceFor(graph);
  ws.reset();
  try {
    search(ws.forward, source, ws, target);
    if (ws.pos[target] !== SETTLED) return unreachableRoute();
    const edges: number[] = [];
    for (let v = target; v !== source; ) {
      const e = ws.pred[v]!;
      edges.push(e);
      v = graph.edgeSource[e]!;
    }
    edges.reverse();
    return routeFromEdges(graph, source, edges, ws.dist[target]!, ws.len[target]!);
  } finally {
    ws.reset();
  }
}

function unreachableRoute(): Route {
  return { timeS: Infinity, lengthM: Infinity, nodes: new Int32Array(0), edges: new Int32Array(0) };
}

function routeFromEdges(g: RoadGraph, source: number, edges: number[], timeS: number, lengthM: number): Route {
  const nodes = new Int32Array(edges.length + 1);
  nodes[0] = source;
  for (let i = 0; i < edges.length; i++) nodes[i + 1] = g.edgeTarget[edges[i]!]!;
  return { timeS, lengthM, nodes, edges: Int32Array.from(edges) };
}

/** Id of the directed edge u→v, or -1. */
export function edgeBetween(graph: RoadGraph, u: number, v: number): number {
  const end = graph.outStart[u + 1]!;
  for (let e = graph.outStart[u]!; e < end; e++) if (graph.edgeTarget[e] === v) return e;
  return -1;
}

/** Summed time and length of a node sequence; throws if two consecutive nodes are not joined by an edge. */
export function pathCost(graph: RoadGraph, nodes: ArrayLike<number>): { timeS: number; lengthM: number } {
  let timeS = 0;
  let lengthM = 0;
  for (let i = 0; i + 1 < nodes.length; i++) {
    const e = edgeBetween(graph, nodes[i]!, nodes[i + 1]!);
    if (e < 0) throw new Error(`no edge ${nodes[i]} -> ${nodes[i + 1]}`);
    timeS += graph.edgeTimeS[e]!;
    lengthM += graph.edgeLengthM[e]!;
  }
  return { timeS, lengthM };
}

/**
 * Node sequence node .. roots[k] along a time-shortest path, from a 'to' table. Empty when the root
 * is unreachable from node.
 */
export function pathTo(graph: RoadGraph, table: TreeTable, k: number, node: number): Int32Array {
  if (table.direction !== 'to') throw new Error("pathTo needs a 'to' table");
  return reconstruct(graph, table, k, node);
}

/**
 * Node sequence roots[k] .. node along a time-shortest path, from a 'from' table. Empty when node is
 * unreachable from the root.
 */
export function pathFrom(graph: RoadGraph, table: TreeTable, k: number, node: number): Int32Array {
  if (table.direction !== 'from') throw new Error("pathFrom needs a 'from' table");
  return reconstruct(graph, table, k, node);
}

/** Relative slack accepted per descent step (Float32 storage: ~6e-8 per stored value). */
const STEP_REL_TOL = 1e-6;
/** Accepted mismatch between the rebuilt path and the table before falling back to a search. */
const PATH_REL_TOL = 1e-4;

function reconstruct(g: RoadGraph, t: TreeTable, k: number, node: number): Int32Array {
  if (t.nodeCount !== g.nodeCount) throw new Error('table was built on another graph');
  checkNode(g, node, 'node');
  if (!Number.isInteger(k) || k < 0 || k >= t.rootCount) throw new RangeError(`root index ${k} out of range`);
  const root = t.roots[k]!;
  const d0 = t.time(node, k);
  if (!(d0 < Infinity)) return new Int32Array(0);
  if (node === root) return Int32Array.of(node);
  const ws = workspaceFor(g);
  return descend(t, k, node, ws) ?? fallbackPath(g, t, k, node, ws);
}

/**
 * Greedy descent from `node` to the root through the table: at u, among edges towards
 * not-yet-visited v with finite table value, pick the one that best satisfies
 * dist[u] = w(u,v) + dist[v] (time residual first, length residual as tie-breaker, lowest edge id
 * on equal score). 'to' tables walk out-edges, 'from' tables walk in-edges (and reverse the result).
 * Returns null when stuck (only possible with zero-time cycles) or when the rebuilt path drifts
 * from the table.
 */
function descend(t: TreeTable, k: number, node: number, ws: Workspace): Int32Array | null {
  const isTo = t.direction === 'to';
  const { start: adjStart, other, time: wT, length: wL, edgeId } = isTo ? ws.forward : ws.reverse;
  const K = t.rootCount;
  const T = t.timeS;
  const L = t.lengthM;
  const root = t.roots[k]!;
  const stamp = ws.stamp;
  const mark = ws.nextStamp();
  const path: number[] = [node];
  stamp[node] = mark;
  let sumT = 0;
  let sumL = 0;
  let u = node;
  while (u !== root) {
    const du = T[u * K + k]!;
    const lu = L[u * K + k]!;
    const tolT = STEP_REL_TOL * du + 1e-9;
    const tolL = STEP_REL_TOL * lu + 1e-9;
    let best = -1; // slot
    let bestEdge = -1;
    let bestScore = Infinity;
    const end = adjStart[u + 1]!;
    for (let j = adjStart[u]!; j < end; j++) {
      const v = other[j]!;
      if (stamp[v] === mark) continue;
      const dv = T[v * K + k]!;
      if (!(dv < Infinity)) continue;
      const rt = Math.abs(du - (wT[j]! + dv));
      if (rt > tolT) continue;
      const score = rt / tolT + Math.abs(lu - (wL[j]! + L[v * K + k]!)) / tolL;
      const e = edgeId[j]!;
      if (score < bestScore || (score === bestScore && e < bestEdge)) {
        bestScore = score;
        best = j;
        bestEdge = e;
      }
    }
    if (best < 0) return null;
    const v = other[best]!;
    sumT += wT[best]!;
    sumL += wL[best]!;
    stamp[v] = mark;
    path.push(v);
    u = v;
  }
  const t0 = T[node * K + k]!;
  const l0 = L[node * K + k]!;
  if (Math.abs(sumT - t0) > PATH_REL_TOL * t0 + 1e-6) return null;
  if (Math.abs(sumL - l0) > PATH_REL_TOL * l0 + 1e-6) return null;
  const out = Int32Array.from(path);
  if (!isTo) out.reverse();
  return out;
}

/** Exact tree path by re-running the root's Dijkstra with predecessors (rare: zero-time cycles). */
function fallbackPath(g: RoadGraph, t: TreeTable, k: number, node: number, ws: Workspace): Int32Array {
  const isTo = t.direction === 'to';
  const root = t.roots[k]!;
  ws.reset();
  try {
    search(isTo ? ws.reverse : ws.forward, root, ws, node);
    if (ws.pos[node] !== SETTLED) return new Int32Array(0);
    const path: number[] = [node];
    // 'to': pred[v] is the edge v→(closer to root); 'from': pred[v] is the edge (closer)→v.
    const step = isTo ? g.edgeTarget : g.edgeSource;
    for (let v = node; v !== root; ) {
      v = step[ws.pred[v]!]!;
      path.push(v);
    }
    const out = Int32Array.from(path);
    if (!isTo) out.reverse();
    return out;
  } finally {
    ws.reset();
  }
}
