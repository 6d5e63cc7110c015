/**
 * The `qbft` backend (src/ledger/backends/qbft.ts): quorum arithmetic, fault-free latency against the
 * protocol's timing, round changes with crashed proposers (doubling timeouts), loss of liveness with
 * more than f validators down and recovery, safety (one block per height at every validator),
 * block limit, determinism and the audit.
 *
 * Latency check (fault-free, fixed one-way delay d on a full mesh, negligible message sizes, no
 * CPU costs, no access-link delay): blocks are proposed exactly every P (consensus takes 3d < P).
 * A tx submitted at s reaches the proposer at s + δ (δ = 0 when its gateway is the proposer, else
 * d; gateway = ev mod N is independent of the rotating proposer, so E[δ] = d(N−1)/N), is included in
 * the first block proposed at T ≥ s + δ and is final at the gateway at T + 3d (PRE-PREPARE d,
 * PREPARE quorum d, COMMIT quorum d). With s uniform in time, T − (s + δ) is uniform on [0, P), so
 *   E[latency] = P/2 + 3d + d(N−1)/N,   sd ≈ P/√12.
 * Message sizes are made negligible with a 10^6 Mbit/s
 * bandwidth (a PREPARE then costs 1.6 ns), so exact timings are compared to 1e-6 s. Tolerance of the
 * mean: 4 standard errors of the sample mean (n = 3000 → SE ≈ 5.3 ms, 4 SE ≈ 21 ms), against
 * a signal (P/2 + 3d ≈ 650 ms) far larger; each latency is also checked to lie in [3d, P + 4d].
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createQbftLedger, qbftF, qbftQuorum, QbftParamsSchema, type QbftLedger, type QbftParamsInput } from '../../src/ledger/backends/qbft.js';
import { schedulerOf, type LedgerContext, type LedgerTx, type Settlement } from '../../src/ledger/ledger.js';
import { Network, type NetworkConfig } from '../../src/ledger/network.js';
import { TxCodec } from '../../src/ledger/tx.js';
import { Kernel } from '../../src/core/kernel.js';
import { PRIORITY } from '../../src/core/priorities.js';
import { Streams, type Rng } from '../../src/core/random.js';

const D = 0.05; // one-way delay, s

function net(nodes: number, over: Partial<NetworkConfig> = {}): NetworkConfig {
  return { nodes, latency: { dist: 'fixed', meanMs: D * 1000 }, bandwidthMbps: 1e6, topology: { type: 'full' }, gatewayLatencyMs: 0, ...over };
}

interface Harness {
  kernel: Kernel;
  ledger: QbftLedger;
  settled: Map<number, Settlement>;
  txs: LedgerTx[];
  rng: Rng;
  /** schedule a submission at time t by EV ev */
  submitAt(t: number, ev: number): void;
  run(until: number): void;
}

function harness(seed: number, params: QbftParamsInput, cfg: NetworkConfig, codecOpts: { verifyCostS?: number } = {}): Harness {
  const kernel = new Kernel();
  const streams = new Streams(seed);
  const network = new Network(cfg, streams.stream('network'));
  const codec = new TxCodec({ mode: 'modeled', signCostS: 0, verifyCostS: codecOpts.verifyCostS ?? 0, seed });
  const settled = new Map<number, Settlement>();
  const ctx: LedgerContext = {
    scheduler: schedulerOf(kernel),
    rng: (name) => streams.stream(`ledger/qbft/${name}`),
    network,
    codec,
    settle: (s) => {
      if (settled.has(s.tx.id)) throw new Error(`tx ${s.tx.id} settled twice`);
      if (!(s.at >= kernel.now)) throw new Error(`tx ${s.tx.id} settled in the past`);
      settled.set(s.tx.id, s);
    },
  };
  // the tests were written for a 1 s block period; the backend's default is GoQuorum's 5 s
  const ledger = createQbftLedger(ctx, { blockPeriodS: 1, ...params });
  const txs: LedgerTx[] = [];
  const kSubmit = kernel.register('test-submit', (ev) => {
    const tx: LedgerTx = {
      id: txs.length,
      kind: 'charge',
      sessionId: txs.length,
      ev,
      station: 1,
      energyKWh: 0.1,
      amount: 0,
      powerKW: 6,
      soc: 0.5,
      submittedAt: kernel.now,
    };
    txs.push(tx);
    ledger.submit(tx);
  });
  return {
    kernel,
    ledger,
    settled,
    txs,
    rng: streams.stream('test-load'),
    submitAt: (t, ev) => void kernel.schedule(t, PRIORITY.TRIP, kSubmit, ev),
    run: (until) => void kernel.run(until),
  };
}

