/**
 * Uniform-grid spatial index over graph nodes for exact nearest-node queries.
 *
 * Cells are a fixed size in degrees (chosen from `cellSizeM` at the data's mid latitude; default
 * aims at ~4 nodes per cell). A query scans square rings of cells around the query cell and stops
 * once a provable lower bound on the distance to anything outside the scanned block exceeds the
 * best distance found, so the answer is the exact nearest node by great-circle (haversine)
 * distance — the same formula and Earth radius as @turf/turf `distance` (6371008.8 m). Ties are
 * broken by the lowest node id. Assumes the data does not straddle the antimeridian.
 */
const EARTH_RADIUS_M = 6371008.8; // turf's earthRadius
const RAD = Math.PI / 180;

export interface PointSet {
  readonly nodeCount: number;
  readonly lat: ArrayLike<number>;
  readonly lon: ArrayLike<number>;
}

export interface Nearest {
  node: number;
  distanceM: number;
}

/** Great-circle distance in metres (identical to turf `distance(..., {units: 'meters'})`). */
export function haversineM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  // Same operation order as turf (degreesToRadians = (deg % 360) * PI / 180) for identical results.
  const dLat = toRad(lat2 - lat1);
  const dLon = toRad(lon2 - lon1);
  const a = Math.pow(Math.sin(dLat / 2), 2) + Math.pow(Math.sin(dLon / 2), 2) * Math.cos(toRad(lat1)) * Math.cos(toRad(lat2));
  return 2 * Math.atan2(Math.sqrt(a), Math.sqrt(1 - a)) * EARTH_RADIUS_M;
}

function toRad(deg: number): number {
  return ((deg % 360) * Math.PI) / 180;
}

export interface SpatialIndexOptions {
  /**
   * Cell edge length in metres (default: ≈ 2·sqrt(area / nodeCount), clamped to 20 m … 20 km).
   * Doubled as often as needed to keep the grid at most 16·max(nodeCount, 1024) cells.
   */
  cellSizeM?: number;
}

export class SpatialIndex {
  private readonly pts: PointSet;
  private readonly minLat: number;
  private readonly minLon: number;
  private readonly dLat: number; // cell size, degrees
  private readonly dLon: number;
  private readonly nx: number;
  private readonly ny: number;
  private readonly cellStart: Int32Array; // CSR: nodes of cell c are cellNodes[cellStart[c]..cellStart[c+1])
  private readonly cellNodes: Int32Array;

  constructor(points: PointSet, opts: SpatialIndexOptions = {}) {
    this.pts = points;
    const n = points.nodeCount;
    let minLat = Infinity;
    let maxLat = -Infinity;
    let minLon = Infinity;
    let maxLon = -Infinity;
    for (let i = 0; i < n; i++) {
      const la = points.lat[i]!;
      const lo = points.lon[i]!;
      if (la < minLat) minLat = la;
      if (la > maxLat) maxLat = la;
      if (lo < minLon) minLon = lo;
      if (lo > maxLon) maxLon = lo;
    }
    if (n === 0) minLat = maxLat = minLon = maxLon = 0;
    const midCos = Math.max(0.01, Math.cos(((minLat + maxLat) / 2) * RAD));
    const mPerDegLat = EARTH_RADIUS_M * RAD;
    const heightM = (maxLat - minLat) * mPerDegLat;
    const widthM = (maxLon - minLon) * mPerDegLat * midCos;
    let cell = opts.cellSizeM ?? 2 * Math.sqrt(Math.max(heightM * widthM, 1) / Math.max(n, 1));
    if (!(cell > 0)) throw new Error(`SpatialIndex: invalid cellSizeM ${opts.cellSizeM}`);
    if (opts.cellSizeM === undefined) cell = Math.min(20_000, Math.max(20, cell));
    // Cap the number of cells (memory) by doubling the cell size when needed.
    const maxCells = 16 * Math.max(n, 1024);
    let nx: number;
    let ny: number;
    for (;;) {
      nx = Math.floor((maxLon - minLon) / (cell / (mPerDegLat * midCos))) + 1;
      ny = Math.floor((maxLat - minLat) / (cell / mPerDegLat)) + 1;
      if (nx * ny <= maxCells) break;
      cell *= 2;
    }
    this.dLat = cell / mPerDegLat;
    this.dLon = cell / (mPerDegLat * midCos);
    this.minLat = minLat;
    this.minLon = minLon;
    this.nx = Math.floor((maxLon - minLon) / this.dLon) + 1;
    this.ny = Math.floor((maxLat - minLat) / this.dLat) + 1;
    const cells = this.nx * this.ny;
    const cellOf = new Int32Array(n);
    this.cellStart = new Int32Array(cells + 1);
    for (let i = 0; i < n; i++) {
      const c = this.cellY(points.lat[i]!) * this.nx + this.cellX(points.lon[i]!);
      cellOf[i] = c;
      this.cellStart[c + 1]!++;
    }
    for (let c = 0; c < cells; c++) this.cellStart[c + 1]! += this.cellStart[c]!;
    const fill = this.cellStart.slice(0, cells);
    this.cellNodes = new Int32Array(n);
    for (let i = 0; i < n; i++) this.cellNodes[fill[cellOf[i]!]!++] = i; // ascending ids per cell
  }

