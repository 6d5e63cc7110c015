/**
 * The backend registry and the ledger contract: one list of backends (names, descriptions,
 * capabilities), stacks that name registered backends, a channel backend over any chain-capable
 * backend (lightning on the Tangle, flash on QBFT), validation of the chain name, the narrow
 * scheduler (no run/stop, read-only clock) and chain-own message counters.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Kernel } from '../../src/core/kernel.js';
import { PRIORITY } from '../../src/core/priorities.js';
import { Streams } from '../../src/core/random.js';
import { UserError } from '../../src/core/errors.js';
import { LedgerPort, schedulerOf, type Settlement } from '../../src/ledger/ledger.js';
import { Network } from '../../src/ledger/network.js';
import { BACKEND_LIST, BACKENDS, CHAIN_NAMES, createBackend, listBackends, type BackendName } from '../../src/ledger/registry.js';
import { SHIPPED_STACKS, listStacks } from '../../src/ledger/stacks.js';
import { TxCodec } from '../../src/ledger/tx.js';
import { loadScenario } from '../../src/scenario/scenario.js';

const NET = { nodes: 8, latency: { dist: 'fixed' as const, meanMs: 20 }, bandwidthMbps: 25, topology: { type: 'full' as const }, gatewayLatencyMs: 10 };

describe('backend registry', () => {
  it('lists every backend once, with a description and consistent capabilities', () => {
    const names = BACKEND_LIST.map((b) => b.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(['none', 'central', 'pow', 'qbft', 'tangle', 'lightning', 'flash']));
    for (const b of BACKEND_LIST) {
      expect(b.description.length, b.name).toBeGreaterThan(10);
      expect(b.capabilities.chain !== b.capabilities.channel, b.name).toBe(true);
      expect(BACKENDS[b.name]).toBe(b);
    }
    expect(CHAIN_NAMES).toEqual(BACKEND_LIST.filter((b) => b.capabilities.chain).map((b) => b.name));
    expect(listBackends().map((b) => b.name)).toEqual(names);
    expect(listBackends().find((b) => b.name === 'flash')!.capabilities).toEqual(['channel']);
  });

  it('every shipped stack names registered backends and has a description', () => {
    for (const s of SHIPPED_STACKS) {
      expect(BACKENDS[s.records.backend], s.name).toBeDefined();
      expect(BACKENDS[s.payments.backend], s.name).toBeDefined();
    }
    expect(listStacks().every((s) => s.description.length > 10)).toBe(true);
  });

  it('a channel backend accepts any chain backend and rejects channel backends and unknown names', () => {
    for (const chan of ['lightning', 'flash'] as const) {
      for (const chain of CHAIN_NAMES) expect(BACKENDS[chan].params.safeParse({ chain: { backend: chain } }).success, `${chan} on ${chain}`).toBe(true);
      for (const bad of ['lightning', 'flash', 'nope']) {
        const r = BACKENDS[chan].params.safeParse({ chain: { backend: bad } });
        expect(r.success).toBe(false);
        expect(r.error!.issues[0]!.path).toEqual(['chain', 'backend']);
      }
      // the chain's parameters are validated by the chain's own schema
      const r = BACKENDS[chan].params.safeParse({ chain: { backend: 'qbft', params: { blockPeriodS: -1 } } });
      expect(r.success).toBe(false);
      expect(r.error!.issues[0]!.path).toEqual(['chain', 'params', 'blockPeriodS']);
    }
  });

  it('a scenario naming a channel backend as a chain fails with one line listing the allowed chains', () => {
    const dir = mkdtempSync(join(tmpdir(), 'evsim-registry-'));
    const f = join(dir, 'bad.yaml');
    writeFileSync(f, 'ledger:\n  stacks: [qbft-lightning]\n  backends:\n    lightning:\n      chain: { backend: flash }\n');
    let lines: string[] = [];
    try {
      loadScenario(f);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      lines = e.lines;
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(f);
    expect(lines[0]).toContain('ledger.backends.lightning.chain.backend');
    for (const n of CHAIN_NAMES) expect(lines[0]).toContain(n);
  });
});

/** A channel backend over `chain`: 6 sessions of 4 per-minute payments + a closing one, run to 4 h. */
function runChannel(backend: BackendName, chain: string, chainParams: Record<string, unknown> = {}) {
  const kernel = new Kernel();
  const streams = new Streams(7);
  const network = new Network(NET, streams.stream('net'));
  const settled: Settlement[] = [];
  const port = new LedgerPort(kernel, {
    role: 'payments',
    instance: backend,
    streams,
    network,
    codec: TxCodec.fromConfig({}, 7),
    create: (ctx) => createBackend(backend, ctx, { chain: { backend: chain, params: chainParams } }),
    onSettled: (s) => settled.push(s),
  });
  for (let s = 0; s < 6; s++) {
    const ev = 100 + s;
    const station = s % 3;
    for (let m = 0; m < 4; m++) kernel.at(60 + 300 * s + 60 * m, PRIORITY.TICK, () => void port.submit('payment', s, ev, station, 0.5, 0.2, 11, 0.5));
    kernel.at(60 + 300 * s + 240, PRIORITY.TICK, () => void port.submit('payment', s, ev, station, 0, 0, 0, NaN, true));
  }
  kernel.run(4 * 3600);
  port.ledger.finish?.();
  return { port, settled, network, summary: port.summary(4 * 3600) };
}

