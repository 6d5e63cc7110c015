/**
 * The ledger nodes' network: N nodes (ids 0..N-1), a static one-way latency for every pair of
 * nodes, one bandwidth for every link, an overlay graph used for gossip, and the agents' (EVs',
 * stations') access link to their gateway node.
 *
 * Model assumptions (deliberately simple, all documented here):
 *   - Static per-link latency: every pair (i, j) gets one one-way propagation latency, drawn once at
 *     construction from the seeded stream given (symmetric: latency(i,j) = latency(j,i), drawn for
 *     i < j in row order), or given explicitly as a matrix. No jitter, no time-of-day variation.
 *   - One bandwidth for every link; sending `bytes` over a link costs latency + bytes·8/bandwidth
 *     (serialisation). No congestion and no queueing at links or nodes: concurrent messages do not
 *     slow each other down, and processing (validation) time is charged by the backends, not here.
 *   - Store-and-forward per hop: a relay forwards a message only once it has received all of it, so
 *     every hop pays the full serialisation time again (this is what makes big blocks slow).
 *   - Gossip = flooding over the overlay: each node forwards a new message once to each of its
 *     neighbours; the delay to a node is the fastest path over the overlay, each hop costing
 *     latency + size/bandwidth (single-source shortest paths; how they are computed: below).
 *     Message/byte counters charge every node forwarding once to every neighbour (2·|E| directed
 *     edge traversals per broadcast); duplicates are counted, de-duplication and inv/getdata
 *     round-trips are not modelled.
 *
 * Sources for the shape of the model: Decker & Wattenhofer, "Information Propagation in the Bitcoin
 * Network", IEEE P2P 2013 — measured block propagation of seconds, growing with block size (about
 * 80 ms per extra kB at the time), i.e. per-hop size-dependent cost over a multi-hop gossip overlay;
 * SimBlock (Aoki et al., "SimBlock: A Blockchain Network Simulator", IEEE INFOCOM Workshops 2019)
 * and Gervais et al., "On the Security and Performance of Proof of Work Blockchains", CCS 2016 — the
 * per-link latency + bandwidth model used here. The default overlay degree 8 follows Bitcoin Core's
 * default of 8 outbound peer connections.
 *
 * Defaults (NetworkConfigSchema): 10 nodes; lognormal one-way latency with mean 50 ms and standard
 * deviation 25 ms (a wide-area mix of regional and continental peers: the one-way latency between
 * well-connected hosts on one continent is ~10–50 ms, across continents ~50–150 ms); 25 Mbit/s per
 * link (a modest broadband/cloud uplink); random overlay of degree 8 (clamped to N−1, so for N ≤ 9
 * the overlay is the full mesh); 20 ms one way from an agent to its gateway node (a mobile/last-mile
 * access network).
 *
 * Performance: broadcast() is called once per block by PoW and several times per block by QBFT.
 * Results depend only on (from, bytes), so they are kept in a bounded cache: a 2-way
 * set-associative table (hash of (from, bytes), least-recently-used way replaced) whose entries are
 * preallocated views of one Float64Array, so a miss allocates nothing and a hit is a few integer
 * operations. A miss does not rerun a shortest-path search either: per source, a hop-layered
 * Bellman-Ford computed once (lazily; bounded) gives, for every node, the least latency D_h over
 * paths of at most h hops; the fastest delay for any message size is then exactly
 * min_h (D_h + h·size·8/bandwidth) over a handful of points per node (their lower convex hull):
 * O(N) per broadcast instead of a Dijkstra (~1 µs instead of ~16 µs for N = 100, degree 8). The
 * result equals a Dijkstra with per-hop cost latency + size/bandwidth up to floating-point rounding
 * (the tests compare it with a brute-force Bellman-Ford).
 */
import { z } from 'zod';
import type { Rng } from '../core/random.js';

// ---- configuration ------------------------------------------------------------------------------

export type LatencyDist = 'fixed' | 'uniform' | 'exponential' | 'lognormal';

export interface NetworkConfig {
  /** N ledger nodes, ids 0..N-1 */
  nodes: number;
  latency: { dist: LatencyDist; meanMs: number; sdMs?: number; minMs?: number; maxMs?: number } | { matrixMs: number[][] };
  /** per link, Mbit/s (10^6 bit/s) */
  bandwidthMbps: number;
  /** overlay used for gossip */
  topology: { type: 'full' } | { type: 'random'; degree: number };
  /** agent (EV/station) <-> its gateway node, one way */
  gatewayLatencyMs: number;
}

