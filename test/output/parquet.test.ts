import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { beforeAll, describe, expect, it } from 'vitest';
import { csvColumns, csvToParquet, loadParquetWriter } from '../../src/output/parquet.js';
import { scenarioHash } from '../../src/output/manifest.js';
import { loadScenario } from '../../src/scenario/scenario.js';
import { cli, GOLDEN_SCENARIOS, ROOT } from '../cli/helpers.js';

async function read(file: string): Promise<Record<string, unknown>[]> {
  const b = readFileSync(file);
  return parquetReadObjects({ file: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) });
}

describe('output.parquet', () => {
  beforeAll(loadParquetWriter);

  it('parses RFC 4180 CSV into columns', () => {
    const { header, columns } = csvColumns('a,b,c\n1,"x, ""y""",\n2,z,3.5\n');
    expect(header).toEqual(['a', 'b', 'c']);
    expect(columns).toEqual([['1', '2'], ['x, "y"', 'z'], ['', '3.5']]);
  });

  it('typed columns with nulls round-trip through a Parquet reader', async () => {
    const bytes = csvToParquet('id,name,kw\n1,a,2.5\n2,,\n', { id: 'int', kw: 'double' });
    const rows = await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer });
    expect(rows).toEqual([
      { id: 1n, name: 'a', kw: 2.5 },
      { id: 2n, name: '', kw: null },
    ]);
    expect(Buffer.from(csvToParquet('id\n1\n', { id: 'int' })).equals(Buffer.from(csvToParquet('id\n1\n', { id: 'int' })))).toBe(true);
  });

  it('a run writes sessions/stations/ledger.parquet equal to the CSVs, byte-identical run after run', async () => {
    const scen = join(GOLDEN_SCENARIOS, 'grid-trips.yaml');
    const outs = [0, 1].map(() => join(mkdtempSync(join(tmpdir(), 'evsim-pq-')), 'r'));
    for (const o of outs) expect((await cli('run', scen, '--quiet', '--ledger', 'qbft', '--set', 'output.parquet=true', '--out', o)).code).toBe(0);
    for (const t of ['sessions', 'stations', 'ledger']) {
      const a = readFileSync(join(outs[0]!, `${t}.parquet`));
      expect(a.equals(readFileSync(join(outs[1]!, `${t}.parquet`))), t).toBe(true);
      const rows = await read(join(outs[0]!, `${t}.parquet`));
      const csv = csvColumns(readFileSync(join(outs[0]!, `${t}.csv`), 'utf8'));
      expect(rows.length, t).toBe(csv.columns[0]!.length);
      expect(Object.keys(rows[0]!)).toEqual(csv.header);
      // every value equals the CSV's (numbers parsed, empty fields null)
      const last = rows.length - 1;
      csv.header.forEach((h, j) => {
        const raw = csv.columns[j]![last]!;
        const v = rows[last]![h];
        expect(v === null ? '' : typeof v === 'bigint' ? v.toString() : typeof v === 'number' ? String(v) : v, `${t}.${h}`).toBe(typeof v === 'number' ? String(Number(raw)) : raw);
      });
    }
    const manifest = JSON.parse(readFileSync(join(outs[0]!, 'manifest.json'), 'utf8'));
    expect(manifest.files.map((f: { path: string }) => f.path)).toEqual(expect.arrayContaining(['sessions.parquet', 'stations.parquet', 'ledger.parquet']));
  }, 60_000);

  it('the scenario hash leaves output.parquet out at its default only', () => {
    const f = join(ROOT, 'scenarios', 'monaco.yaml');
    const plain = scenarioHash(loadScenario(f), ROOT);
    expect(scenarioHash(loadScenario(f, { overrides: ['output.parquet=false'] }), ROOT)).toBe(plain);
    expect(scenarioHash(loadScenario(f, { overrides: ['output.parquet=true'] }), ROOT)).not.toBe(plain);
  });
});