describe('channel backends on any chain', () => {
  it('lightning runs on the Tangle: every payment final, audit clean, the chain carries the channels', () => {
    const r = runChannel('lightning', 'tangle');
    expect(r.summary.submitted).toBe(30);
    expect(r.summary.confirmed).toBe(30);
    expect(r.port.ledger.audit()).toEqual([]);
    const x = r.summary.extra;
    expect(x.channelsOpened).toBeGreaterThan(0);
    expect(x.onChainTxs).toBeGreaterThan(0);
    // on-chain bytes at the chain's own size: a Tangle vertex (tx + 2 parents + bundle + nonce + timestamp)
    expect(x.onChainBytes).toBe(x.onChainTxs! * (154 + 2 * 32 + 32 + 8 + 8));
    // the chain's own messages: more than zero, fewer than the network's total (which has the HTLCs too)
    expect(x.chainMessages).toBeGreaterThan(0);
    expect(x.chainMessages!).toBeLessThan(r.network.stats.messages);
  });

  it('flash runs on QBFT: every payment final, audit clean, closes submitted = closes final', () => {
    const r = runChannel('flash', 'qbft', { blockPeriodS: 2 });
    expect(r.summary.submitted).toBe(30);
    expect(r.summary.confirmed).toBe(30);
    expect(r.port.ledger.audit()).toEqual([]);
    const x = r.summary.extra;
    expect(x.closesSubmitted).toBe(6);
    expect(x.closesFinal).toBe(6);
    expect(x.chainBlocks).toBeGreaterThan(0);
    // flash's own channel messages plus the chain's own add up to the shared network's total
    expect(x.messages! + x.chainMessages!).toBe(r.network.stats.messages);
  });
});

describe('scoped network views', () => {
  it('count their own messages and still add to the totals; uncounted() counts nothing', () => {
    const net = new Network(NET, new Streams(1).stream('n'));
    const view = net.scoped();
    net.transferS(0, 1, 100);
    view.transferS(1, 2, 50);
    view.gatewayS(10);
    view.broadcast(0, 20);
    expect(view.stats).toEqual({ messages: 2 + net.overlayEdges, bytes: 60 + 20 * net.overlayEdges });
    expect(net.stats).toEqual({ messages: 3 + net.overlayEdges, bytes: 160 + 20 * net.overlayEdges });
    expect(view.transferS(1, 2, 50)).toBe(net.transferS(1, 2, 50));
    const before = { ...net.stats };
    view.uncounted(() => view.broadcast(3, 99));
    expect(net.stats.messages).toBe(before.messages);
  });
});

describe('the narrow scheduler', () => {
  it('offers now / schedule / cancel / register only: no run, no stop, no clock setter', () => {
    const kernel = new Kernel();
    const s = schedulerOf(kernel);
    // @ts-expect-error a backend cannot run the kernel
    expect(s.run).toBeUndefined();
    // @ts-expect-error a backend cannot stop the kernel
    expect(s.stop).toBeUndefined();
    expect(() => {
      // @ts-expect-error the clock is read-only
      s.now = 5;
    }).toThrow(TypeError);
    expect(Object.isFrozen(s)).toBe(true);
    expect(Object.keys(s)).toEqual([]);
    const seen: number[] = [];
    const k = s.register('t', (a) => seen.push(a));
    s.schedule(2, PRIORITY.LEDGER, k, 2);
    const h = s.schedule(1, PRIORITY.LEDGER, k, 1);
    expect(s.cancel(h)).toBe(true);
    kernel.run();
    expect(seen).toEqual([2]);
    expect(s.now).toBe(2);
  });
});