const LatencyDistSchema = z.strictObject({
  /** distribution of the per-link one-way latency. fixed: meanMs. uniform: [minMs, maxMs], by
   * default mean ± sd·√3. exponential: mean meanMs. lognormal: mean meanMs and standard deviation
   * sdMs of the latency itself (not of its logarithm). Every draw is then clamped to [minMs, maxMs]. */
  dist: z.enum(['fixed', 'uniform', 'exponential', 'lognormal']).default('lognormal'),
  meanMs: z.number().min(0),
  /** standard deviation (uniform, lognormal); default meanMs / 2 */
  sdMs: z.number().min(0).optional(),
  /** lower clamp (default 0) and upper clamp (default none) of every draw; bounds of 'uniform' */
  minMs: z.number().min(0).optional(),
  maxMs: z.number().min(0).optional(),
});

const LatencyMatrixSchema = z.strictObject({
  /** explicit N×N one-way latencies in ms: row i = from node i (may be asymmetric); diagonal ignored */
  matrixMs: z.array(z.array(z.number().min(0))),
});

export const NetworkConfigSchema = z
  .strictObject({
    /** number of ledger nodes (ids 0..N-1) */
    nodes: z.number().int().min(1).max(5000).default(10),
    /** per-link one-way latency: a distribution (drawn once per link, seeded) or an explicit matrix */
    latency: z.union([LatencyDistSchema, LatencyMatrixSchema]).default({ dist: 'lognormal', meanMs: 50, sdMs: 25 }),
    /** bandwidth of every link, Mbit/s */
    bandwidthMbps: z.number().positive().default(25),
    /** gossip overlay: full mesh, or a connected random graph in which every node has at least
     * `degree` neighbours (a ring plus random chords; degree is clamped to N-1, so N <= degree+1
     * gives the full mesh) */
    topology: z
      .discriminatedUnion('type', [
        z.strictObject({ type: z.literal('full') }),
        z.strictObject({ type: z.literal('random'), degree: z.number().int().min(2).default(8) }),
      ])
      .default({ type: 'random', degree: 8 }),
    /** one-way latency between an agent (EV, station) and its gateway node, ms */
    gatewayLatencyMs: z.number().min(0).default(20),
  })
  .superRefine((c, ctx) => {
    const lat = c.latency;
    if ('matrixMs' in lat) {
      const m = lat.matrixMs;
      if (m.length !== c.nodes) {
        ctx.addIssue({ code: 'custom', path: ['latency', 'matrixMs'], message: `must have ${c.nodes} rows (one per node), got ${m.length}` });
      }
      m.forEach((row, i) => {
        if (row.length !== c.nodes) {
          ctx.addIssue({ code: 'custom', path: ['latency', 'matrixMs', i], message: `must have ${c.nodes} columns (one per node), got ${row.length}` });
        }
      });
    } else if (lat.minMs !== undefined && lat.maxMs !== undefined && lat.minMs > lat.maxMs) {
      ctx.addIssue({ code: 'custom', path: ['latency', 'maxMs'], message: `must be >= minMs (${lat.minMs})` });
    }
  });

// compile-time check: the parsed configuration is a NetworkConfig
type _Check<T extends NetworkConfig> = T;
export type ParsedNetworkConfig = _Check<z.output<typeof NetworkConfigSchema>>;

/** The defaults, parsed (10 nodes, lognormal 50±25 ms, 25 Mbit/s, random overlay of degree 8, 20 ms gateway). */
export const DEFAULT_NETWORK_CONFIG: NetworkConfig = NetworkConfigSchema.parse({});

/** Draw one latency (ms) of a distribution. */
function drawMs(rng: Rng, d: { dist: LatencyDist; meanMs: number; sdMs?: number; minMs?: number; maxMs?: number }): number {
  const mean = d.meanMs;
  const sd = d.sdMs ?? mean / 2;
  let v: number;
  switch (d.dist) {
    case 'fixed':
      v = mean;
      break;
    case 'uniform': {
      const lo = d.minMs ?? mean - sd * Math.sqrt(3);
      const hi = d.maxMs ?? mean + sd * Math.sqrt(3);
      v = rng.uniform(lo, hi);
      break;
    }
    case 'exponential':
      v = rng.exp(mean);
      break;
    case 'lognormal': {
      if (mean <= 0) {
        v = 0;
        break;
      }
      const s2 = Math.log(1 + (sd * sd) / (mean * mean));
      v = Math.exp(rng.normal(Math.log(mean) - s2 / 2, Math.sqrt(s2)));
      break;
    }
  }
  const lo = d.minMs ?? 0;
  const hi = d.maxMs ?? Infinity;
  return v < lo ? lo : v > hi ? hi : v;
}

