/**
 * The ledger-only load generator and the per-transaction / per-block outputs:
 *   - arrival processes (constant, Poisson, bursts, trace), kind mix, maxTx, determinism;
 *   - fidelity: the central server under Poisson load agrees with queueing theory (M/M/1 and
 *     M/D/1 mean sojourn times), QBFT throughput follows the offered load and saturates at its
 *     block capacity (maxTxPerBlock / blockPeriodS);
 *   - ledger.csv rows carry the real encoded sizes and full-precision times; blocks.csv rows.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { LEDGER_CSV_COLUMNS, BLOCKS_CSV_COLUMNS } from '../../src/output/ledgerFiles.js';
import { writeResults } from '../../src/output/output.js';
import { loadScenario } from '../../src/scenario/scenario.js';
import { LedgerLoadRun } from '../../src/simulation/ledgerLoad.js';
import { SIGNED_TX_BYTES } from '../../src/ledger/tx.js';
import type { LedgerRow } from '../../src/ledger/ledger.js';

const SCEN = join(import.meta.dirname, '..', '..', 'scenarios', 'ledger-load');
const tmp = mkdtempSync(join(tmpdir(), 'evsim-load-test-'));

let nScenario = 0;
function scenario(yaml: string) {
  const f = join(tmp, `s${nScenario++}.yaml`);
  writeFileSync(f, yaml);
  return loadScenario(f);
}

function rows(run: LedgerLoadRun): LedgerRow[] {
  const out: LedgerRow[] = [];
  for (const p of run.ledgerPorts()) p.forEachTx((r) => out.push({ ...r }));
  return out;
}

function meanFinalLatency(run: LedgerLoadRun): number {
  let s = 0;
  let n = 0;
  for (const p of run.ledgerPorts()) {
    p.forEachTx((r) => {
      if (r.status === 'final') {
        s += r.settledAt - r.submittedAt;
        n++;
      }
    });
  }
  return s / n;
}

const BASE = `city: { type: none }
duration: 100
ledger: { stacks: [none] }
`;

describe('arrival processes', () => {
  it('constant: t_i = startS + i / rate, up to the horizon', () => {
    const run = new LedgerLoadRun(scenario(`${BASE}demand: { type: load, startS: 10, arrival: { process: constant, ratePerS: 4 } }\n`));
    run.run();
    const t = rows(run).map((r) => r.submittedAt);
    expect(t.length).toBe(4 * 90 + 1);
    t.forEach((x, i) => expect(x).toBe(10 + i / 4));
  });

  it('poisson: the count is within 4 standard deviations of rate × time; same seed, same times', () => {
    const yaml = `${BASE}demand: { type: load, arrival: { process: poisson, ratePerS: 50 } }\n`;
    const a = new LedgerLoadRun(scenario(yaml));
    a.run();
    const n = a.records.submitted;
    expect(Math.abs(n - 5000)).toBeLessThan(4 * Math.sqrt(5000));
    const b = new LedgerLoadRun(scenario(yaml));
    b.run();
    expect(rows(b).map((r) => r.submittedAt)).toEqual(rows(a).map((r) => r.submittedAt));
    const c = new LedgerLoadRun(scenario(`seed: 2\n${yaml}`));
    c.run();
    expect(rows(c).map((r) => r.submittedAt)).not.toEqual(rows(a).map((r) => r.submittedAt));
  });

  it('bursts: `size` submissions per period, each within [start, start + jitter)', () => {
    const run = new LedgerLoadRun(scenario(`${BASE}demand: { type: load, arrival: { process: bursts, size: 7, periodS: 30, jitterS: 2 } }\n`));
    run.run();
    const t = rows(run).map((r) => r.submittedAt);
    expect(t.length).toBe(7 * 4); // bursts at 0, 30, 60, 90
    for (const x of t) expect(x % 30).toBeLessThan(2);
    expect(new Set(t.map((x) => Math.floor(x / 30))).size).toBe(4);
  });

  it('trace: the submit times of the file, sorted; a bad file is one line naming it', () => {
    const trace = join(tmp, 'trace.csv');
    writeFileSync(trace, 'id,submitted_s\n1,5.5\n2,1.25\n3,99\n4,150\n');
    const run = new LedgerLoadRun(scenario(`${BASE}demand: { type: load, arrival: { process: trace, file: ${trace} } }\n`));
    run.run();
    expect(rows(run).map((r) => r.submittedAt)).toEqual([1.25, 5.5, 99]);
    writeFileSync(trace, 'id,submitted_s\n1,soon\n');
    let lines: string[] = [];
    try {
      new LedgerLoadRun(scenario(`${BASE}demand: { type: load, arrival: { process: trace, file: ${trace} } }\n`));
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      lines = e.lines;
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(trace);
    expect(lines[0]).toContain('line 2');
  });

  it('kind mix and maxTx: weights are respected, payments go to the payments port', () => {
    const run = new LedgerLoadRun(
      scenario(`city: { type: none }
duration: 1000
ledger: { stacks: [{ name: split, records: { backend: none }, payments: { backend: central } }] }
demand: { type: load, maxTx: 4000, arrival: { process: constant, ratePerS: 10 }, kinds: { charge: 3, payment: 1 } }
`),
    );
    run.run();
    expect(run.records.submitted + run.payments.submitted).toBe(4000);
    // 1000 payments expected; binomial sd ≈ 27
    expect(Math.abs(run.payments.submitted - 1000)).toBeLessThan(4 * 27.4);
    expect(rows(run).every((r) => (r.kind === 'payment') === (r.amount > 0))).toBe(true);
  });
});

describe('fidelity under controlled load', () => {
  // M/M/1: mean sojourn 1/(μ − λ); μ = 100 tx/s, network and signing costs ~0 (see the scenarios)
  it.each([
    ['central-rho-0.5.yaml', 50, 0.02],
    ['central-rho-0.9.yaml', 90, 0.1],
  ])('central under Poisson load agrees with M/M/1 within 3 %% (%s)', (file, lambda, theory) => {
    const run = new LedgerLoadRun(loadScenario(join(SCEN, file)));
    const r = run.run();
    expect(r.summary.ledger.backends[0]!.failed).toBe(0);
    expect(r.summary.ledger.backends[0]!.submitted).toBeGreaterThan(lambda * 7200 * 0.98);
    expect(Math.abs(meanFinalLatency(run) / theory - 1)).toBeLessThan(0.03);
  });

  it('central with deterministic service agrees with M/D/1 within 3 %', () => {
    // W = 1/μ + ρ / (2μ(1 − ρ)) = 0.01 + 0.005 at ρ = 0.5
    const run = new LedgerLoadRun(loadScenario(join(SCEN, 'central-rho-0.5.yaml'), { overrides: ['ledger.backends.central.serviceTime=deterministic', 'duration=3600'] }));
    run.run();
    expect(Math.abs(meanFinalLatency(run) / 0.015 - 1)).toBeLessThan(0.03);
  });

  it('qbft throughput follows the offered load, then saturates at maxTxPerBlock / blockPeriodS = 50 tx/s', () => {
    const at = (rate: number) => {
      const run = new LedgerLoadRun(loadScenario(join(SCEN, 'qbft-rates.yaml'), { overrides: [`demand.arrival.ratePerS=${rate}`, 'duration=600'] }));
      return run.run().summary.ledger.backends[0]!;
    };
    const low = at(25);
    expect(Math.abs(low.committedTps / 25 - 1)).toBeLessThan(0.02);
    const high = at(100);
    expect(Math.abs(high.committedTps / 50 - 1)).toBeLessThan(0.02);
    expect(high.extra.meanTxPerBlock!).toBeGreaterThan(49);
    expect(high.pending).toBeGreaterThan(0.4 * high.submitted); // the excess waits
  });
});

describe('ledger.csv and blocks.csv', () => {
  it('ledger.csv: documented columns, full-precision times, real encoded sizes (Tangle vertices, channel states)', () => {
    const run = new LedgerLoadRun(
      scenario(`city: { type: none }
duration: 900
ledger: { stacks: [tangle-flash] }
demand: { type: load, sessionLength: 3, arrival: { process: poisson, ratePerS: 0.5 }, kinds: { charge: 1, payment: 1 } }
`),
    );
    const r = run.run();
    const dir = join(tmp, 'out-tangle');
    const files = writeResults(dir, r, () => ({}));
    expect(files).toContain('blocks.csv');
    const lines = readFileSync(join(dir, 'ledger.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe(LEDGER_CSV_COLUMNS.join(','));
    const col = (name: string) => LEDGER_CSV_COLUMNS.indexOf(name as (typeof LEDGER_CSV_COLUMNS)[number]);
    const all = rows(run);
    const byKey = new Map(all.map((x) => [`${x.kind}/${x.id}`, x]));
    let tangleFinal = 0;
    for (const line of lines.slice(1)) {
      const c = line.split(',');
      const x = byKey.get(`${c[col('kind')]}/${c[col('tx_id')]}`)!;
      expect(Number(c[col('submitted_s')])).toBe(x.submittedAt); // round-trips exactly
      if (x.status !== 'pending') expect(Number(c[col('final_s')])).toBe(x.settledAt);
      if (c[col('backend')] === 'tangle' && c[col('status')] === 'final') {
        tangleFinal++;
        expect(Number(c[col('bytes')])).toBeGreaterThan(SIGNED_TX_BYTES); // a vertex: tx + parents + nonce
      }
      if (c[col('backend')] === 'flash' && c[col('status')] === 'final' && Number(c[col('amount')]) > 0) expect(Number(c[col('bytes')])).toBe(126);
    }
    expect(tangleFinal).toBeGreaterThan(50);
    const blocks = readFileSync(join(dir, 'blocks.csv'), 'utf8').trim().split('\n');
    expect(blocks[0]).toBe(BLOCKS_CSV_COLUMNS.join(','));
    // 15 milestones on the records Tangle and 15 on flash's own Tangle
    expect(blocks.length - 1).toBe(30);
    expect(blocks.slice(1).every((l) => l.split(',')[3] === 'milestone' && l.endsWith(',canonical'))).toBe(true);
  });

  it('blocks.csv for Nakamoto proof of work marks stale blocks and canonical intervals', () => {
    const run = new LedgerLoadRun(
      scenario(`city: { type: none }
duration: 6h
ledger:
  stacks: [nakamoto]
  network: { nodes: 20, latency: { dist: fixed, meanMs: 3000 } }
  backends: { pow: { blockIntervalS: 30 } }
demand: { type: load, arrival: { process: constant, ratePerS: 0.2 } }
`),
    );
    const r = run.run();
    const log = run.records.ledger.blockLog!()!;
    const extra = r.summary.ledger.backends[0]!.extra;
    expect(log.rows.length).toBe(extra.blocks);
    expect(log.rows.filter((b) => !b.canonical).length).toBe(extra.staleBlocks);
    expect(extra.staleBlocks!).toBeGreaterThan(0);
    const canon = log.rows.filter((b) => b.canonical);
    expect(canon.map((b) => b.height)).toEqual(canon.map((_, i) => i + 1));
  });
});
