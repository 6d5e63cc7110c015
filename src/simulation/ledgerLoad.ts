/**
 * A ledger-only run (scenario `demand.type: load`, `city.type: none`): one stack's ports driven by
 * the load generator of src/ledger/load.ts, no city. Produces a SimResult the output writer writes
 * as usual: sessions.csv empty (header only), no stations.csv, ledger.csv and blocks.csv full,
 * summary.json with the city figures at zero and a `load` section (what was offered).
 *
 * Same construction of the ports as a city run (instance names, network and codec streams), so a
 * backend sees the same kind of context; only the source of transactions differs.
 */
import { readFileSync } from 'node:fs';
import { Kernel } from '../core/kernel.js';
import { Streams } from '../core/random.js';
import { UserError } from '../core/errors.js';
import { LedgerPort } from '../ledger/ledger.js';
import { LoadGenerator, TraceError, parseTrace, type LoadParams } from '../ledger/load.js';
import { Network } from '../ledger/network.js';
import { createBackend } from '../ledger/registry.js';
import { TxCodec, type TxKind } from '../ledger/tx.js';
import { resolveScenarioPath, type ResolvedStack, type Scenario } from '../scenario/scenario.js';
import type { SimOptions, SimResult, Summary } from './simulation.js';

/** What summary.json reports of the offered load (beyond the ledger figures). */
export interface LoadSummary {
  arrival: LoadParams['arrival'];
  offered: number;
  offeredByKind: Record<TxKind, number>;
  /** offered transactions per simulated second over [startS, horizon] */
  offeredTps: number;
}

export class LedgerLoadRun {
  readonly kernel = new Kernel(4096);
  readonly streams: Streams;
  readonly stack: ResolvedStack;
  readonly records: LedgerPort;
  readonly payments: LedgerPort;
  private readonly codec: TxCodec;
  private readonly load: LoadGenerator;
  private readonly params: LoadParams;
  private readonly horizon: number;

  constructor(
    private readonly sc: Scenario,
    stack?: ResolvedStack,
  ) {
    const d = sc.demand;
    if (d.type !== 'load') throw new RangeError(`ledger load run: demand.type is ${d.type}, not load`);
    this.params = d;
    this.stack = stack ?? sc.stacks[0]!;
    this.streams = new Streams(sc.seed);
    this.horizon = sc.duration;
    const codec = (this.codec = TxCodec.fromConfig(sc.ledger.codec, sc.seed));
    const port = (role: string, instance: string, ref: ResolvedStack['records']) =>
      new LedgerPort(this.kernel, {
        role,
        instance,
        streams: this.streams,
        network: new Network(this.stack.network, this.streams.stream(`ledger/${instance}/network`)),
        codec,
        create: (ctx) => createBackend(ref.backend, ctx, ref.params),
        onSettled: () => undefined,
      });
    if (this.stack.shared) {
      this.records = port('records+payments', this.stack.records.backend, this.stack.records);
      this.payments = this.records;
    } else {
      this.records = port('records', `records-${this.stack.records.backend}`, this.stack.records);
      this.payments = port('payments', `payments-${this.stack.payments.backend}`, this.stack.payments);
    }
    let trace: Float64Array | null = null;
    if (d.arrival.process === 'trace') {
      const path = resolveScenarioPath(sc, d.arrival.file);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (e) {
        throw new UserError([`${sc.file}: demand.arrival.file: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`]);
      }
      try {
        trace = parseTrace(text, d.arrival.column, path);
      } catch (e) {
        if (e instanceof TraceError) throw new UserError([e.message]);
        throw e;
      }
    }
    this.load = new LoadGenerator(this.kernel, this.streams, { records: this.records, payments: this.payments }, d, this.horizon, trace);
  }

  ledgerPorts(): LedgerPort[] {
    return this.stack.shared ? [this.records] : [this.records, this.payments];
  }

  run(opts: SimOptions = {}): SimResult {
    const chunks = opts.onProgress ? (opts.progressChunks ?? 200) : 1;
    for (let c = 1; c <= chunks; c++) {
      this.kernel.run(c === chunks ? this.horizon : (this.horizon * c) / chunks);
      opts.onProgress?.(this.kernel.now, this.horizon, this.kernel.executed);
    }
    return this.finishRun();
  }

  /** As Simulation.runAsync: the event loop gets a turn between chunks (Ctrl-C in the CLI). */
  async runAsync(opts: SimOptions = {}): Promise<SimResult> {
    const chunks = opts.progressChunks ?? 200;
    for (let c = 1; c <= chunks; c++) {
      this.kernel.run(c === chunks ? this.horizon : (this.horizon * c) / chunks);
      opts.onProgress?.(this.kernel.now, this.horizon, this.kernel.executed);
      if (c < chunks) await new Promise<void>((r) => setImmediate(r));
    }
    return this.finishRun();
  }

  private finishRun(): SimResult {
    for (const p of this.ledgerPorts()) p.ledger.finish?.();
    return {
      summary: this.summarize(),
      sessions: [],
      stationDefs: [],
      evModelName: () => '',
      samples: null,
      log: null,
      ledgerPorts: this.sc.output.ledgerCsv ? this.ledgerPorts() : null,
    };
  }

  private summarize(): Summary & { load: LoadSummary } {
    const ports = this.ledgerPorts();
    const audit: string[] = [];
    for (const p of ports) for (const line of p.ledger.audit()) audit.push(`${p.role} (${p.ledger.backend}): ${line}`);
    const span = this.horizon - this.params.startS;
    return {
      scenario: this.sc.name,
      seed: this.sc.seed,
      simulatedSeconds: this.horizon,
      events: this.kernel.executed,
      city: { type: 'none' },
      fleet: { size: 0, trips: 0, stranded: 0, noStationReachable: 0 },
      sessions: { count: 0, completed: 0, abandoned: 0, incomplete: 0, meanWaitSeconds: 0, p95WaitSeconds: 0, meanTravelToStationSeconds: 0, energyRequestedKWh: 0, energyDeliveredKWh: 0, demandMetPct: 100 },
      stations: { count: 0, chargers: 0, utilizationPct: 0, peakKW: 0, energyKWh: 0 },
      policy: { stationChoice: this.sc.policy.stationChoice, allocation: this.sc.policy.allocation },
      ledger: {
        stack: this.stack.name,
        coupling: { ...this.sc.ledger.coupling },
        meanAuthorizationDelaySeconds: 0,
        meanPaymentHoldSeconds: 0,
        failedStarts: 0,
        startTimeouts: 0,
        failedPayments: 0,
        paymentTimeouts: 0,
        auditProblems: audit.length,
        audit: audit.slice(0, 20),
        backends: ports.map((p) => p.summary(this.horizon)),
      },
      load: {
        arrival: this.params.arrival,
        offered: this.load.submitted,
        offeredByKind: { ...this.load.byKind },
        offeredTps: span > 0 ? this.load.submitted / span : 0,
      },
    };
  }

  /** Wall-clock compute of the ledger backends (timing.json only). */
  ledgerWallClock(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const p of this.ledgerPorts()) {
      out[p.role] = { backend: p.ledger.backend, wallSeconds: p.wallMs / 1000, microsecondsPerTx: p.submitted ? (p.wallMs * 1000) / p.submitted : 0 };
    }
    out.codec = this.codec.wallClockStats();
    return out;
  }
}
