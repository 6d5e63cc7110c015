/**
 * Point-to-point shortest travel time between arbitrary road nodes (mobile chargers drive to
 * wherever an EV waits, not only to fixed stations, so the precomputed station/place trees of
 * routing.ts do not apply).
 *
 * Algorithm: A* on the forward CSR with an admissible, consistent lower bound. Every node gets
 * its unit vector on the sphere (x, y, z); the chord |p(u) − p(v)| (metres on a sphere of radius
 * 6,371,008.8 m) is a metric, so it obeys the triangle inequality. With
 *   r = min over edges e = (u → v) of  edgeTimeS[e] / chord(u, v)   (edges with chord 0 skipped)
 * the bound h(u) = r · chord(u, target) never exceeds the travel time of any path from u to the
 * target (each edge's time ≥ r · its chord, and the chords of a path sum to ≥ the chord of its
 * ends), and h(u) ≤ time(u → v) + h(v) on every edge, so A* settles each node once and returns
 * the exact shortest time, the same as Dijkstra (tested against routing.ts's dijkstraOne and its
 * tree tables). When some edge has time 0 and a non-zero chord, r = 0 and this is plain Dijkstra.
 *
 * The open set is a binary min-heap on typed arrays with lazy deletion (a node may be pushed more
 * than once; stale entries are skipped), ties broken by node id so results never depend on
 * insertion order. The length returned is that of the path found (the fastest one; among equally
 * fast ones, the one this deterministic search settles).
 *
 * A small LRU cache (a Map in recency order, default 4,096 pairs) answers repeated pairs (a van
 * driving back to the same depot, the same EV asked by several vans). `manyTo` answers many
 * sources to one target with one reverse Dijkstra (plain, no bound) over the reverse CSR.
 */
import type { RoadGraph } from './graph.js';

const EARTH_R = 6_371_008.8;

export interface PathStats {
  queries: number;
  cacheHits: number;
  /** nodes settled over all searches that missed the cache */
  settled: number;
}

export class PathFinder {
  private readonly n: number;
  private readonly px: Float64Array;
  private readonly py: Float64Array;
  private readonly pz: Float64Array;
  /** seconds per metre of chord: the lower bound's factor r (see the header) */
  readonly boundFactor: number;
  private readonly dist: Float64Array;
  private readonly len: Float64Array;
  private readonly done: Uint8Array;
  /** manyTo: the sources still to settle */
  private readonly want: Uint8Array;
  private touched: Int32Array;
  private nTouched = 0;
  private hKey: Float64Array = new Float64Array(256);
  private hNode: Int32Array = new Int32Array(256);
  private hSize = 0;
  private readonly cache = new Map<number, [number, number]>();
  readonly stats: PathStats = { queries: 0, cacheHits: 0, settled: 0 };

  constructor(
    private readonly g: RoadGraph,
    private readonly cacheSize = 4096,
  ) {
    const n = (this.n = g.nodeCount);
    this.px = new Float64Array(n);
    this.py = new Float64Array(n);
    this.pz = new Float64Array(n);
    const rad = Math.PI / 180;
    for (let i = 0; i < n; i++) {
      const la = g.lat[i]! * rad;
      const lo = g.lon[i]! * rad;
      this.px[i] = EARTH_R * Math.cos(la) * Math.cos(lo);
      this.py[i] = EARTH_R * Math.cos(la) * Math.sin(lo);
      this.pz[i] = EARTH_R * Math.sin(la);
    }
    let r = Infinity;
    for (let e = 0; e < g.edgeCount; e++) {
      const c = this.chord(g.edgeSource[e]!, g.edgeTarget[e]!);
      if (c > 0) r = Math.min(r, g.edgeTimeS[e]! / c);
    }
    this.boundFactor = Number.isFinite(r) ? r : 0;
    this.dist = new Float64Array(n).fill(Infinity);
    this.len = new Float64Array(n);
    this.done = new Uint8Array(n);
    this.want = new Uint8Array(n);
    this.touched = new Int32Array(Math.min(n, 1024));
  }

