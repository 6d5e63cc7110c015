import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readOsm } from '../../src/city/osm.js';
import { DEFAULT_CAPACITY, DEFAULT_POWER_KW, describeStation, extractStations, parsePowerKw, snapStations } from '../../src/city/osmStations.js';
import { buildRoadNetwork } from '../../src/city/roads.js';
import { haversineM } from '../../src/city/spatial.js';

const DATA = join(import.meta.dirname, '../../data/osm');
const SHARED = join(import.meta.dirname, '../../../shared/data/osm');

/** Minimal RFC 4180 CSV parser (quoted fields, doubled quotes). */
function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else if (ch !== '\r') field += ch;
  }
  if (field !== '' || row.length) rows.push([...row, field]);
  const [header, ...body] = rows;
  return body.map((r) => Object.fromEntries(header!.map((h, k) => [h, r[k] ?? ''])));
}

async function checkAgainstCsv(pbf: string, csv: string, expected: number): Promise<void> {
  const stations = extractStations(await readOsm(pbf));
  const rows = parseCsv(readFileSync(csv, 'utf8'));
  expect(rows.length).toBe(expected);
  expect(stations.length).toBe(expected);
  rows.forEach((row, k) => {
    const s = stations[k]!;
    expect(s.osmType).toBe(row['osm_type']);
    expect(s.osmId).toBe(Number(row['osm_id']));
    expect(s.lat).toBeCloseTo(Number(row['lat']), 7);
    expect(s.lon).toBeCloseTo(Number(row['lon']), 7);
    expect(s.name ?? '').toBe(row['name']);
    expect(s.operator ?? '').toBe(row['operator']);
    expect(s.tags['capacity'] ?? '').toBe(row['capacity']);
    expect(s.socketSummary).toBe(row['socket_summary']);
    expect(s.tags).toEqual(JSON.parse(row['all_tags_json']!));
    if (row['capacity']) expect(s.capacity).toBe(Number(row['capacity']));
  });
}

describe('extractStations on the shipped extracts', () => {
  it('Monaco: the 11 station nodes of the CSV', async () => {
    await checkAgainstCsv(join(DATA, 'monaco-2026-03.osm.pbf'), join(DATA, 'monaco-2026-03_charging_stations.csv'), 11);
  });

  it('Monaco XML gives the same stations as the PBF', async () => {
    const a = extractStations(await readOsm(join(DATA, 'monaco-2026-03.osm.pbf')));
    const b = extractStations(await readOsm(join(DATA, 'monaco-2026-03.osm.gz')));
    expect(b).toEqual(a);
  });

  it('Liechtenstein: 3 stations incl. the 12-stall Schaan Supercharger', async () => {
    await checkAgainstCsv(
      join(DATA, 'liechtenstein-2021-01.osm.pbf'),
      join(DATA, 'liechtenstein-2021-01_charging_stations.csv'),
      3,
    );
    const st = extractStations(await readOsm(join(DATA, 'liechtenstein-2021-01.osm.pbf')));
    const sc = st.find((s) => s.name === 'Schaan Supercharger')!;
    expect(sc).toMatchObject({ osmId: 5279248693, capacity: 12, capacitySource: 'capacity', kind: 'supercharger', dc: true, powerKw: 150 });
    const lkw = st.find((s) => s.osmId === 5159230140)!;
    expect(lkw).toMatchObject({ capacity: 2, capacitySource: 'sockets', kind: 'domestic', dc: false, powerKw: 3.7, socketSummary: 'cee_blue=2' });
    const bare = st.find((s) => s.osmId === 5159230141)!;
    expect(bare).toMatchObject({ capacity: DEFAULT_CAPACITY, capacitySource: 'default', kind: 'ac', powerKw: 22 });
  });

  it.skipIf(!existsSync(SHARED))('Helsinki (shared data only): 4 stations', async () => {
    await checkAgainstCsv(
      join(SHARED, 'helsinki-centre-2019.osm.pbf'),
      join(SHARED, 'helsinki-centre-2019_charging_stations.csv'),
      4,
    );
  });
});

