/**
 * OpenStreetMap reader: `.osm.pbf` (decoded here with the `pbf` package + zlib) and `.osm` /
 * `.osm.gz` XML 0.6 (streamed through `saxes`).
 *
 * Output is deliberately compact:
 *  - nodes: parallel typed arrays (OSM id, lat, lon), SORTED BY OSM ID (files are normally sorted
 *    already; if not, we sort), so `findNode` is a binary search and every consumer sees the same
 *    order whatever the file format;
 *  - node tags are kept only for `amenity=charging_station` nodes (full tag map, by OSM id);
 *  - ways: every way, with its node refs (OSM ids, file order) and its full tag map;
 *  - relations are skipped.
 *
 * Coordinates: PBF values are converted as (lat_offset + granularity * raw) / 1e9. Dividing the
 * exact integer nanodegree count gives the same double as parsing the 7-decimal XML text, so a
 * PBF file and its XML rendering yield bit-identical coordinates.
 *
 * Format detection sniffs the content (gzip magic, leading `<`, or a PBF BlobHeader), not the file
 * name. Any unreadable/malformed input throws an Error whose message is one line:
 * `<path>: <problem>`. Supported PBF blob encodings: raw and zlib (lzma/lz4/zstd are rejected).
 * Visible=false / deleted elements in XML are skipped; history files are not supported.
 *
 * Optional `bbox` clipping drops nodes outside the box (and ways left with none of their nodes).
 * Needed for the shipped Liechtenstein file, which also holds a Nominatim test area in Alabama.
 */
import { open, readFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { createGunzip, inflateSync } from 'node:zlib';
import { PbfReader } from 'pbf';
import { SaxesParser } from 'saxes';

export type OsmTags = Record<string, string>;

export interface OsmWay {
  id: number;
  /** Node OSM ids in way order (may reference nodes missing from the extract). */
  refs: number[];
  tags: OsmTags;
}

export interface OsmData {
  /** Path the data was read from, for messages. */
  source: string;
  format: 'pbf' | 'xml';
  nodeCount: number;
  /** Sorted ascending; OSM ids exceed int32 so they are stored as doubles (exact up to 2^53). */
  nodeId: Float64Array;
  lat: Float64Array;
  lon: Float64Array;
  /** Tags of `amenity=charging_station` nodes only, keyed by OSM node id. */
  stationNodeTags: Map<number, OsmTags>;
  ways: OsmWay[];
}

/** Error thrown for unreadable or malformed input; message is a single line naming the file. */
export class OsmReadError extends Error {
  constructor(path: string, problem: string) {
    super(`${path}: ${problem}`.replace(/\s*\n\s*/g, ' '));
    this.name = 'OsmReadError';
  }
}

/** Index of the node with this OSM id in `osm.nodeId`, or -1. */
export function findNode(osm: Pick<OsmData, 'nodeId' | 'nodeCount'>, id: number): number {
  const ids = osm.nodeId;
  let lo = 0;
  let hi = osm.nodeCount - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = ids[mid]!;
    if (v < id) lo = mid + 1;
    else if (v > id) hi = mid - 1;
    else return mid;
  }
  return -1;
}

/** [west, south, east, north] in degrees (GeoJSON bbox order). */
export type BBox = readonly [minLon: number, minLat: number, maxLon: number, maxLat: number];

export interface ReadOsmOptions {
  /** Keep only nodes inside this box (inclusive), and ways that keep at least one node. */
  bbox?: BBox;
}

/** Read an OSM file (.osm.pbf, .osm, .osm.gz; detected from content). */
export async function readOsm(path: string, opts: ReadOsmOptions = {}): Promise<OsmData> {
  const data = await readAny(path);
  return opts.bbox ? clipToBBox(data, opts.bbox) : data;
}