/** Uniform submissions: `count` txs at uniform times in [from, to), EVs uniform in 0..999. */
function load(h: Harness, count: number, from: number, to: number): void {
  for (let i = 0; i < count; i++) h.submitAt(h.rng.uniform(from, to), h.rng.int(1000));
}

function intervals(l: QbftLedger): { round: number; dt: number; proposer: number }[] {
  const b = l.blocks;
  return b.slice(1).map((x, k) => ({ round: x.header.round, dt: x.header.timestamp - b[k]!.header.timestamp, proposer: x.header.proposer }));
}

function expectChainsAgree(l: QbftLedger): void {
  const hashes = l.blocks.map((b) => b.hash);
  for (let i = 0; i < l.n; i++) {
    const c = l.committedChain(i);
    expect(c.length).toBeLessThanOrEqual(hashes.length);
    for (let k = 0; k < c.length; k++) if (c[k] !== hashes[k]) throw new Error(`validator ${i} has block ${c[k]} at height ${k + 1}, chain has ${hashes[k]}`);
  }
}

describe('qbft quorum arithmetic', () => {
  it('f = ⌊(N−1)/3⌋ and quorum = ⌈2N/3⌉ for N = 4, 7, 10, 13', () => {
    const cases = [
      [4, 1, 3],
      [7, 2, 5],
      [10, 3, 7],
      [13, 4, 9],
    ] as const;
    for (const [n, f, q] of cases) {
      expect(qbftF(n)).toBe(f);
      expect(qbftQuorum(n)).toBe(q);
      // quorum intersection: two quorums share at least f+1 validators (one honest)
      expect(2 * q - n).toBeGreaterThanOrEqual(f + 1);
      const h = harness(1, {}, net(n));
      expect([h.ledger.n, h.ledger.f, h.ledger.quorum]).toEqual([n, f, q]);
      h.run(5);
      expect(h.ledger.extraMetrics()).toMatchObject({ validators: n, faultTolerance: f, quorum: q, blocks: 5 });
    }
  });

  it('rejects more validators than network nodes and crashed non-validators', () => {
    expect(() => harness(1, { validators: 5 }, net(4))).toThrow(/validators/);
    expect(() => harness(1, { validators: 4, crashed: [{ validator: 4, fromS: 0 }] }, net(6))).toThrow(/not a validator/);
    expect(() => QbftParamsSchema.parse({ crashed: [{ validator: 0, fromS: 5, toS: 5 }] })).toThrow();
    expect(QbftParamsSchema.parse({})).toMatchObject({ blockPeriodS: 5, maxTxPerBlock: 10_000, requestTimeoutS: 10, crashed: [] });
  });
});