describe('station tags → capacity / kind / power', () => {
  it('fixture: node station and an area (way) station at its centroid; relations ignored', async () => {
    const st = extractStations(await readOsm(join(import.meta.dirname, 'fixtures/oneway.osm')));
    expect(st.map((s) => `${s.osmType}/${s.osmId}`)).toEqual(['node/20', 'way/120']);
    expect(st[0]).toMatchObject({ name: 'Fixture Plug', capacity: 3, capacitySource: 'sockets', kind: 'domestic', powerKw: 3.7 });
    expect(st[0]!.socketSummary).toBe('cee_blue=1;schuko=2');
    const area = st[1]!;
    expect(area.lat).toBeCloseTo(43.7325, 9);
    expect(area.lon).toBeCloseTo(7.4225, 9);
    expect(area).toMatchObject({
      operator: 'Fixture Energy',
      capacity: 4,
      kind: 'dc',
      dc: true,
      powerKw: 150,
      powerSource: 'socket-output',
      socketSummary: 'type2=2;type2_combo=2',
    });
  });

  it('kind rules and defaults', () => {
    const d = (tags: Record<string, string>) => describeStation('node', 1, 0, 0, { amenity: 'charging_station', ...tags });
    expect(d({})).toMatchObject({ kind: 'ac', powerKw: DEFAULT_POWER_KW.ac, capacity: 2, capacitySource: 'default' });
    expect(d({ 'socket:chademo': '1', 'socket:type2': '1' })).toMatchObject({ kind: 'dc', powerKw: 50, capacity: 2, capacitySource: 'sockets' });
    expect(d({ 'socket:tesla_supercharger': '8' })).toMatchObject({ kind: 'supercharger', powerKw: 150, capacity: 8 });
    expect(d({ operator: 'Tesla', name: 'Somewhere Supercharger' })).toMatchObject({ kind: 'supercharger', dc: true });
    expect(d({ 'socket:schuko': '2' })).toMatchObject({ kind: 'domestic', powerKw: 3.7 });
    expect(d({ 'socket:schuko': '2', 'socket:type2': '2' })).toMatchObject({ kind: 'ac', capacity: 4 });
    expect(d({ 'socket:type2_combo': 'no', 'socket:type2': 'yes' })).toMatchObject({ kind: 'ac', capacity: 2, capacitySource: 'default' });
    expect(d({ capacity: '6', 'socket:type2': '2' })).toMatchObject({ capacity: 6, capacitySource: 'capacity' });
    expect(d({ capacity: 'many', 'socket:type2': '3' })).toMatchObject({ capacity: 3, capacitySource: 'sockets' });
    expect(d({ 'socket:type2': '2', 'socket:type2:output': '11 kW' })).toMatchObject({ powerKw: 11, powerSource: 'socket-output' });
  });

  it('parsePowerKw', () => {
    expect(parsePowerKw('22 kW')).toBe(22);
    expect(parsePowerKw('50kW')).toBe(50);
    expect(parsePowerKw('7400 W')).toBe(7.4);
    expect(parsePowerKw('3,7 kW')).toBe(3.7);
    expect(parsePowerKw('43')).toBe(43);
    expect(parsePowerKw('11 kW;22 kW')).toBe(22);
    expect(parsePowerKw('unknown')).toBeUndefined();
  });
});

describe('snapStations', () => {
  it('snaps to the exact nearest graph node', async () => {
    const osm = await readOsm(join(DATA, 'monaco-2026-03.osm.pbf'));
    const { graph } = buildRoadNetwork(osm);
    const snapped = snapStations(graph, extractStations(osm));
    expect(snapped).toHaveLength(11);
    for (const s of snapped) {
      let best = Infinity;
      let node = -1;
      for (let v = 0; v < graph.nodeCount; v++) {
        const dd = haversineM(s.lat, s.lon, graph.lat[v]!, graph.lon[v]!);
        if (dd < best) [best, node] = [dd, v];
      }
      expect(s.node).toBe(node);
      expect(s.snapDistanceM).toBe(best);
      expect(s.snapDistanceM).toBeLessThan(100);
    }
  });

  it('Liechtenstein stations snap onto the clipped road network', async () => {
    const osm = await readOsm(join(DATA, 'liechtenstein-2021-01.osm.pbf'), { bbox: [8.8, 46.9, 9.7, 47.6] });
    const snapped = snapStations(buildRoadNetwork(osm).graph, extractStations(osm));
    expect(snapped.map((s) => s.snapDistanceM < 100)).toEqual([true, true, true]);
  });
});
