/**
 * The Tangle's attacks (params.attack: parasite chain and splitting, with and without the
 * coordinator) and the 'band' start rule of MCMC tip selection under minute-synchronised bursts
 * (src/ledger/backends/tangle.ts). Small loads (seconds of CPU); the grid-100k-scale measurement is
 * bench/ledger-tangle.ts (benchTangleBursts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { loadScenario } from '../../src/scenario/scenario.js';
import { createTangleLedger, type TangleLedger, type TangleParamsInput, V_ATTACK, V_TX } from '../../src/ledger/backends/tangle.js';
import { schedulerOf, type LedgerContext, type LedgerTx, type Settlement } from '../../src/ledger/ledger.js';
import { Network } from '../../src/ledger/network.js';
import { TxCodec } from '../../src/ledger/tx.js';
import { Kernel } from '../../src/core/kernel.js';
import { PRIORITY } from '../../src/core/priorities.js';
import { Streams } from '../../src/core/random.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface Run {
  ledger: TangleLedger;
  settled: Map<number, Settlement>;
  submitted: number;
}

/** Poisson load at `rate` (or bursts of `burst` every 60 s) until `until`, then run to `end`. */
function run(seed: number, params: TangleParamsInput, opts: { rate?: number; burst?: number; until: number; end?: number }): Run {
  const kernel = new Kernel();
  const streams = new Streams(seed);
  const network = new Network({ nodes: 4, latency: { dist: 'fixed', meanMs: 50 }, bandwidthMbps: 1e6, topology: { type: 'full' }, gatewayLatencyMs: 0 }, streams.stream('network'));
  const codec = new TxCodec({ mode: 'modeled', signCostS: 0, verifyCostS: 0, seed });
  const settled = new Map<number, Settlement>();
  const ctx: LedgerContext = { scheduler: schedulerOf(kernel), rng: (n) => streams.stream(`ledger/tangle/${n}`), network, codec, settle: (s) => void settled.set(s.tx.id, s) };
  const ledger = createTangleLedger(ctx, params);
  const load = streams.stream('test-load');
  let id = 0;
  const mk = (): LedgerTx => ({ id: id, kind: 'payment', sessionId: id++, ev: load.int(1000), station: load.int(50), energyKWh: 1, amount: 1, powerKW: 0, soc: NaN, submittedAt: kernel.now });
  const k = kernel.register('test-load', () => {
    if (opts.burst !== undefined) {
      for (let i = 0; i < opts.burst; i++) ledger.submit(mk());
      if (kernel.now + 60 < opts.until) kernel.schedule(kernel.now + 60, PRIORITY.TRIP, k);
    } else {
      ledger.submit(mk());
      const next = kernel.now + load.exp(1 / opts.rate!);
      if (next < opts.until) kernel.schedule(next, PRIORITY.TRIP, k);
    }
  });
  kernel.schedule(opts.burst !== undefined ? 60 : load.exp(1 / opts.rate!), PRIORITY.TRIP, k);
  kernel.run(opts.end ?? opts.until);
  return { ledger, settled, submitted: id };
}

const POW = { difficultyBits: 0, deviceHashRate: 1, dist: 'fixed' } as const; // 1 s per vertex
const noCoord = (attack: TangleParamsInput['attack']): TangleParamsInput => ({ confirmation: 'cumulative-weight', pow: POW, attack });
const coord = (attack: TangleParamsInput['attack']): TangleParamsInput => ({ confirmation: 'milestone', pow: POW, attack });

describe('tangle start rule under minute-synchronised bursts', () => {
  it("'band' confirms nearly every record of 300-record bursts; the old 'weight' rule (16 sites) leaves many unconfirmed", () => {
    const share = (start: 'band' | 'weight') => {
      const r = run(3, { pow: POW, mcmc: { start } }, { burst: 300, until: 3600, end: 3600 });
      let fin = 0;
      // records of the first 40 minutes (a milestone's tip reaches a whole 300-record layer about
      // log2(300) ≈ 8 layers, i.e. minutes, below the tips; the load goes on until 3600 s)
      for (const s of r.settled.values()) if (s.status === 'final' && s.tx.submittedAt <= 2400) fin++;
      return { share: fin / (40 * 300), tips: r.ledger.extraMetrics().meanTips! };
    };
    const band = share('band');
    const weight = share('weight');
    expect(band.share).toBeGreaterThan(0.98);
    expect(weight.share).toBeLessThan(0.8);
    expect(band.tips).toBeLessThan(weight.tips / 3);
  });

  it('keeps the lazy-tips property: lazy txs are approved far less often than fresh ones', () => {
    const r = run(5, { pow: POW, lazyTips: { fraction: 0.05, ageS: 30 } }, { rate: 4, until: 1500 });
    const m = r.ledger.extraMetrics();
    const dag = r.ledger.dag;
    let fresh = 0;
    let freshLeft = 0;
    for (let v = 1; v < dag.count; v++) {
      if (dag.kind[v] !== V_TX || dag.lazy[v] === 1 || dag.issuedAt[v]! > 1500 - 300) continue;
      fresh++;
      if (dag.confirmed[v] === 0) freshLeft++;
    }
    expect(m.lazyTips).toBeGreaterThan(100);
    expect(m.lazyLeftBehind! / m.lazyTips!).toBeGreaterThan(0.5);
    expect(freshLeft / fresh).toBeLessThan(0.02);
    expect(r.ledger.audit()).toEqual([]);
  });
});