describe('qbft fault-free', () => {
  it('mean latency = P/2 + 3d + d(N−1)/N (next block slot + three message delays)', () => {
    for (const [n, P] of [
      [4, 1],
      [7, 2],
    ] as const) {
      const h = harness(7, { blockPeriodS: P }, net(n));
      const count = 3000;
      const horizon = 3000 * P;
      load(h, count, 0, horizon - 10 * P);
      h.run(horizon);
      expect(h.settled.size).toBe(count);
      const lat = h.txs.map((tx) => h.settled.get(tx.id)!.at - tx.submittedAt);
      const mean = lat.reduce((a, b) => a + b, 0) / count;
      const sd = Math.sqrt(lat.reduce((a, b) => a + (b - mean) ** 2, 0) / (count - 1));
      const expected = P / 2 + 3 * D + (D * (n - 1)) / n;
      const se = sd / Math.sqrt(count);
      expect(Math.abs(sd - P / Math.sqrt(12))).toBeLessThan(0.05 * P);
      expect(Math.abs(mean - expected)).toBeLessThan(4 * se);
      for (const x of lat) {
        expect(x).toBeGreaterThanOrEqual(3 * D - 1e-9);
        expect(x).toBeLessThan(P + 4 * D + 1e-9);
      }
      // blocks exactly every P, no round changes, chains agree, audit clean
      const m = h.ledger.extraMetrics();
      expect(m.blocks).toBe(Math.floor(horizon / P));
      expect(m.rounds).toBe(0);
      expect(m.meanBlockIntervalS).toBeCloseTo(P, 6);
      expect(h.ledger.blocks[0]!.committedAt).toBeCloseTo(P + 3 * D, 6);
      expectChainsAgree(h.ledger);
      expect(h.ledger.audit()).toEqual([]);
    }
  });

  it('per-block tx limit: the excess is carried over in submission order', () => {
    const h = harness(3, { maxTxPerBlock: 5 }, net(4));
    for (let i = 0; i < 23; i++) h.submitAt(0.5, i);
    h.run(20);
    const b = h.ledger.blocks;
    expect(b.slice(0, 6).map((x) => x.txs.length)).toEqual([5, 5, 5, 5, 3, 0]);
    expect(b.flatMap((x) => x.txs.map((s) => s.tx.id))).toEqual([...Array(23).keys()]);
    for (const x of b) expect(x.txs.length).toBeLessThanOrEqual(5);
    // the k-th batch settles one block period after the previous one
    for (let i = 0; i < 23; i++) expect(h.settled.get(i)!.at).toBeCloseTo(1 + Math.floor(i / 5) + 3 * D, 6);
    const m = h.ledger.extraMetrics();
    expect(m.emptyBlocks).toBe(m.blocks! - 5);
    expect(m.meanBlockFill).toBeCloseTo(23 / (5 * m.blocks!), 12);
    expect(h.ledger.audit()).toEqual([]);
  });

  it('non-validator gateways learn the block one transfer after the first commit', () => {
    const h = harness(4, { validators: 4 }, net(6));
    h.submitAt(0.2, 5); // gateway node 5: a member, not a validator
    h.submitAt(0.2, 2); // gateway node 2: a validator
    h.run(5);
    expect(h.settled.get(0)!.at).toBeCloseTo(1 + 4 * D, 6);
    expect(h.settled.get(1)!.at).toBeCloseTo(1 + 3 * D, 6);
  });

  it('charges tx validation (txs × verifyCostS) before PREPARE', () => {
    const v = 0.001;
    const h = harness(5, {}, net(4), { verifyCostS: v });
    for (let i = 0; i < 40; i++) h.submitAt(0.5, i);
    h.run(3);
    expect(h.ledger.blocks[0]!.txs.length).toBe(40);
    expect(h.ledger.blocks[0]!.committedAt).toBeCloseTo(1 + 3 * D + 40 * v, 6);
  });
});