  private cellX(lon: number): number {
    return Math.min(this.nx - 1, Math.max(0, Math.floor((lon - this.minLon) / this.dLon)));
  }

  private cellY(lat: number): number {
    return Math.min(this.ny - 1, Math.max(0, Math.floor((lat - this.minLat) / this.dLat)));
  }

  /** Exact nearest node (lowest id on ties); node -1 / Infinity for an empty set. */
  nearestNode(lat: number, lon: number): Nearest {
    let bestNode = -1;
    let bestD = Infinity;
    if (this.pts.nodeCount === 0) return { node: -1, distanceM: Infinity };
    // Query cell coordinates, unclamped (the query may lie outside the grid).
    const qx = Math.floor((lon - this.minLon) / this.dLon);
    const qy = Math.floor((lat - this.minLat) / this.dLat);
    const maxR = Math.max(qx, this.nx - 1 - qx, qy, this.ny - 1 - qy);
    // First ring that touches the grid (Chebyshev distance from the query cell to the grid).
    const r0 = Math.max(0, -qx, qx - (this.nx - 1), -qy, qy - (this.ny - 1));
    const cosQ = Math.cos(lat * RAD);
    const scan = (x: number, y: number): void => {
      const c = y * this.nx + x;
      for (let k = this.cellStart[c]!; k < this.cellStart[c + 1]!; k++) {
        const i = this.cellNodes[k]!;
        const d = haversineM(lat, lon, this.pts.lat[i]!, this.pts.lon[i]!);
        if (d < bestD || (d === bestD && i < bestNode)) {
          bestD = d;
          bestNode = i;
        }
      }
    };
    for (let r = r0; r <= maxR; r++) {
      // Cells at Chebyshev distance exactly r from (qx, qy), clipped to the grid.
      const x0 = Math.max(0, qx - r);
      const x1 = Math.min(this.nx - 1, qx + r);
      const y0 = Math.max(0, qy - r);
      const y1 = Math.min(this.ny - 1, qy + r);
      for (let y = y0; y <= y1; y++) {
        if (y === qy - r || y === qy + r) {
          for (let x = x0; x <= x1; x++) scan(x, y);
        } else {
          if (qx - r >= 0 && qx - r < this.nx) scan(qx - r, y);
          if (r > 0 && qx + r >= 0 && qx + r < this.nx) scan(qx + r, y);
        }
      }
      if (bestNode >= 0 && this.outsideLowerBound(lat, lon, cosQ, qx, qy, r) > bestD) break;
    }
    return { node: bestNode, distanceM: bestD };
  }

  /**
   * Lower bound (m) on the distance from the query to any point outside the block of cells
   * [qx-r, qx+r] × [qy-r, qy+r]. Such a point differs from the query by at least gLat degrees of
   * latitude (distance ≥ R·Δφ) or gLon degrees of longitude (distance to the meridian at that
   * offset is R·asin(cos φq · sin Δλ)).
   */
  private outsideLowerBound(lat: number, lon: number, cosQ: number, qx: number, qy: number, r: number): number {
    const south = this.minLat + (qy - r) * this.dLat;
    const north = this.minLat + (qy + r + 1) * this.dLat;
    const west = this.minLon + (qx - r) * this.dLon;
    const east = this.minLon + (qx + r + 1) * this.dLon;
    const gLat = Math.max(0, Math.min(lat - south, north - lat));
    const gLon = Math.max(0, Math.min(lon - west, east - lon));
    const bLat = gLat * RAD * EARTH_RADIUS_M;
    const bLon = gLon >= 90 ? Infinity : Math.asin(Math.min(1, cosQ * Math.sin(gLon * RAD))) * EARTH_RADIUS_M;
    // Shave a relative epsilon so rounding can never make the bound exceed a true distance.
    return Math.min(bLat, bLon) * (1 - 1e-9) - 1e-6;
  }
}

export function buildSpatialIndex(points: PointSet, opts?: SpatialIndexOptions): SpatialIndex {
  return new SpatialIndex(points, opts);
}