  private chord(a: number, b: number): number {
    const dx = this.px[a]! - this.px[b]!;
    const dy = this.py[a]! - this.py[b]!;
    const dz = this.pz[a]! - this.pz[b]!;
    return Math.sqrt(dx * dx + dy * dy + dz * dz);
  }

  /** Shortest travel time (s) and the length (m) of that path; Infinity when unreachable. */
  query(source: number, target: number): { timeS: number; lengthM: number } {
    if (!(Number.isInteger(source) && source >= 0 && source < this.n)) throw new RangeError(`paths: source ${source} is not a node (0..${this.n - 1})`);
    if (!(Number.isInteger(target) && target >= 0 && target < this.n)) throw new RangeError(`paths: target ${target} is not a node (0..${this.n - 1})`);
    this.stats.queries++;
    const key = source * this.n + target;
    const hit = this.cache.get(key);
    if (hit) {
      this.stats.cacheHits++;
      this.cache.delete(key);
      this.cache.set(key, hit);
      return { timeS: hit[0], lengthM: hit[1] };
    }
    const res = source === target ? ([0, 0] as [number, number]) : this.search(source, target);
    if (this.cacheSize > 0) {
      if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, res);
    }
    return { timeS: res[0], lengthM: res[1] };
  }

  /**
   * Travel times (s) and lengths (m) from each of `sources` to one `target`, by one reverse
   * Dijkstra from the target over the in-edges that stops when every source is settled (one search
   * instead of one per source: a request asks every candidate van). Pairs already cached are
   * answered from the cache; the others are cached. Unreachable: Infinity.
   */
  manyTo(sources: ArrayLike<number>, target: number, outTime: Float64Array, outLen: Float64Array): void {
    const n = sources.length;
    if (!(Number.isInteger(target) && target >= 0 && target < this.n)) throw new RangeError(`paths: target ${target} is not a node (0..${this.n - 1})`);
    let missing = 0;
    for (let i = 0; i < n; i++) {
      const s = sources[i]!;
      if (!(Number.isInteger(s) && s >= 0 && s < this.n)) throw new RangeError(`paths: source ${s} is not a node (0..${this.n - 1})`);
      this.stats.queries++;
      const hit = s === target ? ([0, 0] as [number, number]) : this.cache.get(s * this.n + target);
      if (hit) {
        if (s !== target) {
          this.stats.cacheHits++;
          this.cache.delete(s * this.n + target);
          this.cache.set(s * this.n + target, hit);
        }
        outTime[i] = hit[0];
        outLen[i] = hit[1];
      } else {
        outTime[i] = NaN;
        missing++;
      }
    }
    if (missing === 0) return;
    const g = this.g;
    const dist = this.dist;
    const len = this.len;
    const done = this.done;
    // sources still to settle: count each distinct node once
    const want = this.want;
    let left = 0;
    for (let i = 0; i < n; i++) {
      const s = sources[i]!;
      if (Number.isNaN(outTime[i]!) && !want[s]) {
        want[s] = 1;
        left++;
      }
    }
    dist[target] = 0;
    len[target] = 0;
    this.touch(target);
    this.hSize = 0;
    this.push(0, target);
    while (this.hSize > 0 && left > 0) {
      const v = this.pop();
      if (done[v]) continue;
      done[v] = 1;
      this.stats.settled++;
      if (want[v]) left--;
      const dv = dist[v]!;
      for (let k = g.inStart[v]!, end = g.inStart[v + 1]!; k < end; k++) {
        const e = g.inEdge[k]!;
        const u = g.edgeSource[e]!;
        if (done[u]) continue;
        const nd = dv + g.edgeTimeS[e]!;
        if (nd < dist[u]!) {
          if (dist[u] === Infinity) this.touch(u);
          dist[u] = nd;
          len[u] = len[v]! + g.edgeLengthM[e]!;
          this.push(nd, u);
        }
      }
    }
    for (let i = 0; i < n; i++) {
      if (!Number.isNaN(outTime[i]!)) continue;
      const s = sources[i]!;
      want[s] = 0;
      const res: [number, number] = done[s] ? [dist[s]!, len[s]!] : [Infinity, Infinity];
      outTime[i] = res[0];
      outLen[i] = res[1];
      if (this.cacheSize > 0) {
        if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
        this.cache.set(s * this.n + target, res);
      }
    }
    for (let i = 0; i < this.nTouched; i++) {
      const v = this.touched[i]!;
      dist[v] = Infinity;
      done[v] = 0;
    }
    this.nTouched = 0;
  }

  private touch(v: number): void {
    if (this.nTouched === this.touched.length) {
      const t = new Int32Array(this.touched.length * 2);
      t.set(this.touched);
      this.touched = t;
    }
    this.touched[this.nTouched++] = v;
  }

  private search(s: number, t: number): [number, number] {
    const g = this.g;
    const r = this.boundFactor;
    const dist = this.dist;
    const len = this.len;
    const done = this.done;
    dist[s] = 0;
    len[s] = 0;
    this.touch(s);
    this.hSize = 0;
    this.push(r * this.chord(s, t), s);
    let out: [number, number] = [Infinity, Infinity];
    while (this.hSize > 0) {
      const u = this.pop();
      if (done[u]) continue;
      done[u] = 1;
      this.stats.settled++;
      if (u === t) {
        out = [dist[t]!, len[t]!];
        break;
      }
      const du = dist[u]!;
      for (let e = g.outStart[u]!, end = g.outStart[u + 1]!; e < end; e++) {
        const v = g.edgeTarget[e]!;
        if (done[v]) continue;
        const nd = du + g.edgeTimeS[e]!;
        if (nd < dist[v]!) {
          if (dist[v] === Infinity) this.touch(v);
          dist[v] = nd;
          len[v] = len[u]! + g.edgeLengthM[e]!;
          this.push(nd + r * this.chord(v, t), v);
        }
      }
    }
    for (let i = 0; i < this.nTouched; i++) {
      const v = this.touched[i]!;
      dist[v] = Infinity;
      done[v] = 0;
    }
    this.nTouched = 0;
    return out;
  }

  private less(i: number, j: number): boolean {
    const a = this.hKey[i]!;
    const b = this.hKey[j]!;
    return a < b || (a === b && this.hNode[i]! < this.hNode[j]!);
  }

  private swap(i: number, j: number): void {
    const k = this.hKey[i]!;
    this.hKey[i] = this.hKey[j]!;
    this.hKey[j] = k;
    const n = this.hNode[i]!;
    this.hNode[i] = this.hNode[j]!;
    this.hNode[j] = n;
  }

  private push(key: number, node: number): void {
    if (this.hSize === this.hKey.length) {
      const k = new Float64Array(this.hKey.length * 2);
      k.set(this.hKey);
      this.hKey = k;
      const n = new Int32Array(this.hNode.length * 2);
      n.set(this.hNode);
      this.hNode = n;
    }
    let i = this.hSize++;
    this.hKey[i] = key;
    this.hNode[i] = node;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  private pop(): number {
    const top = this.hNode[0]!;
    const last = --this.hSize;
    if (last > 0) {
      this.hKey[0] = this.hKey[last]!;
      this.hNode[0] = this.hNode[last]!;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= last) break;
        const rr = l + 1;
        const c = rr < last && this.less(rr, l) ? rr : l;
        if (!this.less(c, i)) break;
        this.swap(i, c);
        i = c;
      }
    }
    return top;
  }
}

/** Nearest road node to (lat, lon) by the same chord metric (linear scan; for a few depots). */
export function nearestNode(g: RoadGraph, lat: number, lon: number): number {
  const rad = Math.PI / 180;
  const la = lat * rad;
  const lo = lon * rad;
  const x = Math.cos(la) * Math.cos(lo);
  const y = Math.cos(la) * Math.sin(lo);
  const z = Math.sin(la);
  let best = -1;
  let bd = Infinity;
  for (let i = 0; i < g.nodeCount; i++) {
    const a = g.lat[i]! * rad;
    const o = g.lon[i]! * rad;
    const dx = Math.cos(a) * Math.cos(o) - x;
    const dy = Math.cos(a) * Math.sin(o) - y;
    const dz = Math.sin(a) - z;
    const d = dx * dx + dy * dy + dz * dz;
    if (d < bd) {
      bd = d;
      best = i;
    }
  }
  return best;
}