describe('qbft with crashed validators', () => {
  it('up to f crashed: blocks continue, a crashed proposer costs one round change (timeout 10 s)', () => {
    const h = harness(11, { crashed: [{ validator: 2, fromS: 0 }] }, net(4));
    load(h, 400, 0, 370); // the worst latency is one round change (~12 s): all final by t = 400
    h.run(400);
    const iv = intervals(h.ledger);
    expect(h.ledger.blocks.every((b) => b.header.proposer !== 2)).toBe(true);
    const changed = iv.filter((x) => x.round > 0);
    expect(changed.length).toBeGreaterThan(5);
    for (const x of iv) {
      if (x.round === 0) expect(x.dt).toBeCloseTo(1, 6);
      else {
        expect(x.round).toBe(1);
        // slot (P) + timeout(0) + one ROUND-CHANGE delay to the round-1 proposer
        expect(x.dt).toBeCloseTo(1 + 10 + D, 6);
      }
    }
    const m = h.ledger.extraMetrics();
    // round changes of the committed blocks, plus the round of the height still open at the horizon
    const committedRounds = h.ledger.blocks.reduce((a, b) => a + b.header.round, 0);
    expect(committedRounds).toBe(changed.length + h.ledger.blocks[0]!.header.round);
    expect(m.rounds! - committedRounds).toBeGreaterThanOrEqual(0);
    expect(m.rounds! - committedRounds).toBeLessThanOrEqual(1);
    expect(m.crashedValidators).toBe(1);
    // every tx is final; the clients of the crashed gateway 2 fail over to node 3 after 5 s
    expect(h.settled.size).toBe(h.txs.length);
    expect(m.pendingTxs).toBe(0);
    for (const tx of h.txs) {
      const lat = h.settled.get(tx.id)!.at - tx.submittedAt;
      if (tx.ev % 4 === 2) expect(lat).toBeGreaterThanOrEqual(5 + 3 * D - 1e-6);
      else expect(lat).toBeLessThan(1 + 10 + 5 * D);
    }
    expectChainsAgree(h.ledger);
    expect(h.ledger.audit()).toEqual([]);
  });

  it('without client fail-over, the txs of a crashed gateway stay pending', () => {
    const h = harness(11, { crashed: [{ validator: 2, fromS: 0 }], gatewayFailoverS: null }, net(4));
    load(h, 400, 0, 370);
    h.run(400);
    for (const tx of h.txs) expect(h.settled.has(tx.id)).toBe(tx.ev % 4 !== 2);
    expect(h.ledger.extraMetrics().pendingTxs).toBe(h.txs.filter((tx) => tx.ev % 4 === 2).length);
  });

  it('a client whose node is down when the block is decided fails over to the next node', () => {
    // tx 0 enters through validator 1, which crashes at 0.9 (before block 1 at t = 1, proposer 1
    // down → round change); the block holding tx 0 is decided at 1 + 10 + 4d (round 1, proposer 2)
    const h = harness(17, { crashed: [{ validator: 1, fromS: 0.9, toS: 100 }] }, net(4));
    h.submitAt(0.5, 1);
    h.run(50);
    const b = h.ledger.blocks.find((x) => x.txs.some((s) => s.tx.id === 0))!;
    expect(b.header).toMatchObject({ height: 1, round: 1, proposer: 2 });
    // node 2 commits at ts + 3d; the client gives up on node 1 after 5 s and asks node 2
    expect(h.settled.get(0)!.at).toBeCloseTo(b.header.timestamp + 3 * D + 5, 6);
  });

  it('two crashed proposers in a row: the second round change waits the doubled timeout', () => {
    const h = harness(12, { crashed: [{ validator: 3, fromS: 0 }, { validator: 4, fromS: 0 }] }, net(7));
    load(h, 300, 0, 600);
    h.run(700);
    const iv = intervals(h.ledger);
    const seen = new Set<string>();
    for (const x of iv) {
      if (x.round === 0) expect(x.dt).toBeCloseTo(1, 6);
      else if (x.round === 1) expect(x.dt).toBeCloseTo(1 + 10 + D, 6); // proposer 4 down → 5
      else {
        expect(x.round).toBe(2); // proposers 3 and 4 down → 5
        expect(x.dt).toBeCloseTo(1 + 10 + 20 + D, 6);
      }
      seen.add(`${x.round}`);
      expect([3, 4]).not.toContain(x.proposer);
    }
    expect([...seen].sort()).toEqual(['0', '1', '2']);
    expectChainsAgree(h.ledger);
    expect(h.ledger.audit()).toEqual([]);
  });

  it('f+1 crashed: no block while they are down; commits resume after recovery (at the next doubled round change)', () => {
    const h = harness(13, { crashed: [{ validator: 1, fromS: 100, toS: 300 }, { validator: 2, fromS: 100, toS: 300 }] }, net(4));
    load(h, 500, 0, 500);
    h.run(700);
    const blocks = h.ledger.blocks;
    for (const b of blocks) expect(b.committedAt < 100 || b.committedAt > 300).toBe(true);
    const before = blocks.filter((b) => b.committedAt < 100);
    const after = blocks.filter((b) => b.committedAt > 300);
    expect(before.length).toBe(99);
    expect(after.length).toBeGreaterThan(200);
    // the live validators' rounds at height 100: timers end at 110, 130, 170, 250, 410 (10·2^r);
    // their ROUND-CHANGE(5) at 410 pulls the recovered ones up (f+1 rule) and the round-5
    // proposer (validator (100+5) mod 4 = 1) has a quorum one message delay later
    expect(after[0]!.header).toMatchObject({ height: 100, round: 5, proposer: 1 });
    expect(after[0]!.header.timestamp).toBeCloseTo(410 + D, 6);
    // every tx settles (those of the outage after the resumption), the backlog in one block
    expect(h.settled.size).toBe(500);
    for (const tx of h.txs) {
      const at = h.settled.get(tx.id)!.at;
      if (tx.submittedAt >= 99 && tx.submittedAt < 410) expect(at).toBeGreaterThan(410);
    }
    expect(h.ledger.extraMetrics().rounds).toBe(5);
    expectChainsAgree(h.ledger);
    expect(h.ledger.audit()).toEqual([]);
  });

  it('a block prepared but not committed is re-proposed with the same txs after the round changes (locking)', () => {
    // height 99, proposer 3, proposal at T = 99: validators 1 and 2 send PREPARE at 99.05 and crash
    // at 99.075, before their COMMIT (99.1): 0 and 3 are prepared (a quorum of PREPAREs) but only
    // two COMMITs exist. 0 and 3 change rounds at 109 (RC 1), 129 (RC 2, proposer 1 down), 169
    // (RC 3). 1 and 2 recover at 130 and restart at round 0; their RC(2) at 160 gives 0 and 3 a
    // quorum for round 2 but not its proposer 1 (it missed their RC(2)); the live ones' RC(3) at
    // 169 pulls 1 and 2 up (f+1 rule) and the round-3 proposer 2 then has a quorum: it proposes
    // the locked transactions at 169 + d.
    const h = harness(16, { crashed: [{ validator: 1, fromS: 99 + 1.5 * D, toS: 130 }, { validator: 2, fromS: 99 + 1.5 * D, toS: 130 }] }, net(4));
    h.submitAt(98.5, 3); // tx 0: gateway 3 = the proposer
    h.submitAt(98.5, 4); // tx 1: gateway 0
    h.submitAt(120, 0); // tx 2: submitted during the stall
    h.submitAt(150, 1); // tx 3: after its gateway recovered
    h.run(200);
    const b99 = h.ledger.blocks[98]!;
    expect(b99.header).toMatchObject({ height: 99, round: 3, proposer: 2 });
    expect(b99.header.timestamp).toBeCloseTo(169 + D, 6);
    expect(b99.txs.map((s) => s.tx.id)).toEqual([0, 1]);
    const b100 = h.ledger.blocks[99]!;
    expect(b100.header).toMatchObject({ height: 100, round: 0 });
    expect(b100.header.timestamp).toBeCloseTo(170 + D, 6);
    expect(b100.txs.map((s) => s.tx.id)).toEqual([2, 3]);
    expect(h.settled.get(0)!.at).toBeCloseTo(169 + 4 * D, 6);
    expectChainsAgree(h.ledger);
    expect(h.ledger.audit()).toEqual([]);
  });

  it('more than f crashed for good: nothing is committed, rounds keep doubling, txs stay pending', () => {
    const h = harness(14, { crashed: [{ validator: 0, fromS: 50 }, { validator: 3, fromS: 50 }] }, net(4));
    load(h, 100, 0, 200);
    h.run(5000);
    const last = h.ledger.blocks[h.ledger.blocks.length - 1]!;
    expect(last.committedAt).toBeLessThan(50);
    const m = h.ledger.extraMetrics();
    // round r ends 10·(2^(r+1) − 1) s after the slot at 50: by t = 5000 the live ones are in round 8
    expect(m.rounds).toBe(8);
    expect(m.pendingTxs).toBe(h.txs.length - h.settled.size);
    expect(h.txs.filter((t) => t.submittedAt > 50).every((t) => !h.settled.has(t.id))).toBe(true);
  });

  it('Besu rotation (after the last proposer) with a crashed validator', () => {
    const h = harness(15, { proposerPolicy: 'after-last-proposer', crashed: [{ validator: 1, fromS: 0 }] }, net(4));
    load(h, 100, 0, 200);
    h.run(220);
    const b = h.ledger.blocks;
    expect(b[0]!.header.proposer).toBe(0);
    for (let k = 1; k < b.length; k++) {
      const prev = b[k - 1]!.header.proposer;
      expect(b[k]!.header.proposer).toBe((prev + 1 + b[k]!.header.round) % 4);
    }
    expect(b.some((x) => x.header.round === 1)).toBe(true);
    expect(h.ledger.audit()).toEqual([]);
  });

  it('safety and liveness under random crash windows (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.constantFrom(4, 5, 7),
        fc.array(fc.record({ v: fc.nat(6), from: fc.double({ min: 0, max: 150, noNaN: true }), len: fc.double({ min: 0.01, max: 80, noNaN: true }) }), { maxLength: 5 }),
        (seed, n, wins) => {
          const crashed = wins.map((w) => ({ validator: w.v % n, fromS: w.from, toS: w.from + w.len }));
          const h = harness(seed, { crashed, requestTimeoutS: 2 }, net(n, { latency: { dist: 'uniform', meanMs: 40, sdMs: 20 } }));
          load(h, 150, 0, 200);
          h.run(800);
          expectChainsAgree(h.ledger);
          expect(h.ledger.audit()).toEqual([]);
          // every window ends by t = 230; a round that started at t <= 230 ends by 2·(2^8 − 1) = 510 s
          // after the first slot at the latest, so every tx is final by the horizon
          expect(h.settled.size).toBe(150);
          const ids = h.ledger.blocks.flatMap((b) => b.txs.map((s) => s.tx.id));
          expect(new Set(ids).size).toBe(ids.length);
          for (let k = 1; k < h.ledger.blocks.length; k++) {
            const b = h.ledger.blocks[k]!;
            expect(b.header.timestamp).toBeGreaterThanOrEqual(h.ledger.blocks[k - 1]!.header.timestamp + 1 - 1e-9);
          }
        },
      ),
      { numRuns: 30, seed: 20260309 },
    );
  });
});