describe('tangle attacks', () => {
  const parasite = (share: number) => ({ type: 'parasite' as const, share, atS: 300, releaseAfterS: 60 });

  it('parasite chain without the coordinator: succeeds at q = 0.7, fails at q = 0.1', () => {
    const hi = run(1, noCoord(parasite(0.7)), { rate: 5, until: 900 }).ledger;
    const lo = run(1, noCoord(parasite(0.1)), { rate: 5, until: 900 }).ledger;
    const mh = hi.extraMetrics();
    const ml = lo.extraMetrics();
    expect(mh.attackDecided).toBe(1);
    expect(mh.attackOrphaned).toBe(1);
    expect(mh.attackDecidedAfterS).toBeGreaterThanOrEqual(60); // not before the release
    expect(mh.attackParasiteWeight).toBeGreaterThan(mh.attackHonestWeight!);
    expect(mh.attackHonestAcceptedAfterS).toBeGreaterThan(0); // the merchant had accepted P
    expect(ml.attackDecided).toBe(1);
    expect(ml.attackOrphaned).toBe(0);
    expect(hi.audit()).toEqual([]);
    expect(lo.audit()).toEqual([]);
    // the honest payment P lost: invalid, never confirmed; P' final
    const d = hi.dag;
    const p = hi.conflicts.at(-1)!;
    expect(d.kind[p.original]).toBe(V_ATTACK);
    expect(d.invalid[p.original]).toBe(1);
    expect(d.confirmed[p.original]).toBe(0);
  });

  it('the coordinator prevents the parasite chain even at q = 0.7', () => {
    const l = run(1, coord(parasite(0.7)), { rate: 5, until: 900 }).ledger;
    const m = l.extraMetrics();
    expect(m.attackDecided).toBe(1);
    expect(m.attackDecidedByMilestone).toBe(1);
    expect(m.attackOrphaned).toBe(0);
    expect(m.attackDecidedAfterS).toBeLessThan(60 + 5); // the first milestone after P, before the release
    expect(l.audit()).toEqual([]);
  });

  it('splitting: the attacker keeps the branches balanced longer at a larger share; decided in the end', () => {
    const split = (share: number) => run(2, noCoord({ type: 'splitting', share, atS: 300, decisionMarginWeight: 20 }), { rate: 5, until: 1500 }).ledger.extraMetrics();
    const a = split(0.05);
    const b = split(0.45);
    expect(a.attackDecided).toBe(1);
    expect(b.attackVertices!).toBeGreaterThan(a.attackVertices!);
    expect(b.attackDecidedAfterS!).toBeGreaterThan(a.attackDecidedAfterS!);
  });

  it('is deterministic per seed', () => {
    const a = run(9, noCoord({ type: 'splitting', share: 0.3, atS: 200 }), { rate: 5, until: 700 });
    const b = run(9, noCoord({ type: 'splitting', share: 0.3, atS: 200 }), { rate: 5, until: 700 });
    expect(a.ledger.extraMetrics()).toEqual(b.ledger.extraMetrics());
    expect(Buffer.from(a.ledger.dag.bundles.subarray(0, a.ledger.dag.count * 32)).equals(Buffer.from(b.ledger.dag.bundles.subarray(0, b.ledger.dag.count * 32)))).toBe(true);
  });

  it('audit names a tampered attack vertex', () => {
    const l = run(1, noCoord(parasite(0.7)), { rate: 5, until: 600 }).ledger;
    const d = l.dag;
    const v = l.conflicts.at(-1)!.twin;
    d.bodies[v * 58 + 20]! ^= 1;
    expect(l.audit().some((s) => s.startsWith(`attack tx `) && s.includes('txid mismatch'))).toBe(true);
  });
});

describe('tangle attack and start-rule fields: validation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'evsim-tangle-attacks-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const scenario = (params: string) => {
    const f = join(dir, `s${Math.abs(params.length * 31 + params.charCodeAt(3))}.yaml`);
    writeFileSync(f, `name: t\nseed: 1\nduration: 1h\ncity: { type: none }\ndemand: { type: load, arrival: { process: poisson, ratePerS: 1 }, kinds: { charge: 1 } }\nledger:\n  stacks:\n    - name: a\n      records: { backend: tangle, params: ${params} }\n      payments: { backend: central }\n`);
    return f;
  };
  const lines = (f: string): string[] => {
    try {
      loadScenario(f);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      expect(e.exitCode).toBe(2);
      for (const l of e.lines) expect(l).not.toContain('\n');
      return e.lines;
    }
    throw new Error('accepted');
  };
  it('the shipped attack scenarios validate', () => {
    for (const f of ['tangle-parasite.yaml', 'tangle-splitting.yaml']) expect(() => loadScenario(join(ROOT, 'scenarios', 'faults', f))).not.toThrow();
  });
  it.each([
    ['{ attack: { type: parasite, share: 0.99 } }', 'attack.share'],
    ['{ attack: { type: sybil } }', 'attack.type'],
    ['{ attack: { type: parasite, releaseAfterS: -1 } }', 'attack.releaseAfterS'],
    ['{ mcmc: { start: band, startBand: 0 } }', 'mcmc.startBand'],
    ['{ mcmc: { start: tips } }', 'mcmc.start'],
    ['{ attack: { type: splitting, node: 99 } }', 'attack.node'],
  ])('%s: one line naming %s, exit 2', (params, field) => {
    const l = lines(scenario(params));
    expect(l.length).toBe(1);
    expect(l[0]).toContain(field);
    expect(l[0]).toContain('.yaml');
  });
});