// ---- the network --------------------------------------------------------------------------------

/** Per-source hop envelope: node v's points are h[k], d[k] for k in off[v] .. off[v+1]). */
interface Envelope {
  readonly off: Int32Array;
  readonly h: Float64Array;
  readonly d: Float64Array;
}

export interface NetworkStats {
  /** messages sent (every overlay edge traversal, direct transfer and gateway message counts one) */
  messages: number;
  /** bytes sent, summed over those messages */
  bytes: number;
}

export class Network {
  readonly n: number;
  readonly stats: NetworkStats = { messages: 0, bytes: 0 };
  /** the parsed configuration (defaults applied) */
  readonly config: NetworkConfig;
  /** seconds per byte on a link: 8 / (bandwidthMbps·10^6) */
  readonly secondsPerByte: number;
  readonly gatewayLatencySeconds: number;

  /** one-way latency (s), row-major N×N; diagonal 0 */
  private readonly lat: Float64Array;
  /** overlay in CSR form: neighbours of i are adj[off[i] .. off[i+1]), ascending; edgeLat = their latencies */
  private readonly off: Int32Array;
  private readonly adj: Int32Array;
  private readonly edgeLat: Float64Array;
  private readonly nbViews: Int32Array[];

  // per-source hop envelopes (see envelope()), bounded; and the scratch space that builds them
  private readonly envelopes: (Envelope | undefined)[] = [];
  private readonly envelopeOrder: number[] = []; // sources in creation order (eviction FIFO)
  private envelopeHead = 0;
  private envelopePoints = 0;
  private readonly bfCur: Float64Array;
  private readonly bfNext: Float64Array;
  private bfFrontier: Int32Array;
  private bfNextFrontier: Int32Array;
  private readonly bfInNext: Uint8Array;
  private readonly bfCount: Int32Array;
  private readonly bfFill: Int32Array;
  private bfPts: Float64Array;
  private readonly scratch: Float64Array;

  // broadcast cache: 2-way set-associative, `cacheSets` sets; way w of set s is slot 2s+w
  private readonly cacheSets: number;
  private readonly cFrom: Int32Array;
  private readonly cBytes: Float64Array;
  private readonly cLru: Uint8Array; // per set: the way to replace next
  private cData: Float64Array | undefined; // slots × n, allocated on first use
  private readonly cView: (Float64Array | undefined)[];
  /** cache hits / misses of broadcast() (diagnostics; deterministic) */
  cacheHits = 0;
  cacheMisses = 0;

