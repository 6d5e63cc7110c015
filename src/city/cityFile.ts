/**
 * Binary city files: a built road graph and its routing tables (typed arrays) in one file, read
 * back without parsing (typed-array views on the file's bytes).
 *
 * Layout (little-endian):
 *   bytes 0..7     magic "EVSIMCTY"
 *   bytes 8..11    format version (u32)
 *   bytes 12..15   header length H (u32)
 *   bytes 16..     header: UTF-8 JSON {format, evsim, key, meta, arrays: [{name, type, offset, length}]}
 *   then           each array's bytes at its offset (a multiple of 8 from the file start)
 *   last 8 bytes   "EVSIMEND"
 * A file is accepted only if the magic, the format version, the evsim version and the key match,
 * the trailer is there and every array lies inside the file; anything else reads as "no file" (the
 * caller rebuilds). The bytes of the arrays are not checksummed (a checksum would cost about as
 * much as the load itself): truncation and a wrong file are caught, a flipped bit inside an array
 * is not.
 *
 * Writes go to a temporary file in the same folder, renamed into place: concurrent writers of the
 * same key each rename a complete file, and readers see either no file or a complete one.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RoadGraph } from './graph.js';
import { TreeTable, type TreeDirection } from './routing.js';

export const CITY_FILE_FORMAT = 1;
const MAGIC = Buffer.from('EVSIMCTY', 'latin1');
const TRAILER = Buffer.from('EVSIMEND', 'latin1');

type Typed = Float64Array | Float32Array | Int32Array;
const CTORS = { f64: Float64Array, f32: Float32Array, i32: Int32Array } as const;
type TypeName = keyof typeof CTORS;
const typeName = (a: Typed): TypeName => (a instanceof Float64Array ? 'f64' : a instanceof Float32Array ? 'f32' : 'i32');

export interface Bundle {
  meta: unknown;
  arrays: Map<string, Typed>;
}

let tmpCounter = 0;
const pad8 = (n: number) => (n + 7) & ~7;

/** Write `arrays` and `meta` under `key` to `path` (temporary file, then rename). */
export function writeCityFile(path: string, evsim: string, key: string, meta: unknown, arrays: Map<string, Typed>): void {
  const entries: { name: string; type: TypeName; offset: number; length: number }[] = [];
  // offsets depend on the header length, which depends on the offsets: lay out after a header
  // size bound, padded with spaces
  let headerBound = 0;
  for (;;) {
    let off = pad8(16 + headerBound);
    entries.length = 0;
    for (const [name, a] of arrays) {
      entries.push({ name, type: typeName(a), offset: off, length: a.length });
      off = pad8(off + a.byteLength);
    }
    const json = JSON.stringify({ format: CITY_FILE_FORMAT, evsim, key, meta, arrays: entries });
    const bytes = Buffer.byteLength(json, 'utf8');
    if (bytes <= headerBound) {
      const header = Buffer.alloc(headerBound, 0x20);
      header.write(json, 0, 'utf8');
      try {
        mkdirSync(dirname(path)); // one level only (never mkdir -p); its parent must exist
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const tmp = `${path}.tmp-${process.pid}-${tmpCounter++}`;
      const fd = openSync(tmp, 'w');
      try {
        const head = Buffer.alloc(16);
        MAGIC.copy(head, 0);
        head.writeUInt32LE(CITY_FILE_FORMAT, 8);
        head.writeUInt32LE(headerBound, 12);
        writeSync(fd, head);
        writeSync(fd, header);
        let pos = 16 + headerBound;
        const zeros = Buffer.alloc(8);
        for (const e of entries) {
          if (e.offset > pos) writeSync(fd, zeros, 0, e.offset - pos);
          const a = arrays.get(e.name)!;
          writeSync(fd, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
          pos = e.offset + a.byteLength;
        }
        const end = pad8(pos);
        if (end > pos) writeSync(fd, zeros, 0, end - pos);
        writeSync(fd, TRAILER);
        closeSync(fd);
        renameSync(tmp, path);
      } catch (err) {
        try {
          closeSync(fd);
        } catch {
          /* closed */
        }
        rmSync(tmp, { force: true });
        throw err;
      }
      return;
    }
    headerBound = pad8(bytes + 64);
  }
}

/** Read a city file; null when it is missing, truncated, of another format/evsim version/key. */
export function readCityFile(path: string, evsim: string, key: string): Bundle | null {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch {
    return null;
  }
  try {
    if (buf.length < 24 || !buf.subarray(0, 8).equals(MAGIC) || buf.readUInt32LE(8) !== CITY_FILE_FORMAT) return null;
    if (!buf.subarray(buf.length - 8).equals(TRAILER)) return null;
    const h = buf.readUInt32LE(12);
    if (16 + h > buf.length - 8) return null;
    const header = JSON.parse(buf.subarray(16, 16 + h).toString('utf8')) as {
      format: number;
      evsim: string;
      key: string;
      meta: unknown;
      arrays: { name: string; type: TypeName; offset: number; length: number }[];
    };
    if (header.format !== CITY_FILE_FORMAT || header.evsim !== evsim || header.key !== key || !Array.isArray(header.arrays)) return null;
    // typed-array views need aligned offsets: copy the bytes once if the buffer is not 8-aligned
    let ab = buf.buffer as ArrayBuffer;
    let base = buf.byteOffset;
    if (base % 8 !== 0) {
      const copy = new Uint8Array(buf.length);
      copy.set(buf);
      ab = copy.buffer;
      base = 0;
    }
    const arrays = new Map<string, Typed>();
    for (const e of header.arrays) {
      const C = CTORS[e.type];
      if (!C || !Number.isSafeInteger(e.offset) || !Number.isSafeInteger(e.length) || e.offset % 8 !== 0) return null;
      if (e.offset + e.length * C.BYTES_PER_ELEMENT > buf.length - 8) return null;
      arrays.set(e.name, new C(ab, base + e.offset, e.length));
    }
    return { meta: header.meta, arrays };
  } catch {
    return null;
  }
}

const GRAPH_ARRAYS = ['lat', 'lon', 'osmId', 'outStart', 'edgeSource', 'edgeTarget', 'edgeLengthM', 'edgeTimeS', 'inStart', 'inEdge'] as const;

/** The graph's arrays under `prefix.<field>`; its counts go in the returned meta. */
export function graphToArrays(g: RoadGraph, prefix: string, into: Map<string, Typed>): { nodeCount: number; edgeCount: number } {
  for (const k of GRAPH_ARRAYS) into.set(`${prefix}.${k}`, g[k]);
  return { nodeCount: g.nodeCount, edgeCount: g.edgeCount };
}

export function graphFromArrays(meta: { nodeCount: number; edgeCount: number }, prefix: string, from: Map<string, Typed>): RoadGraph | null {
  const f64 = (k: string) => {
    const a = from.get(`${prefix}.${k}`);
    return a instanceof Float64Array ? a : null;
  };
  const i32 = (k: string) => {
    const a = from.get(`${prefix}.${k}`);
    return a instanceof Int32Array ? a : null;
  };
  const [lat, lon, osmId, edgeLengthM, edgeTimeS] = [f64('lat'), f64('lon'), f64('osmId'), f64('edgeLengthM'), f64('edgeTimeS')];
  const [outStart, edgeSource, edgeTarget, inStart, inEdge] = [i32('outStart'), i32('edgeSource'), i32('edgeTarget'), i32('inStart'), i32('inEdge')];
  if (!lat || !lon || !osmId || !edgeLengthM || !edgeTimeS || !outStart || !edgeSource || !edgeTarget || !inStart || !inEdge) return null;
  const { nodeCount: n, edgeCount: m } = meta;
  if (lat.length !== n || lon.length !== n || osmId.length !== n || outStart.length !== n + 1 || inStart.length !== n + 1) return null;
  if (edgeSource.length !== m || edgeTarget.length !== m || edgeLengthM.length !== m || edgeTimeS.length !== m || inEdge.length !== m) return null;
  return { nodeCount: n, edgeCount: m, lat, lon, osmId, outStart, edgeSource, edgeTarget, edgeLengthM, edgeTimeS, inStart, inEdge };
}

export function treeToArrays(t: TreeTable, prefix: string, into: Map<string, Typed>): { direction: TreeDirection; nodeCount: number } {
  into.set(`${prefix}.roots`, t.roots);
  into.set(`${prefix}.timeS`, t.timeS);
  into.set(`${prefix}.lengthM`, t.lengthM);
  return { direction: t.direction, nodeCount: t.nodeCount };
}

export function treeFromArrays(meta: { direction: TreeDirection; nodeCount: number }, prefix: string, from: Map<string, Typed>): TreeTable | null {
  const roots = from.get(`${prefix}.roots`);
  const timeS = from.get(`${prefix}.timeS`);
  const lengthM = from.get(`${prefix}.lengthM`);
  if (!(roots instanceof Int32Array) || !(timeS instanceof Float32Array) || !(lengthM instanceof Float32Array)) return null;
  if (timeS.length !== roots.length * meta.nodeCount || lengthM.length !== timeS.length) return null;
  return new TreeTable(meta.direction, roots, meta.nodeCount, timeS, lengthM);
}
