/**
 * Synthetic cities for scale tests: a Manhattan grid and a ring-and-spoke (radial) city.
 *
 * All streets are two-way. Nodes are placed on a local tangent plane centred on
 * (originLat, originLon) — default (0, 0): on the equator the plane's distortion is smallest, so
 * great-circle neighbour distances match the nominal spacing to ~1e-5. Edge lengths are, by
 * default, the great-circle (turf/haversine) distance between the placed nodes, so haversine
 * lower bounds (A* heuristics) stay admissible; `lengths: 'nominal'` uses the exact spacing (grid)
 * or straight-line plane distance (radial) instead. osmId is -1 for every node.
 *
 * Grid: node id = row * cols + col; row 0 is the southern-most, col 0 the western-most. With
 * `arterialEvery = k`, rows and columns whose index is a multiple of k are arterials driven at
 * `arterialSpeedKph` (default 1.5 × speedKph).
 *
 * Radial: node 0 is the centre; ring i (1..rings), spoke j (0..spokes-1, clockwise from north) is
 * node 1 + (i-1)·spokes + j at radius i·ringSpacingM. Spokes join the centre to ring 1 and ring i to
 * ring i+1; each ring is a closed polygon through its spoke nodes.
 */
import { buildGraph, type RoadGraph } from './graph.js';
import { haversineM } from './spatial.js';

const M_PER_DEG_LAT = (6371008.8 * Math.PI) / 180;

export interface GridCityOptions {
  rows: number;
  cols: number;
  spacingM: number;
  speedKph: number;
  arterialEvery?: number;
  arterialSpeedKph?: number;
  originLat?: number;
  originLon?: number;
  lengths?: 'geometry' | 'nominal';
}