  constructor(cfg: NetworkConfig, rng: Rng) {
    const c = NetworkConfigSchema.parse(cfg);
    this.config = c;
    const n = (this.n = c.nodes);
    this.secondsPerByte = 8 / (c.bandwidthMbps * 1e6);
    this.gatewayLatencySeconds = c.gatewayLatencyMs / 1000;

    // per-link latencies, drawn once for i < j in row order
    const lat = (this.lat = new Float64Array(n * n));
    const L = c.latency;
    if ('matrixMs' in L) {
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const v = L.matrixMs[i]![j]!;
          if (!Number.isFinite(v) || v < 0) throw new RangeError(`network: latency.matrixMs[${i}][${j}] must be a finite number >= 0, got ${v}`);
          lat[i * n + j] = i === j ? 0 : v / 1000;
        }
      }
    } else {
      for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++) {
          const s = drawMs(rng, L) / 1000;
          lat[i * n + j] = s;
          lat[j * n + i] = s;
        }
      }
    }

    // overlay
    const degree = c.topology.type === 'full' ? n - 1 : Math.min(c.topology.degree, n - 1);
    const isNb = new Uint8Array(n * n);
    const deg = new Int32Array(n);
    const link = (a: number, b: number) => {
      isNb[a * n + b] = 1;
      isNb[b * n + a] = 1;
      deg[a] = deg[a]! + 1;
      deg[b] = deg[b]! + 1;
    };
    if (degree >= n - 1) {
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) link(i, j);
    } else {
      // ring (connectivity) ...
      for (let i = 0; i < n; i++) {
        const j = (i + 1) % n;
        if (!isNb[i * n + j] && i !== j) link(i, j);
      }
      // ... plus random chords until every node has >= degree neighbours. Random tries prefer
      // partners below the target degree; if they keep failing, a scan from a random start takes
      // the first such partner, else the first non-neighbour (which may then exceed `degree`).
      for (let i = 0; i < n; i++) {
        while (deg[i]! < degree) {
          let partner = -1;
          for (let t = 0; t < 20 && partner < 0; t++) {
            const j = rng.int(n);
            if (j !== i && !isNb[i * n + j] && deg[j]! < degree) partner = j;
          }
          if (partner < 0) {
            const start = rng.int(n);
            for (let k = 0; k < n && partner < 0; k++) {
              const j = (start + k) % n;
              if (j !== i && !isNb[i * n + j] && deg[j]! < degree) partner = j;
            }
            for (let k = 0; k < n && partner < 0; k++) {
              const j = (start + k) % n;
              if (j !== i && !isNb[i * n + j]) partner = j;
            }
          }
          link(i, partner);
        }
      }
    }
    const off = (this.off = new Int32Array(n + 1));
    for (let i = 0; i < n; i++) off[i + 1] = off[i]! + deg[i]!;
    const adj = (this.adj = new Int32Array(off[n]!));
    const edgeLat = (this.edgeLat = new Float64Array(off[n]!));
    for (let i = 0, k = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (isNb[i * n + j]) {
          adj[k] = j;
          edgeLat[k] = lat[i * n + j]!;
          k++;
        }
      }
    }

    this.nbViews = Array.from({ length: n }, (_, i) => adj.subarray(off[i]!, off[i + 1]!));
    this.bfCur = new Float64Array(n);
    this.bfNext = new Float64Array(n);
    this.bfFrontier = new Int32Array(n);
    this.bfNextFrontier = new Int32Array(n);
    this.bfInNext = new Uint8Array(n);
    this.bfCount = new Int32Array(n);
    this.bfFill = new Int32Array(n);
    this.bfPts = new Float64Array(3 * Math.max(16, 4 * n));
    this.scratch = new Float64Array(n);
    // at most 2048 entries and ~2^20 cached delays (8 MiB) in all; a power of two sets
    let sets = 1;
    while (sets * 2 <= Math.max(8, Math.min(1024, Math.floor(2 ** 19 / n)))) sets *= 2;
    this.cacheSets = sets;
    this.cFrom = new Int32Array(2 * sets).fill(-1);
    this.cBytes = new Float64Array(2 * sets);
    this.cLru = new Uint8Array(sets);
    this.cView = new Array(2 * sets);
  }

  /** shared by every scoped view: > 0 while uncounted() runs */
  private readonly mute = { depth: 0 };

  /**
   * A view of this network with its own message counters: the same links, delays and caches, every
   * message it sends counted in its own `stats` AND in this network's (so totals stay totals). A
   * payment-channel backend gives its underlying chain such a view, so the chain's `messages` are
   * its own, not the shared network's total. Views of views count at every level.
   */
  scoped(): Network {
    const base = this;
    const view: Network = Object.create(base);
    const own: NetworkStats = { messages: 0, bytes: 0 };
    Object.defineProperty(view, 'stats', { value: own, enumerable: true });
    const count = (m: number, b: number) => {
      if (base.mute.depth > 0) return;
      own.messages += m;
      own.bytes += b;
    };
    view.transferS = (from, to, bytes) => {
      if (from !== to) count(1, bytes);
      return base.transferS(from, to, bytes);
    };
    view.gatewayS = (bytes) => {
      count(1, bytes);
      return base.gatewayS(bytes);
    };
    view.broadcast = (from, bytes) => {
      const d = base.broadcast(from, bytes); // validates first
      count(base.overlayEdges, base.overlayEdges * bytes);
      return d;
    };
    return view;
  }

  /** Run fn without counting any message (a backend's own measurements, e.g. a mean gossip delay). */
  uncounted<T>(fn: () => T): T {
    this.mute.depth++;
    try {
      return fn();
    } finally {
      this.mute.depth--;
    }
  }

  /** One-way propagation latency (s) of the direct link from → to (0 when from = to). */
  latencyS(from: number, to: number): number {
    return this.lat[from * this.n + to]!;
  }

  /** Direct send: latency + bytes·8/bandwidth (s). Counts 1 message and `bytes` (nothing when from = to, which costs 0). */
  transferS(from: number, to: number, bytes: number): number {
    if (from === to) return 0;
    if (this.mute.depth === 0) {
      this.stats.messages++;
      this.stats.bytes += bytes;
    }
    return this.lat[from * this.n + to]! + bytes * this.secondsPerByte;
  }

  /** Agent → gateway (or back): gateway latency + bytes·8/bandwidth (s). Counts 1 message and `bytes`. */
  gatewayS(bytes: number): number {
    if (this.mute.depth === 0) {
      this.stats.messages++;
      this.stats.bytes += bytes;
    }
    return this.gatewayLatencySeconds + bytes * this.secondsPerByte;
  }

  /** The gateway node of an agent (EV or station id): agentId mod N. */
  gatewayOf(agentId: number): number {
    const g = agentId % this.n;
    return g < 0 ? g + this.n : g;
  }

  /** Overlay neighbours of node i, ascending. A view into shared storage: do not mutate. */
  neighbors(i: number): Int32Array {
    return this.nbViews[i]!;
  }

  /** Number of directed overlay edges (2·|E|): the messages one broadcast counts. */
  get overlayEdges(): number {
    return this.adj.length;
  }

  /**
   * Flood one message of `bytes` from `from` over the overlay: the delay (s) until each node has
   * it (0 for `from`), over the fastest overlay path, each hop costing latency + bytes·8/bandwidth.
   * Counts one message (and `bytes`) per directed overlay edge. The returned array is shared (a
   * cache entry or scratch space): read it before the next broadcast(), never mutate or keep it.
   */
  broadcast(from: number, bytes: number): Float64Array {
    const n = this.n;
    if (!(from >= 0 && from < n && (from | 0) === from)) throw new RangeError(`network: no node ${from} (N = ${n})`);
    if (!(bytes >= 0)) throw new RangeError(`network: message size must be >= 0 bytes, got ${bytes}`);
    const edges = this.adj.length;
    if (this.mute.depth === 0) {
      this.stats.messages += edges;
      this.stats.bytes += edges * bytes;
    }

    if (!Number.isSafeInteger(bytes)) {
      this.fastest(from, bytes * this.secondsPerByte, this.scratch);
      return this.scratch;
    }
    // hash (from, bytes) to a set
    let h = Math.imul((bytes >>> 0) ^ Math.imul(Math.floor(bytes / 4294967296), 0x27d4eb2d), 0x9e3779b1) ^ Math.imul(from + 1, 0x85ebca6b);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    const set = h & (this.cacheSets - 1);
    const a = 2 * set;
    const { cFrom, cBytes } = this;
    if (cFrom[a] === from && cBytes[a] === bytes) {
      this.cacheHits++;
      this.cLru[set] = 1;
      return this.cView[a]!;
    }
    if (cFrom[a + 1] === from && cBytes[a + 1] === bytes) {
      this.cacheHits++;
      this.cLru[set] = 0;
      return this.cView[a + 1]!;
    }
    this.cacheMisses++;
    const slot = a + this.cLru[set]!;
    this.cLru[set] = slot === a ? 1 : 0;
    let out = this.cView[slot];
    if (out === undefined) {
      this.cData ??= new Float64Array(2 * this.cacheSets * n);
      out = this.cView[slot] = this.cData.subarray(slot * n, (slot + 1) * n);
    }
    this.fastest(from, bytes * this.secondsPerByte, out);
    cFrom[slot] = from;
    cBytes[slot] = bytes;
    return out;
  }

  /**
   * The hop envelope of a source: for every node v, the points (h, D_h(v)) where D_h(v), the least
   * latency over overlay paths of at most h hops, strictly decreases (a hop-layered Bellman-Ford
   * that only relaxes the nodes improved in the previous layer; stops when nothing improves).
   * Then the fastest delay for a per-hop serialisation time `ser` is exactly
   *   delay(v) = min_k ( D_k + h_k · ser ),
   * because a path of h hops and latency L costs L + h·ser, D_h <= L for it, and the path achieving
   * D_h has at most h hops. Points off the lower convex hull can never be that minimum for ser >= 0
   * and are dropped. The source gets the single point (0, 0).
   */
  private envelope(src: number): Envelope {
    const cached = this.envelopes[src];
    if (cached !== undefined) return cached;
    const n = this.n;
    const { off, adj, edgeLat } = this;
    const cur = this.bfCur;
    const nxt = this.bfNext;
    let frontier = this.bfFrontier;
    let nextFrontier = this.bfNextFrontier;
    const inNext = this.bfInNext;
    cur.fill(Infinity);
    cur[src] = 0;
    frontier[0] = src;
    let fsize = 1;
    // raw points, appended per layer (node, h, D)
    let pts = this.bfPts;
    let np = 0;
    const count = this.bfCount;
    count.fill(0);
    for (let h = 1; fsize > 0; h++) {
      let nsize = 0;
      for (let f = 0; f < fsize; f++) {
        const u = frontier[f]!;
        const du = cur[u]!;
        for (let e = off[u]!, end = off[u + 1]!; e < end; e++) {
          const v = adj[e]!;
          const cand = du + edgeLat[e]!;
          if (cand < (inNext[v] ? nxt[v]! : cur[v]!)) {
            if (!inNext[v]) {
              inNext[v] = 1;
              nextFrontier[nsize++] = v;
            }
            nxt[v] = cand;
          }
        }
      }
      for (let f = 0; f < nsize; f++) {
        const v = nextFrontier[f]!;
        inNext[v] = 0;
        cur[v] = nxt[v]!;
        if (np + 1 > pts.length / 3) {
          const bigger = new Float64Array(pts.length * 2);
          bigger.set(pts);
          pts = this.bfPts = bigger;
        }
        pts[3 * np] = v;
        pts[3 * np + 1] = h;
        pts[3 * np + 2] = nxt[v]!;
        np++;
        count[v] = count[v]! + 1;
      }
      const t = frontier;
      frontier = nextFrontier;
      nextFrontier = t;
      fsize = nsize;
    }
    // group by node (points of a node are already in increasing h / decreasing D), keep the hull
    const boff = new Int32Array(n + 1);
    for (let v = 0; v < n; v++) boff[v + 1] = boff[v]! + (v === src ? 1 : count[v]!);
    const fill = this.bfFill;
    for (let v = 0; v < n; v++) fill[v] = boff[v]!;
    const rawH = new Float64Array(boff[n]!);
    const rawD = new Float64Array(boff[n]!);
    rawH[boff[src]!] = 0;
    rawD[boff[src]!] = 0;
    for (let k = 0; k < np; k++) {
      const v = pts[3 * k]!;
      const at = fill[v]!;
      fill[v] = at + 1;
      rawH[at] = pts[3 * k + 1]!;
      rawD[at] = pts[3 * k + 2]!;
    }
    // lower convex hull of each node's points (monotone chain; h increasing, D decreasing)
    const hOff = new Int32Array(n + 1);
    const hH = new Float64Array(boff[n]!);
    const hD = new Float64Array(boff[n]!);
    let w = 0;
    for (let v = 0; v < n; v++) {
      const first = w;
      for (let k = boff[v]!; k < boff[v + 1]!; k++) {
        const x = rawH[k]!;
        const y = rawD[k]!;
        // drop the last hull point while it lies on or above the segment (prev -> new)
        while (w - first >= 2) {
          const x1 = hH[w - 2]!, y1 = hD[w - 2]!, x2 = hH[w - 1]!, y2 = hD[w - 1]!;
          if ((x2 - x1) * (y - y1) - (y2 - y1) * (x - x1) <= 0) w--;
          else break;
        }
        hH[w] = x;
        hD[w] = y;
        w++;
      }
      hOff[v + 1] = w;
    }
    const env: Envelope = { off: hOff, h: hH.slice(0, w), d: hD.slice(0, w) };
    // bounded: at most ~2^21 points in all
    this.envelopePoints += w;
    this.envelopes[src] = env;
    this.envelopeOrder.push(src);
    while (this.envelopePoints > 2 ** 21 && this.envelopeOrder.length - this.envelopeHead > 1) {
      const oldest = this.envelopeOrder[this.envelopeHead++]!;
      this.envelopePoints -= this.envelopes[oldest]!.h.length;
      this.envelopes[oldest] = undefined;
    }
    if (this.envelopeHead > 1024 && this.envelopeHead * 2 > this.envelopeOrder.length) {
      this.envelopeOrder.splice(0, this.envelopeHead);
      this.envelopeHead = 0;
    }
    return env;
  }

  /** Fastest delays from `src` for per-hop serialisation time `ser`, into `out`. */
  private fastest(src: number, ser: number, out: Float64Array): void {
    const { off, h, d } = this.envelope(src);
    for (let v = 0, n = this.n; v < n; v++) {
      let best = Infinity;
      for (let k = off[v]!, end = off[v + 1]!; k < end; k++) {
        const c = d[k]! + h[k]! * ser;
        if (c < best) best = c;
      }
      out[v] = best;
    }
  }
}
