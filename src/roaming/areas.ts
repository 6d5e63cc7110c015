/**
 * Utilities' service areas on the map: a bounding box or a polygon in (lon, lat) degrees, and the
 * lookup of which utility serves a point.
 *
 *   - bbox [minLon, minLat, maxLon, maxLat]: a point on the edge is inside.
 *   - polygon [[lon, lat], ...] (at least 3 vertices, implicitly closed): even-odd ray casting
 *     (a horizontal ray towards +lon; a vertex on the ray counts on the upper side only, so a ray
 *     through a vertex is counted once). Points exactly on an edge may fall either way.
 *   - Areas are tried in the order the utilities are listed: the first that contains the point
 *     serves it (overlaps are resolved by order). A point in no area belongs to the first utility
 *     listed (documented in docs/roaming.md: the shipped scenario's areas cover its map).
 *
 * Degrees are treated as plane coordinates (no great-circle edges): exact for a bbox, and for a
 * polygon an approximation whose error is negligible at the scale of a region (edges of a few km).
 */

export type AreaDef = { bbox: readonly [number, number, number, number] } | { polygon: readonly (readonly [number, number])[] };

/** Whether (lon, lat) lies in the area. */
export function inArea(area: AreaDef, lon: number, lat: number): boolean {
  if ('bbox' in area) {
    const [x0, y0, x1, y1] = area.bbox;
    return lon >= x0 && lon <= x1 && lat >= y0 && lat <= y1;
  }
  return inPolygon(area.polygon, lon, lat);
}

/** Even-odd point-in-polygon test (ray casting towards +lon). */
export function inPolygon(poly: readonly (readonly [number, number])[], x: number, y: number): boolean {
  let inside = false;
  const n = poly.length;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const [xi, yi] = poly[i]!;
    const [xj, yj] = poly[j]!;
    if (yi > y !== yj > y) {
      const xCross = xi + ((y - yi) * (xj - xi)) / (yj - yi);
      if (x < xCross) inside = !inside;
    }
  }
  return inside;
}

/** Index of the utility serving (lon, lat): the first area containing it, else 0. */
export function utilityAt(areas: readonly AreaDef[], lon: number, lat: number): number {
  for (let u = 0; u < areas.length; u++) if (inArea(areas[u]!, lon, lat)) return u;
  return 0;
}

/** A representative point of an area (bbox centre, or the mean of the polygon's vertices): where
 * the utility's AAA node and roaming gateway sit in the latency model. */
export function areaSite(area: AreaDef): [number, number] {
  if ('bbox' in area) return [(area.bbox[0] + area.bbox[2]) / 2, (area.bbox[1] + area.bbox[3]) / 2];
  let x = 0;
  let y = 0;
  for (const [px, py] of area.polygon) {
    x += px;
    y += py;
  }
  return [x / area.polygon.length, y / area.polygon.length];
}

/** Great-circle distance in km (haversine, mean Earth radius 6371.0088 km). */
export function distanceKm(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const r = Math.PI / 180;
  const dLat = (lat2 - lat1) * r;
  const dLon = (lon2 - lon1) * r;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371.0088 * Math.asin(Math.min(1, Math.sqrt(a)));
}