/** Nodes inside `bbox` (inclusive), their station tags, and the ways that keep ≥ 1 node. */
export function clipToBBox(osm: OsmData, bbox: BBox): OsmData {
  const [w, s, e, n] = bbox;
  if (!(w <= e && s <= n)) throw new Error(`invalid bbox [${bbox.join(', ')}]`);
  const keep: number[] = [];
  for (let i = 0; i < osm.nodeCount; i++) {
    const la = osm.lat[i]!;
    const lo = osm.lon[i]!;
    if (la >= s && la <= n && lo >= w && lo <= e) keep.push(i);
  }
  const pick = (a: Float64Array): Float64Array => Float64Array.from(keep, (i) => a[i]!);
  const out: OsmData = {
    ...osm,
    nodeCount: keep.length,
    nodeId: pick(osm.nodeId),
    lat: pick(osm.lat),
    lon: pick(osm.lon),
    stationNodeTags: new Map(),
    ways: [],
  };
  for (const [id, tags] of osm.stationNodeTags) if (findNode(out, id) >= 0) out.stationNodeTags.set(id, tags);
  out.ways = osm.ways.filter((way) => way.refs.some((r) => findNode(out, r) >= 0));
  return out;
}

async function readAny(path: string): Promise<OsmData> {
  let head: Buffer;
  try {
    const fh = await open(path, 'r');
    try {
      const b = Buffer.alloc(64);
      const { bytesRead } = await fh.read(b, 0, 64, 0);
      head = b.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw new OsmReadError(path, `cannot open file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (head.length === 0) throw new OsmReadError(path, 'file is empty');
  if (head[0] === 0x1f && head[1] === 0x8b) return readXml(path, true);
  const text = head.toString('latin1').replace(/^\uFEFF|^\xEF\xBB\xBF/, '').trimStart();
  if (text.startsWith('<')) return readXml(path, false);
  if (looksLikePbf(head)) {
    const buf = await readFile(path);
    return readPbf(path, buf);
  }
  throw new OsmReadError(path, 'not an OSM file (expected .osm.pbf, OSM XML or gzipped OSM XML)');
}

// ---------------------------------------------------------------------------------------------
// Shared accumulator

class Builder {
  nodeId: Float64Array = new Float64Array(1 << 16);
  lat: Float64Array = new Float64Array(1 << 16);
  lon: Float64Array = new Float64Array(1 << 16);
  n = 0;
  stationNodeTags = new Map<number, OsmTags>();
  ways: OsmWay[] = [];

  addNode(id: number, lat: number, lon: number): void {
    if (this.n === this.nodeId.length) this.grow();
    this.nodeId[this.n] = id;
    this.lat[this.n] = lat;
    this.lon[this.n] = lon;
    this.n++;
  }

  private grow(): void {
    const cap = this.nodeId.length * 2;
    const g = (a: Float64Array): Float64Array => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    this.nodeId = g(this.nodeId);
    this.lat = g(this.lat);
    this.lon = g(this.lon);
  }

  finish(source: string, format: 'pbf' | 'xml'): OsmData {
    const n = this.n;
    let nodeId: Float64Array = this.nodeId.slice(0, n);
    let lat: Float64Array = this.lat.slice(0, n);
    let lon: Float64Array = this.lon.slice(0, n);
    let sorted = true;
    for (let i = 1; i < n; i++) {
      if (nodeId[i]! <= nodeId[i - 1]!) {
        sorted = false;
        break;
      }
    }
    if (!sorted) {
      const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => nodeId[a]! - nodeId[b]! || a - b);
      // Drop duplicate ids (keep the first occurrence in file order).
      const keep = order.filter((i, k) => k === 0 || nodeId[i] !== nodeId[order[k - 1]!]);
      const pick = (a: Float64Array): Float64Array => Float64Array.from(keep, (i) => a[i]!);
      [nodeId, lat, lon] = [pick(nodeId), pick(lat), pick(lon)];
    }
    return {
      source,
      format,
      nodeCount: nodeId.length,
      nodeId,
      lat,
      lon,
      stationNodeTags: this.stationNodeTags,
      ways: this.ways,
    };
  }
}

const isStationTags = (tags: OsmTags): boolean => tags['amenity'] === 'charging_station';

// ---------------------------------------------------------------------------------------------
// PBF

function looksLikePbf(head: Buffer): boolean {
  if (head.length < 8) return false;
  const len = head.readUInt32BE(0);
  // BlobHeader starts with field 1 (type, length-delimited) = tag byte 0x0a.
  return len > 0 && len < 64 * 1024 && head[4] === 0x0a;
}

interface Blob {
  type: string;
  data: Uint8Array;
}

/** Split the file into (type, decompressed data) blobs. */
function* blobs(path: string, buf: Buffer): Generator<Blob> {
  let pos = 0;
  while (pos < buf.length) {
    if (pos + 4 > buf.length) throw new OsmReadError(path, `truncated PBF at byte ${pos}`);
    const hlen = buf.readUInt32BE(pos);
    pos += 4;
    if (hlen > 64 * 1024 || pos + hlen > buf.length) throw new OsmReadError(path, `bad PBF BlobHeader at byte ${pos - 4}`);
    const header = { type: '', datasize: -1 };
    new PbfReader(buf.subarray(pos, pos + hlen)).readFields((tag, h, p) => {
      if (tag === 1) h.type = p.readString();
      else if (tag === 3) h.datasize = p.readVarint();
    }, header);
    pos += hlen;
    if (header.datasize < 0 || pos + header.datasize > buf.length) {
      throw new OsmReadError(path, `truncated PBF blob "${header.type}" at byte ${pos}`);
    }
    const blob = { raw: null as Uint8Array | null, zlib: null as Uint8Array | null, rawSize: -1, other: 0 };
    new PbfReader(buf.subarray(pos, pos + header.datasize)).readFields((tag, b, p) => {
      if (tag === 1) b.raw = p.readBytes();
      else if (tag === 2) b.rawSize = p.readVarint();
      else if (tag === 3) b.zlib = p.readBytes();
      else if (tag >= 4 && tag <= 7) {
        b.other = tag;
        p.skip(p.type);
      }
    }, blob);
    pos += header.datasize;
    let data: Uint8Array;
    if (blob.raw) data = blob.raw;
    else if (blob.zlib) {
      try {
        data = inflateSync(blob.zlib);
      } catch (err) {
        throw new OsmReadError(path, `corrupt zlib data in PBF blob (${(err as Error).message})`);
      }
      if (blob.rawSize >= 0 && data.length !== blob.rawSize) throw new OsmReadError(path, 'PBF blob size mismatch');
    } else if (blob.other) {
      const name = ['', '', '', '', 'lzma', 'bzip2', 'lz4', 'zstd'][blob.other];
      throw new OsmReadError(path, `unsupported PBF blob compression ${name}`);
    } else throw new OsmReadError(path, 'empty PBF blob');
    yield { type: header.type, data };
  }
}

const SUPPORTED_FEATURES = new Set(['OsmSchema-V0.6', 'DenseNodes']);

function readPbf(path: string, buf: Buffer): OsmData {
  const b = new Builder();
  let sawHeader = false;
  try {
    for (const blob of blobs(path, buf)) {
      if (blob.type === 'OSMHeader') {
        sawHeader = true;
        const required: string[] = [];
        new PbfReader(blob.data).readFields((tag, r, p) => {
          if (tag === 4) r.push(p.readString());
        }, required);
        const bad = required.filter((f) => !SUPPORTED_FEATURES.has(f));
        if (bad.length) throw new OsmReadError(path, `unsupported PBF required feature(s): ${bad.join(', ')}`);
      } else if (blob.type === 'OSMData') {
        if (!sawHeader) throw new OsmReadError(path, 'PBF data block before OSMHeader');
        readPrimitiveBlock(blob.data, b);
      } // unknown blob types are skipped, as the spec allows
    }
  } catch (err) {
    if (err instanceof OsmReadError) throw err;
    throw new OsmReadError(path, `malformed PBF (${(err as Error).message})`);
  }
  if (!sawHeader) throw new OsmReadError(path, 'no OSMHeader block in PBF');
  return b.finish(path, 'pbf');
}

const utf8 = new TextDecoder('utf-8');

interface BlockCtx {
  strings: string[];
  granularity: number;
  latOffset: number;
  lonOffset: number;
  groups: [number, number][]; // byte ranges of PrimitiveGroup messages
}

function readPrimitiveBlock(data: Uint8Array, b: Builder): void {
  const pbf = new PbfReader(data);
  const ctx: BlockCtx = { strings: [], granularity: 100, latOffset: 0, lonOffset: 0, groups: [] };
  // Pass 1: string table, granularity/offsets and group positions (field order is not guaranteed).
  pbf.readFields((tag, c, p) => {
    if (tag === 1) {
      const end = p.readVarint() + p.pos;
      while (p.pos < end) {
        const t = p.readVarint();
        if (t >> 3 === 1) {
          const len = p.readVarint();
          c.strings.push(utf8.decode(p.buf.subarray(p.pos, p.pos + len)));
          p.pos += len;
        } else p.skip(t & 7);
      }
    } else if (tag === 2) {
      const len = p.readVarint();
      c.groups.push([p.pos, p.pos + len]);
      p.pos += len;
    } else if (tag === 17) c.granularity = p.readVarint();
    else if (tag === 19) c.latOffset = p.readVarint(true);
    else if (tag === 20) c.lonOffset = p.readVarint(true);
  }, ctx);
  for (const [start, end] of ctx.groups) {
    pbf.pos = start;
    pbf.readFields(
      (tag, c, p) => {
        if (tag === 1) readNode(p, c, b);
        else if (tag === 2) readDense(p, c, b);
        else if (tag === 3) readWay(p, c, b);
        // 4 = relations, 5 = changesets: skipped by readFields
      },
      ctx,
      end,
    );
  }
}

function tagsOf(keys: number[], vals: number[], strings: string[]): OsmTags {
  const tags: OsmTags = {};
  for (let i = 0; i < keys.length; i++) tags[strings[keys[i]!]!] = strings[vals[i]!] ?? '';
  return tags;
}

function readNode(p: PbfReader, c: BlockCtx, b: Builder): void {
  const n = { id: 0, keys: [] as number[], vals: [] as number[], lat: 0, lon: 0 };
  const end = p.readVarint() + p.pos;
  p.readFields(
    (tag, o, r) => {
      if (tag === 1) o.id = r.readSVarint();
      else if (tag === 2) r.readPackedVarint(o.keys);
      else if (tag === 3) r.readPackedVarint(o.vals);
      else if (tag === 8) o.lat = r.readSVarint();
      else if (tag === 9) o.lon = r.readSVarint();
    },
    n,
    end,
  );
  b.addNode(n.id, (c.latOffset + c.granularity * n.lat) / 1e9, (c.lonOffset + c.granularity * n.lon) / 1e9);
  if (n.keys.length) {
    const tags = tagsOf(n.keys, n.vals, c.strings);
    if (isStationTags(tags)) b.stationNodeTags.set(n.id, tags);
  }
}

function readDense(p: PbfReader, c: BlockCtx, b: Builder): void {
  const end = p.readVarint() + p.pos;
  let ids: number[] = [];
  let lats: number[] = [];
  let lons: number[] = [];
  let kvStart = -1;
  let kvEnd = -1;
  while (p.pos < end) {
    const t = p.readVarint();
    const field = t >> 3;
    if (field === 1) ids = p.readPackedSVarint([]);
    else if (field === 8) lats = p.readPackedSVarint([]);
    else if (field === 9) lons = p.readPackedSVarint([]);
    else if (field === 10) {
      const len = p.readVarint();
      kvStart = p.pos;
      kvEnd = p.pos + len;
      p.pos = kvEnd;
    } else p.skip(t & 7);
  }
  const count = ids.length;
  if (lats.length !== count || lons.length !== count) throw new Error('DenseNodes arrays differ in length');
  const { granularity: g, latOffset, lonOffset } = c;
  let id = 0;
  let lat = 0;
  let lon = 0;
  for (let i = 0; i < count; i++) {
    id += ids[i]!;
    lat += lats[i]!;
    lon += lons[i]!;
    b.addNode(id, (latOffset + g * lat) / 1e9, (lonOffset + g * lon) / 1e9);
  }
  if (kvStart < 0) return;
  // keys_vals: per node, (key, value) string indices terminated by 0. Only keep station tags.
  const amenity = c.strings.indexOf('amenity');
  const station = c.strings.indexOf('charging_station');
  if (amenity < 0 || station < 0) return;
  p.pos = kvStart;
  id = 0;
  let node = 0;
  const kv: number[] = [];
  while (p.pos < kvEnd && node < count) {
    const k = p.readVarint();
    if (k !== 0) {
      kv.push(k, p.readVarint());
      continue;
    }
    id += ids[node]!;
    for (let i = 0; i < kv.length; i += 2) {
      if (kv[i] === amenity && kv[i + 1] === station) {
        const tags: OsmTags = {};
        for (let j = 0; j < kv.length; j += 2) tags[c.strings[kv[j]!]!] = c.strings[kv[j + 1]!] ?? '';
        b.stationNodeTags.set(id, tags);
        break;
      }
    }
    kv.length = 0;
    node++;
  }
}

function readWay(p: PbfReader, c: BlockCtx, b: Builder): void {
  const w = { id: 0, keys: [] as number[], vals: [] as number[], refs: [] as number[] };
  const end = p.readVarint() + p.pos;
  p.readFields(
    (tag, o, r) => {
      if (tag === 1) o.id = r.readVarint();
      else if (tag === 2) r.readPackedVarint(o.keys);
      else if (tag === 3) r.readPackedVarint(o.vals);
      else if (tag === 8) r.readPackedSVarint(o.refs);
    },
    w,
    end,
  );
  const refs = w.refs;
  for (let i = 1; i < refs.length; i++) refs[i]! += refs[i - 1]!;
  b.ways.push({ id: w.id, refs, tags: tagsOf(w.keys, w.vals, c.strings) });
}

// ---------------------------------------------------------------------------------------------
// XML (streaming)

async function readXml(path: string, gzipped: boolean): Promise<OsmData> {
  const b = new Builder();
  const parser = new SaxesParser();
  let depth = 0;
  let sawRoot = false;
  // Current element being collected (node/way); relations and others are ignored.
  let cur: { kind: 'node' | 'way'; id: number; lat: number; lon: number; refs: number[]; tags: OsmTags; skip: boolean } | null =
    null;
  let problem: string | null = null;
  const fail = (msg: string): void => {
    problem ??= `line ${parser.line}: ${msg}`;
  };

  parser.on('opentag', (tag) => {
    depth++;
    const a = tag.attributes as Record<string, string>;
    if (depth === 1) {
      if (tag.name !== 'osm') fail(`root element is <${tag.name}>, expected <osm>`);
      sawRoot = true;
      return;
    }
    if (depth === 2) {
      if (tag.name === 'node' || tag.name === 'way') {
        const id = Number(a['id']);
        if (!Number.isFinite(id)) fail(`<${tag.name}> without a numeric id`);
        const skip = a['visible'] === 'false' || a['action'] === 'delete';
        cur = { kind: tag.name, id, lat: NaN, lon: NaN, refs: [], tags: {}, skip };
        if (tag.name === 'node') {
          cur.lat = Number(a['lat']);
          cur.lon = Number(a['lon']);
          if (!skip && (!Number.isFinite(cur.lat) || !Number.isFinite(cur.lon))) fail(`node ${id} without valid lat/lon`);
        }
      }
      return;
    }
    if (depth === 3 && cur) {
      if (tag.name === 'tag') {
        const k = a['k'];
        if (k !== undefined) cur.tags[k] = a['v'] ?? '';
      } else if (tag.name === 'nd' && cur.kind === 'way') {
        const ref = Number(a['ref']);
        if (!Number.isFinite(ref)) fail(`way ${cur.id} has an <nd> without a numeric ref`);
        cur.refs.push(ref);
      }
    }
  });
  parser.on('closetag', () => {
    if (depth === 2 && cur) {
      if (!cur.skip) {
        if (cur.kind === 'node') {
          b.addNode(cur.id, cur.lat, cur.lon);
          if (isStationTags(cur.tags)) b.stationNodeTags.set(cur.id, cur.tags);
        } else b.ways.push({ id: cur.id, refs: cur.refs, tags: cur.tags });
      }
      cur = null;
    }
    depth--;
  });
  parser.on('error', (err) => fail(`XML error: ${err.message.replace(/^[^:]*:\d+:\d+: /, '')}`));

  const input = createReadStream(path);
  const stream = gzipped ? input.pipe(createGunzip()) : input;
  stream.setEncoding('utf8');
  try {
    for await (const chunk of stream) {
      parser.write(chunk as string);
      if (problem) break;
    }
    if (!problem) parser.close();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (gzipped && (e.code?.startsWith('Z_') || /zlib|gzip|unexpected end/i.test(e.message))) {
      throw new OsmReadError(path, `corrupt gzip data (${e.message})`);
    }
    if (!problem) throw new OsmReadError(path, `read failed (${e.message})`);
  } finally {
    input.destroy();
  }
  if (problem) throw new OsmReadError(path, problem);
  if (!sawRoot) throw new OsmReadError(path, 'no XML root element');
  return b.finish(path, 'xml');
}
