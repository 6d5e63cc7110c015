import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { clipToBBox, findNode, readOsm, type OsmData } from '../../src/city/osm.js';

const DATA = join(import.meta.dirname, '../../data/osm');
const MONACO_PBF = join(DATA, 'monaco-2026-03.osm.pbf');
const MONACO_XML = join(DATA, 'monaco-2026-03.osm.gz');
const LIECHTENSTEIN_PBF = join(DATA, 'liechtenstein-2021-01.osm.pbf');
const FIXTURE = join(import.meta.dirname, 'fixtures/oneway.osm');

function isSorted(a: Float64Array): boolean {
  for (let i = 1; i < a.length; i++) if (a[i]! <= a[i - 1]!) return false;
  return true;
}

describe('readOsm: shipped extracts', () => {
  it('reads Monaco PBF and gzipped XML to identical data', async () => {
    const pbf = await readOsm(MONACO_PBF);
    const xml = await readOsm(MONACO_XML);
    expect(pbf.format).toBe('pbf');
    expect(xml.format).toBe('xml');
    // Counts documented in data/osm/PROVENANCE.md.
    expect(pbf.nodeCount).toBe(41_361);
    expect(pbf.ways.length).toBe(6_180);
    expect(pbf.ways.filter((w) => w.tags['highway'] !== undefined).length).toBe(3_600);
    expect(pbf.stationNodeTags.size).toBe(11);
    expect(isSorted(pbf.nodeId)).toBe(true);
    // Bit-identical coordinates (PBF nanodegrees / 1e9 == parsed 7-decimal XML text).
    expect(xml.nodeCount).toBe(pbf.nodeCount);
    expect(xml.nodeId).toEqual(pbf.nodeId);
    expect(xml.lat).toEqual(pbf.lat);
    expect(xml.lon).toEqual(pbf.lon);
    expect(xml.ways).toEqual(pbf.ways);
    expect([...xml.stationNodeTags]).toEqual([...pbf.stationNodeTags]);
  });

  it('reads Liechtenstein (383,352 nodes) quickly', async () => {
    const t0 = performance.now();
    const osm = await readOsm(LIECHTENSTEIN_PBF);
    const ms = performance.now() - t0;
    console.log(`liechtenstein-2021-01.osm.pbf parsed in ${ms.toFixed(0)} ms`);
    expect(osm.nodeCount).toBe(383_352);
    expect(osm.ways.length).toBe(36_530);
    expect(osm.ways.filter((w) => w.tags['highway'] !== undefined).length).toBe(10_441);
    expect(osm.stationNodeTags.size).toBe(3);
    expect(ms).toBeLessThan(4000); // typically ~0.2–0.4 s; generous for loaded CI machines
    const i = findNode(osm, 5279248693); // Schaan Supercharger
    expect(osm.lat[i]).toBe(47.1651292);
    expect(osm.lon[i]).toBe(9.5077526);
    expect(osm.stationNodeTags.get(5279248693)?.['name']).toBe('Schaan Supercharger');
  });

  it('clips to a bbox (the Liechtenstein file also holds a test area in Alabama)', async () => {
    const all = await readOsm(LIECHTENSTEIN_PBF);
    const eu = clipToBBox(all, [8.8, 46.9, 9.7, 47.6]);
    expect(eu.nodeCount).toBe(269_508);
    expect(all.nodeCount - eu.nodeCount).toBe(113_844);
    expect(eu.stationNodeTags.size).toBe(3);
    expect(eu.ways.length).toBeLessThan(all.ways.length);
    let outside = 0;
    for (let i = 0; i < eu.nodeCount; i++) if (!(eu.lon[i]! >= 8.8 && eu.lat[i]! >= 46.9)) outside++;
    expect(outside).toBe(0);
    const viaRead = await readOsm(LIECHTENSTEIN_PBF, { bbox: [8.8, 46.9, 9.7, 47.6] });
    expect(viaRead.nodeCount).toBe(eu.nodeCount);
    expect(viaRead.ways.length).toBe(eu.ways.length);
  });
});

describe('readOsm: XML details', () => {
  it('reads the hand-written fixture: nodes, ways, only station node tags, no relations', async () => {
    const osm: OsmData = await readOsm(FIXTURE);
    expect(osm.nodeCount).toBe(18);
    expect(osm.ways.map((w) => w.id)).toEqual([101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 120]);
    expect(osm.ways[2]!.refs).toEqual([4, 5, 6, 4]);
    expect(osm.ways[2]!.tags).toEqual({ highway: 'primary', junction: 'roundabout' });
    expect([...osm.stationNodeTags.keys()]).toEqual([20]); // node 21's tags are not kept
    expect(osm.stationNodeTags.get(20)!['name']).toBe('Fixture Plug');
  });

  it('sorts nodes by id when the file is not sorted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evsim-osm-'));
    const p = join(dir, 'unsorted.osm');
    writeFileSync(
      p,
      `<osm version="0.6"><node id="5" lat="1" lon="2"/><node id="3" lat="3" lon="4"/><way id="1"><nd ref="5"/><nd ref="3"/><tag k="highway" v="road"/></way></osm>`,
    );
    const osm = await readOsm(p);
    expect([...osm.nodeId]).toEqual([3, 5]);
    expect([...osm.lat]).toEqual([3, 1]);
    expect(findNode(osm, 5)).toBe(1);
    expect(findNode(osm, 4)).toBe(-1);
  });
});

describe('readOsm: malformed input gives a one-line error naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'evsim-osm-bad-'));
  const write = (name: string, data: string | Uint8Array): string => {
    const p = join(dir, name);
    writeFileSync(p, data);
    return p;
  };
  const monaco = readFileSync(MONACO_PBF);
  const cases: [string, () => string, RegExp][] = [
    ['missing file', () => join(dir, 'nope.osm.pbf'), /cannot open file \(ENOENT\)/],
    ['empty file', () => write('empty.osm', ''), /file is empty/],
    ['random bytes', () => write('junk.osm.pbf', Buffer.from('PK\x03\x04 this is a zip, not OSM')), /not an OSM file/],
    ['truncated PBF', () => write('trunc.osm.pbf', monaco.subarray(0, 200_000)), /truncated PBF|malformed PBF/],
    ['corrupt PBF blob', () => {
      const b = Buffer.from(monaco);
      for (let i = 2000; i < 3000; i++) b[i] = 0x55;
      return write('corrupt.osm.pbf', b);
    }, /PBF/],
    ['wrong XML root', () => write('gpx.osm', '<?xml version="1.0"?><gpx><trk/></gpx>'), /root element is <gpx>/],
    ['truncated XML', () => write('trunc.osm', '<osm version="0.6"><node id="1" lat="1" lon="2"><tag k="a" v="b"/>'), /XML error/],
    ['node without coordinates', () => write('nolat.osm', '<osm><node id="1"/></osm>'), /node 1 without valid lat\/lon/],
    ['corrupt gzip', () => write('bad.osm.gz', Buffer.concat([gzipSync('<osm version="0.6">').subarray(0, 12), Buffer.alloc(40, 7)])), /gzip|XML/],
  ];
  for (const [name, make, re] of cases) {
    it(name, async () => {
      const p = make();
      const err = await readOsm(p).then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(err).toBeInstanceOf(Error);
      expect(err!.message).toMatch(re);
      expect(err!.message.startsWith(`${p}: `)).toBe(true);
      expect(err!.message).not.toContain('\n');
    });
  }
});