describe('qbft determinism and audit', () => {
  const scenario = (seed: number) => {
    const h = harness(seed, { crashed: [{ validator: 1, fromS: 20, toS: 60 }] }, net(5, { latency: { dist: 'lognormal', meanMs: 40, sdMs: 20 } }));
    load(h, 300, 0, 120);
    h.run(150);
    return h;
  };

  it('same seed → same blocks and settlements; another seed differs', () => {
    const a = scenario(21);
    const b = scenario(21);
    const c = scenario(22);
    const sig = (h: Harness) => JSON.stringify([...h.settled.values()].map((s) => [s.tx.id, s.at]).sort((x, y) => x[0]! - y[0]!));
    expect(a.ledger.blocks.map((x) => x.hash)).toEqual(b.ledger.blocks.map((x) => x.hash));
    expect(sig(a)).toBe(sig(b));
    expect(a.ledger.extraMetrics()).toEqual(b.ledger.extraMetrics());
    expect(sig(a)).not.toBe(sig(c));
  });

  it('audit is clean on an honest run and names the altered block', () => {
    expect(scenario(31).ledger.audit()).toEqual([]);
    const pick = (h: Harness) => {
      const k = h.ledger.blocks.findIndex((b) => b.txs.length >= 2 && b.header.height > 3);
      return { b: h.ledger.blocks[k]!, height: k + 1 };
    };
    {
      // a stored record altered (the energy of a charge record): its signature no longer matches
      const h = scenario(31);
      const { b, height } = pick(h);
      const s = b.txs[1]!;
      b.txs[1] = { ...s, tx: { ...s.tx, energyKWh: s.tx.energyKWh + 1 } };
      expect(h.ledger.audit()).toEqual([`tx ${s.tx.id} (block ${height}): bad signature`]);
    }
    {
      // a record swapped for a validly signed other one: the Merkle root names the block
      const h = scenario(31);
      const { b, height } = pick(h);
      const other = h.ledger.blocks[height]!.txs.length > 0 ? h.ledger.blocks[height]!.txs[0]! : h.ledger.blocks[height - 3]!.txs[0]!;
      b.txs[0] = other;
      const out = h.ledger.audit();
      expect(out).toContain(`block ${height}: merkle root mismatch`);
      expect(out.every((l) => l.includes(`block ${height}`) || l.includes('already in block'))).toBe(true);
    }
    {
      // a header field altered (the Merkle root: the header no longer hashes to the sealed hash)
      const h = scenario(31);
      const { b, height } = pick(h);
      b.header.merkleRoot = 'cd'.repeat(32);
      expect(h.ledger.audit()).toEqual([`block ${height}: header hash mismatch`, `block ${height}: merkle root mismatch`]);
    }
    {
      // the proposer field altered
      const h = scenario(31);
      const { b, height } = pick(h);
      b.header.proposer = (b.header.proposer + 1) % h.ledger.n;
      const out = h.ledger.audit();
      expect(out).toContain(`block ${height}: header hash mismatch`);
      expect(out.every((l) => l.startsWith(`block ${height}:`))).toBe(true);
    }
    {
      // a commit seal altered
      const h = scenario(31);
      const { b, height } = pick(h);
      b.seals[10]! ^= 1; // a byte of the first seal
      expect(h.ledger.audit()).toEqual([`block ${height}: only ${h.ledger.quorum - 1} valid commit seals from distinct validators (quorum ${h.ledger.quorum})`]);
    }
    {
      // a seal duplicated in place of another validator's
      const h = scenario(31);
      const { b, height } = pick(h);
      b.sealers[1] = b.sealers[0]!;
      b.seals.copyWithin(64, 0, 64);
      expect(h.ledger.audit()).toEqual([`block ${height}: only ${h.ledger.quorum - 1} valid commit seals from distinct validators (quorum ${h.ledger.quorum})`]);
    }
    {
      // a block's stored hash replaced: its header and its child's parent link no longer match
      const h = scenario(31);
      const { b, height } = pick(h);
      b.hash = 'ab'.repeat(32);
      const out = h.ledger.audit();
      expect(out).toContain(`block ${height}: header hash mismatch`);
      expect(out).toContain(`block ${height + 1}: parent hash does not match block ${height}`);
    }
  });
});