export interface RadialCityOptions {
  rings: number;
  spokes: number;
  ringSpacingM: number;
  speedKph: number;
  /** Speed on ring roads (default speedKph). */
  ringSpeedKph?: number;
  /** Speed on spokes (default speedKph). */
  spokeSpeedKph?: number;
  originLat?: number;
  originLon?: number;
  lengths?: 'geometry' | 'nominal';
}

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer ≥ ${min}, got ${v}`);
}

function checkPos(name: string, v: number): void {
  if (!(v > 0) || !Number.isFinite(v)) throw new Error(`${name} must be a positive number, got ${v}`);
}

/** Tangent-plane projection: x metres east, y metres north of the origin. */
function placer(originLat: number, originLon: number): (x: number, y: number, lat: Float64Array, lon: Float64Array, i: number) => void {
  const mPerDegLon = M_PER_DEG_LAT * Math.cos((originLat * Math.PI) / 180);
  return (x, y, lat, lon, i) => {
    lat[i] = originLat + y / M_PER_DEG_LAT;
    lon[i] = originLon + x / mPerDegLon;
  };
}

export function gridCity(opts: GridCityOptions): RoadGraph {
  const { rows, cols, spacingM, speedKph } = opts;
  checkInt('rows', rows, 1);
  checkInt('cols', cols, 1);
  checkPos('spacingM', spacingM);
  checkPos('speedKph', speedKph);
  const k = opts.arterialEvery ?? 0;
  if (opts.arterialEvery !== undefined) checkInt('arterialEvery', k, 1);
  const artKph = opts.arterialSpeedKph ?? speedKph * 1.5;
  checkPos('arterialSpeedKph', artKph);
  const nominal = opts.lengths === 'nominal';

  const n = rows * cols;
  const lat = new Float64Array(n);
  const lon = new Float64Array(n);
  const place = placer(opts.originLat ?? 0, opts.originLon ?? 0);
  const x0 = ((cols - 1) / 2) * spacingM;
  const y0 = ((rows - 1) / 2) * spacingM;
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) place(c * spacingM - x0, r * spacingM - y0, lat, lon, r * cols + c);

  const m = 2 * (rows * (cols - 1) + cols * (rows - 1));
  const from = new Int32Array(m);
  const to = new Int32Array(m);
  const lengthM = new Float64Array(m);
  const speedMps = new Float64Array(m);
  const slow = speedKph / 3.6;
  const fast = artKph / 3.6;
  let e = 0;
  const add = (u: number, v: number, mps: number): void => {
    from[e] = u;
    to[e] = v;
    lengthM[e] = nominal ? spacingM : haversineM(lat[u]!, lon[u]!, lat[v]!, lon[v]!);
    speedMps[e++] = mps;
  };
  // Emit in (from, to) order so buildGraph's sort sees already-sorted input.
  for (let r = 0; r < rows; r++) {
    const rowArterial = k > 0 && r % k === 0;
    for (let c = 0; c < cols; c++) {
      const u = r * cols + c;
      const colArterial = k > 0 && c % k === 0;
      if (r > 0) add(u, u - cols, colArterial ? fast : slow);
      if (c > 0) add(u, u - 1, rowArterial ? fast : slow);
      if (c < cols - 1) add(u, u + 1, rowArterial ? fast : slow);
      if (r < rows - 1) add(u, u + cols, colArterial ? fast : slow);
    }
  }
  return buildGraph({ nodeCount: n, lat, lon, osmId: new Float64Array(n).fill(-1), from, to, lengthM, speedMps });
}

export function radialCity(opts: RadialCityOptions): RoadGraph {
  const { rings, spokes, ringSpacingM, speedKph } = opts;
  checkInt('rings', rings, 1);
  checkInt('spokes', spokes, 3);
  checkPos('ringSpacingM', ringSpacingM);
  checkPos('speedKph', speedKph);
  checkPos('ringSpeedKph', opts.ringSpeedKph ?? speedKph);
  checkPos('spokeSpeedKph', opts.spokeSpeedKph ?? speedKph);
  const ringMps = (opts.ringSpeedKph ?? speedKph) / 3.6;
  const spokeMps = (opts.spokeSpeedKph ?? speedKph) / 3.6;
  const nominal = opts.lengths === 'nominal';

  const n = 1 + rings * spokes;
  const lat = new Float64Array(n);
  const lon = new Float64Array(n);
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  const place = placer(opts.originLat ?? 0, opts.originLon ?? 0);
  place(0, 0, lat, lon, 0);
  const id = (i: number, j: number): number => 1 + (i - 1) * spokes + j;
  for (let i = 1; i <= rings; i++) {
    for (let j = 0; j < spokes; j++) {
      const th = (2 * Math.PI * j) / spokes;
      const v = id(i, j);
      xs[v] = i * ringSpacingM * Math.sin(th);
      ys[v] = i * ringSpacingM * Math.cos(th);
      place(xs[v]!, ys[v]!, lat, lon, v);
    }
  }
  const m = 4 * rings * spokes;
  const from = new Int32Array(m);
  const to = new Int32Array(m);
  const lengthM = new Float64Array(m);
  const speedMps = new Float64Array(m);
  let e = 0;
  const both = (u: number, v: number, mps: number): void => {
    const len = nominal ? Math.hypot(xs[u]! - xs[v]!, ys[u]! - ys[v]!) : haversineM(lat[u]!, lon[u]!, lat[v]!, lon[v]!);
    from[e] = u;
    to[e] = v;
    lengthM[e] = len;
    speedMps[e++] = mps;
    from[e] = v;
    to[e] = u;
    lengthM[e] = len;
    speedMps[e++] = mps;
  };
  for (let i = 1; i <= rings; i++) {
    for (let j = 0; j < spokes; j++) {
      both(i === 1 ? 0 : id(i - 1, j), id(i, j), spokeMps);
      both(id(i, j), id(i, (j + 1) % spokes), ringMps);
    }
  }
  return buildGraph({ nodeCount: n, lat, lon, osmId: new Float64Array(n).fill(-1), from, to, lengthM, speedMps });
}
