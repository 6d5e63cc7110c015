/**
 * Mobile chargers (vans) as agents, billed on the lightweight chain of src/ledger/lightchain.ts
 * (scenario block `mobile`, docs/mobile.md).
 *
 * Requests. An EV that needs to charge (fleet.ts: it entered `calculating`) requests a van with
 * probability mobile.share (stream "mobile", one draw per such EV); otherwise it goes the
 * station way (decisions.ts), untouched. A requesting EV waits where it is (home or activity
 * place) in `calculating`. Its request is for (fleet.targetSoc − soc) × capacity.
 *
 * Dispatch (src/charging/dispatch.ts, mobile.dispatch). Candidates are the vans that, after what
 * they still have to do, keep at least mobile.reserveKWh after driving to the EV and giving it
 * min(request, what is left) ≥ min(minServiceKWh, request). A request no van takes waits in a FIFO;
 * whenever a van becomes free the waiting requests are dispatched again, oldest first. A request
 * still unassigned after mobile.maxWait is abandoned (the EV drives on, `calculating → driving`).
 *
 * A van's life: idle → driving (shortest travel time on the road graph, src/city/paths.ts; its
 * battery pays length × consumptionKWhPerKm) → serving (constant power min(powerKW, the EV's DC
 * maximum, or AC when it has no DC): an approximation without the taper of the EV's curve) → next
 * queued job, or, below rechargeBelow × battery, to its depot to recharge at depotPowerKW (a
 * constant-power approximation), or idle where it is. The EV goes `calculating → go → charging`
 * when the van arrives and drives on (`charging → driving`) when it is done.
 *
 * Billing on the chain (lightchain.ts). At t = 0 every van runs the registration sequence
 * (Register/RegisterAck with the provider; a member's CheckAuth/CheckAuthAck between provider and
 * parent and Authorize/AuthorizeAck with its parent). Every profileInterval (PRIORITY.LEDGER) each
 * van cuts the charge profiles of the interval (one per session and interval; the last one of a
 * session is flagged final and carries the metered remainder, so a session's profiles sum to the
 * metered energy), signs them and sends them to its parent and to the provider, which forwards
 * them to every other group's parent. Every blockInterval each parent builds its group's block
 * from the profiles it has received; the provider forwards it to the other parents (validators)
 * and sends each member of the group the header and its Merkle paths; votes and complaints come
 * back and the provider decides when the last arrives. Every message's delivery time is
 * latency + bytes / bandwidth on the mobile network (src/ledger/network.ts, nodes: provider 0,
 * van v = v + 1); validators also spend the codec's verify cost per signature.
 *
 * Randomness: stream "mobile" (who requests a van), stream "mobile-network" (link latencies).
 */
import type { Kernel } from '../core/kernel.js';
import { PRIORITY } from '../core/priorities.js';
import type { Streams, Rng } from '../core/random.js';
import { EvState } from '../charging/ev.js';
import { DISPATCH_POLICIES, type DispatchCandidates, type DispatchPolicy } from '../charging/dispatch.js';
import { nearestNode, PathFinder } from '../city/paths.js';
import { LightChain, MESSAGE_BYTES, SIGNED_HEADER_BYTES, SIGNED_PROFILE_BYTES, LIST_ENTRY_BYTES, type Block, type SignedProfile } from '../ledger/lightchain.js';
import { Network } from '../ledger/network.js';
import { TxCodec } from '../ledger/tx.js';
import { percentile } from '../ledger/ledger.js';
import type { Scenario } from '../scenario/scenario.js';
import type { Fleet } from './fleet.js';
import type { City } from './world.js';

type MobileConfig = NonNullable<Scenario['mobile']>;

const V_IDLE = 0;
const V_DRIVING = 1;
const V_SERVING = 2;
const V_TO_DEPOT = 3;
const V_RECHARGING = 4;

interface Job {
  id: number;
  ev: number;
  node: number;
  requestedAt: number;
  requestKWh: number;
  van: number;
  plannedKWh: number;
  arrivalAt: number;
  startAt: number;
  endAt: number;
  powerKW: number;
  /** energy already cut into (non-final) profiles */
  profiledKWh: number;
  status: 'waiting' | 'assigned' | 'serving' | 'served' | 'abandoned';
  abandon: number;
}

interface StorageSample {
  day: number;
  sessionsServed: number;
  sessionsBilled: number;
  parentMeanBytes: number;
  parentMaxBytes: number;
  spvMeanBytes: number;
  spvMaxBytes: number;
  providerLiveBytes: number;
  providerArchiveBytes: number;
}

export interface MobileSummary {
  vans: number;
  groups: number;
  dispatch: string;
  compactBytes: number | 'none';
  requests: number;
  served: number;
  abandoned: number;
  waitingAtHorizon: number;
  meanResponseSeconds: number;
  p95ResponseSeconds: number;
  meanServiceSeconds: number;
  energyKWh: number;
  vanUtilizationPct: number;
  vanKm: number;
  /** point-to-point path queries (src/city/paths.ts) and how many the cache answered */
  pathQueries: number;
  pathCacheHits: number;
  depotRecharges: number;
  depotKWh: number;
  chain: {
    blocks: number;
    rejectedBlocks: number;
    validations: number;
    invalidVotes: number;
    memberComplaints: number;
    tamperedBlocks: number;
    compactions: number;
    profiles: number;
    meanBillingDelaySeconds: number;
    messages: Record<string, { count: number; bytes: number }>;
  };
  storage: {
    parentMeanBytes: number;
    parentMaxBytes: number;
    spvMeanBytes: number;
    spvMaxBytes: number;
    providerLiveBytes: number;
    providerArchiveBytes: number;
    byDay: StorageSample[];
  };
  spv: { verifications: number; failures: number; hashOpsPerVerification: number; bytesPerVerification: number };
  billing: { sessionsBilled: number; billedKWh: number; meteredKWh: number; pendingAtHorizon: number; problems: number };
  disputes: { checked: number; proven: number; compactedChecked: number; compactedProven: number };
  auditProblems: number;
  /** the first few audit problem lines (all counted above) */
  auditLines: string[];
}

export class MobileChargers {
  readonly cfg: MobileConfig;
  readonly chain: LightChain;
  readonly paths: PathFinder;
  private readonly policy: DispatchPolicy;
  private readonly rng: Rng;
  private readonly net: Network;
  private readonly V: number;
  // van state
  private readonly state: Uint8Array;
  private readonly node: Int32Array;
  private readonly depot: Int32Array;
  private readonly battery: Float64Array;
  private readonly readyAt: Float64Array;
  private readonly readyNode: Int32Array;
  private readonly readyBattery: Float64Array;
  private readonly queue: number[][];
  private readonly current: Int32Array;
  private readonly cutFrom: Float64Array;
  private readonly busyS: Float64Array;
  private readonly unsent: SignedProfileDraft[][];
  readonly jobs: Job[] = [];
  private waiting: number[] = [];
  private readonly cand: DispatchCandidates;
  private readonly askVan: Int32Array;
  private readonly askNode: Int32Array;
  private readonly askTime: Float64Array;
  private readonly askLen: Float64Array;
  private readonly kArrive: number;
  private readonly kEnd: number;
  private readonly kDepot: number;
  private readonly kRecharged: number;
  private readonly kAbandon: number;
  private vanKm = 0;
  private depotRecharges = 0;
  private depotKWh = 0;
  private profiles = 0;
  private readonly byDay: StorageSample[] = [];
  private tamperDone = false;

  constructor(
    private readonly kernel: Kernel,
    private readonly sc: Scenario,
    city: City,
    private readonly fleet: Fleet,
    streams: Streams,
  ) {
    const cfg = (this.cfg = sc.mobile!);
    const g = city.graph;
    if (!g) throw new Error('mobile chargers need a road graph');
    this.paths = new PathFinder(g);
    this.policy = DISPATCH_POLICIES[cfg.dispatch]!;
    this.rng = streams.stream('mobile');
    const V = (this.V = cfg.vans);
    this.net = new Network(
      { nodes: V + 1, latency: { dist: 'lognormal', meanMs: cfg.network.latencyMeanMs, sdMs: cfg.network.latencySdMs }, bandwidthMbps: cfg.network.bandwidthMbps, topology: { type: 'full' }, gatewayLatencyMs: 0 },
      streams.stream('mobile-network'),
    );
    this.chain = new LightChain({ vans: V, groupSize: cfg.groupSize, codec: TxCodec.fromConfig(sc.ledger.codec, sc.seed), compactBytes: cfg.compactBytes === 'none' ? null : cfg.compactBytes });
    this.state = new Uint8Array(V);
    this.node = new Int32Array(V);
    this.depot = new Int32Array(V);
    this.battery = new Float64Array(V).fill(cfg.batteryKWh);
    this.readyAt = new Float64Array(V);
    this.readyNode = new Int32Array(V);
    this.readyBattery = new Float64Array(V).fill(cfg.batteryKWh);
    this.queue = Array.from({ length: V }, () => []);
    this.current = new Int32Array(V).fill(-1);
    this.cutFrom = new Float64Array(V);
    this.busyS = new Float64Array(V);
    this.unsent = Array.from({ length: V }, () => []);
    const depots = cfg.depots
      ? cfg.depots.map((d) => nearestNode(g, d.lat, d.lon))
      : city.stations.length
        ? city.stations.map((s) => s.node)
        : [0];
    for (let v = 0; v < V; v++) {
      this.depot[v] = depots[v % depots.length]!;
      this.node[v] = this.depot[v]!;
      this.readyNode[v] = this.depot[v]!;
    }
    this.askVan = new Int32Array(V);
    this.askNode = new Int32Array(V);
    this.askTime = new Float64Array(V);
    this.askLen = new Float64Array(V);
    this.cand = { count: 0, van: new Int32Array(V), idle: new Uint8Array(V), readyAt: new Float64Array(V), travelS: new Float64Array(V) };
    this.kArrive = kernel.register('van-arrive', (v) => this.onArrive(v));
    this.kEnd = kernel.register('van-service-end', (v) => this.onServiceEnd(v));
    this.kDepot = kernel.register('van-at-depot', (v) => this.onDepot(v));
    this.kRecharged = kernel.register('van-recharged', (v) => this.onRecharged(v));
    this.kAbandon = kernel.register('van-request-abandon', (j) => this.onAbandon(j));
    this.register();
    const I = cfg.profileInterval;
    for (let t = I; t <= sc.duration; t += I) kernel.at(t, PRIORITY.LEDGER, () => this.profileTick());
    const B = cfg.blockInterval;
    for (let t = B; t <= sc.duration; t += B) kernel.at(t, PRIORITY.LEDGER, () => this.blockTick());
    for (let t = 86400; t <= sc.duration; t += 86400) kernel.at(t, PRIORITY.TICK, () => this.sample(t));
  }

  // ---- network ----

  private send(from: number, to: number, bytes: number, type: Parameters<LightChain['count']>[0]): number {
    this.chain.count(type, bytes);
    return from === to ? 0 : this.net.transferS(from, to, bytes);
  }

  private netNode(van: number): number {
    return van + 1;
  }

  /** The registration sequence of every van at t = 0 (paper Fig. 3/4). */
  private register(): void {
    const c = this.chain;
    for (let v = 0; v < this.V; v++) {
      const me = this.netNode(v);
      const parent = this.netNode(c.parentOf(v));
      let t = this.send(me, 0, MESSAGE_BYTES.Register, 'Register');
      if (!c.isParent(v)) {
        t += this.send(0, parent, MESSAGE_BYTES.CheckAuth, 'CheckAuth');
        t += this.send(parent, 0, MESSAGE_BYTES.CheckAuthAck, 'CheckAuthAck');
      }
      t += this.send(0, me, MESSAGE_BYTES.RegisterAck, 'RegisterAck');
      if (!c.isParent(v)) {
        t += this.send(me, parent, MESSAGE_BYTES.Authorize, 'Authorize');
        t += this.send(parent, me, MESSAGE_BYTES.AuthorizeAck, 'AuthorizeAck');
      }
      this.kernel.at(t, PRIORITY.LEDGER, () => c.authorize(v));
    }
  }

  // ---- requests and dispatch ----

  /** Called for an EV that entered `calculating`: true when it requests a van (and is handled here). */
  request(ev: number): boolean {
    if (!(this.rng.next() < this.cfg.share)) return false;
    const f = this.fleet;
    const m = f.model(ev);
    const need = Math.max(0, (this.sc.fleet.targetSoc - f.soc[ev]!) * m.capacityKWh);
    const now = this.kernel.now;
    const job: Job = {
      id: this.jobs.length, ev, node: f.nodeOf(f.locKind[ev]!, f.locIdx[ev]!, ev), requestedAt: now, requestKWh: need, van: -1, plannedKWh: 0,
      arrivalAt: NaN, startAt: NaN, endAt: NaN, powerKW: Math.min(this.cfg.powerKW, m.dcMaxKW > 0 ? m.dcMaxKW : m.acMaxKW), profiledKWh: 0, status: 'waiting', abandon: -1,
    };
    this.jobs.push(job);
    if (!this.dispatch(job)) {
      this.waiting.push(job.id);
      if (this.cfg.maxWait > 0 && now + this.cfg.maxWait <= this.sc.duration) job.abandon = this.kernel.schedule(now + this.cfg.maxWait, PRIORITY.GIVE_UP, this.kAbandon, job.id);
    }
    return true;
  }

  private travelKWh(lengthM: number): number {
    return (lengthM / 1000) * this.cfg.consumptionKWhPerKm;
  }

  private isIdle(v: number): boolean {
    return this.state[v] === V_IDLE && this.queue[v]!.length === 0;
  }

  /** Try to assign a van to the job; true when assigned. */
  private dispatch(job: Job): boolean {
    const c = this.cand;
    const cfg = this.cfg;
    const now = this.kernel.now;
    c.count = 0;
    const planned: number[] = [];
    // every van that may be a candidate, its travel to the EV in one search (paths.manyTo)
    let k = 0;
    for (let v = 0; v < this.V; v++) {
      if (this.policy.idleOnly && !this.isIdle(v)) continue;
      this.askVan[k] = v;
      this.askNode[k++] = this.readyNode[v]!;
    }
    if (k === 0) return false;
    this.paths.manyTo(this.askNode.subarray(0, k), job.node, this.askTime, this.askLen);
    for (let q = 0; q < k; q++) {
      const v = this.askVan[q]!;
      const idle = this.isIdle(v);
      const r = { timeS: this.askTime[q]!, lengthM: this.askLen[q]! };
      if (!Number.isFinite(r.timeS)) continue;
      const give = Math.min(job.requestKWh, this.readyBattery[v]! - this.travelKWh(r.lengthM) - cfg.reserveKWh);
      if (!(give > 0) || give < Math.min(cfg.minServiceKWh, job.requestKWh)) continue;
      const i = c.count++;
      c.van[i] = v;
      c.idle[i] = idle ? 1 : 0;
      c.readyAt[i] = idle ? now : this.readyAt[v]!;
      c.travelS[i] = r.timeS;
      planned[i] = give;
      this.askLen[i] = r.lengthM; // i <= q: entry q is no longer needed
    }
    if (c.count === 0) return false;
    const i = this.policy.choose(c, now);
    if (i < 0) return false;
    if (!(i < c.count) || (i | 0) !== i) throw new Error(`dispatch "${this.policy.name}" chose candidate ${i} of ${c.count}`);
    const v = c.van[i]!;
    const r = { timeS: c.travelS[i]!, lengthM: this.askLen[i]! };
    job.van = v;
    job.plannedKWh = planned[i]!;
    job.status = 'assigned';
    if (job.abandon >= 0) this.kernel.cancel(job.abandon);
    this.readyAt[v] = Math.max(now, c.readyAt[i]!) + r.timeS + (3600 * job.plannedKWh) / job.powerKW;
    this.readyBattery[v] = this.readyBattery[v]! - this.travelKWh(r.lengthM) - job.plannedKWh;
    this.readyNode[v] = job.node;
    this.queue[v]!.push(job.id);
    if (this.state[v] === V_IDLE) this.startNext(v);
    return true;
  }

  private onAbandon(j: number): void {
    const job = this.jobs[j]!;
    if (job.status !== 'waiting') return;
    job.status = 'abandoned';
    this.waiting = this.waiting.filter((x) => x !== j);
    this.fleet.driveToDestination(job.ev);
  }

  private serveWaiting(): void {
    if (this.waiting.length === 0) return;
    const still: number[] = [];
    for (const j of this.waiting) if (!this.dispatch(this.jobs[j]!)) still.push(j);
    this.waiting = still;
  }

  // ---- the van's life ----

  private drive(v: number, to: number): number {
    const r = this.paths.query(this.node[v]!, to);
    this.battery[v] = this.battery[v]! - this.travelKWh(r.lengthM);
    this.vanKm += r.lengthM / 1000;
    this.busyS[v]! += r.timeS;
    return r.timeS;
  }

  private startNext(v: number): void {
    const now = this.kernel.now;
    const q = this.queue[v]!;
    if (q.length > 0) {
      const job = this.jobs[q.shift()!]!;
      this.current[v] = job.id;
      this.state[v] = V_DRIVING;
      const t = this.drive(v, job.node);
      this.node[v] = job.node;
      this.kernel.schedule(now + t, PRIORITY.ARRIVAL, this.kArrive, v);
      return;
    }
    this.current[v] = -1;
    if (this.battery[v]! < this.cfg.rechargeBelow * this.cfg.batteryKWh) {
      this.state[v] = V_TO_DEPOT;
      const t = this.drive(v, this.depot[v]!);
      this.node[v] = this.depot[v]!;
      const full = now + t + (3600 * (this.cfg.batteryKWh - this.battery[v]!)) / this.cfg.depotPowerKW;
      this.readyAt[v] = full;
      this.readyNode[v] = this.depot[v]!;
      this.readyBattery[v] = this.cfg.batteryKWh;
      this.kernel.schedule(now + t, PRIORITY.ARRIVAL, this.kDepot, v);
      if (!this.policy.idleOnly) this.serveWaiting();
      return;
    }
    this.state[v] = V_IDLE;
    this.readyAt[v] = now;
    this.readyNode[v] = this.node[v]!;
    this.readyBattery[v] = this.battery[v]!;
    this.serveWaiting();
  }

  private onArrive(v: number): void {
    const now = this.kernel.now;
    const job = this.jobs[this.current[v]!]!;
    job.arrivalAt = now;
    job.startAt = now;
    job.status = 'serving';
    this.state[v] = V_SERVING;
    this.cutFrom[v] = now;
    this.fleet.setState(job.ev, EvState.go);
    this.fleet.setState(job.ev, EvState.charging);
    const dur = (3600 * job.plannedKWh) / job.powerKW;
    this.busyS[v]! += dur;
    this.kernel.schedule(now + dur, PRIORITY.DEPARTURE, this.kEnd, v);
  }

  private onServiceEnd(v: number): void {
    const now = this.kernel.now;
    const job = this.jobs[this.current[v]!]!;
    job.endAt = now;
    job.status = 'served';
    this.battery[v] = this.battery[v]! - job.plannedKWh;
    const f = this.fleet;
    const m = f.model(job.ev);
    f.soc[job.ev] = Math.min(1, f.soc[job.ev]! + job.plannedKWh / m.capacityKWh);
    this.unsent[v]!.push({ job: job.id, start: this.cutFrom[v]!, end: now, energyKWh: job.plannedKWh - job.profiledKWh, final: true });
    f.driveToDestination(job.ev);
    this.startNext(v);
  }

  private onDepot(v: number): void {
    this.state[v] = V_RECHARGING;
    const dur = (3600 * (this.cfg.batteryKWh - this.battery[v]!)) / this.cfg.depotPowerKW;
    this.kernel.schedule(this.kernel.now + dur, PRIORITY.ARRIVAL, this.kRecharged, v);
  }

  private onRecharged(v: number): void {
    this.depotRecharges++;
    this.depotKWh += this.cfg.batteryKWh - this.battery[v]!;
    this.battery[v] = this.cfg.batteryKWh;
    this.state[v] = V_IDLE;
    this.startNext(v);
  }

  // ---- the chain ----

  private profileTick(): void {
    const now = this.kernel.now;
    const c = this.chain;
    for (let v = 0; v < this.V; v++) {
      if (this.state[v] === V_SERVING) {
        const job = this.jobs[this.current[v]!]!;
        if (now > this.cutFrom[v]!) {
          const e = Math.min(job.plannedKWh, (job.powerKW * (now - job.startAt)) / 3600) - job.profiledKWh;
          this.unsent[v]!.push({ job: job.id, start: this.cutFrom[v]!, end: now, energyKWh: e, final: false });
          job.profiledKWh += e;
          this.cutFrom[v] = now;
        }
      }
      if (!c.authorized[v] || this.unsent[v]!.length === 0) continue;
      const me = this.netNode(v);
      const parentVan = c.parentOf(v);
      const parent = this.netNode(parentVan);
      const group = c.groups[c.groupOf[v]!]!;
      for (const d of this.unsent[v]!) {
        const job = this.jobs[d.job]!;
        const sp = c.signProfile(v, { sessionId: d.job, ev: job.ev, start: d.start, end: d.end, maxPowerKW: job.powerKW, energyKWh: d.energyKWh, final: d.final });
        this.profiles++;
        const toParent = this.send(me, parent, MESSAGE_BYTES.ChargeProfile, 'ChargeProfile');
        const toProvider = this.send(me, 0, MESSAGE_BYTES.ChargeProfile, 'ChargeProfile');
        c.providerReceive(sp, now + toProvider);
        for (const o of c.groups) if (o.id !== group.id) this.send(0, this.netNode(o.members[0]!), MESSAGE_BYTES.ChargeProfile, 'ForwardProfile');
        this.kernel.at(now + toParent, PRIORITY.LEDGER, () => group.pending.push(sp));
      }
      this.unsent[v] = [];
    }
  }

  private blockTick(): void {
    const now = this.kernel.now;
    const c = this.chain;
    const tamper = this.cfg.faults?.tamper;
    const codec = c.codec;
    for (const g of c.groups) {
      const doTamper = tamper !== undefined && !this.tamperDone && tamper.group === g.id && g.built + 1 === tamper.atBlock;
      const block = c.buildBlock(g.id, now, doTamper);
      if (!block) continue;
      if (doTamper) this.tamperDone = true;
      const parent = this.netNode(g.members[0]!);
      const tp = now + this.send(parent, 0, block.bytes, 'Block');
      let decideAt = tp;
      const validatorTimes: { t: number; forwardS: number }[] = [];
      for (const o of c.groups) {
        if (o.id === g.id) continue;
        const w = this.netNode(o.members[0]!);
        const tv = tp + this.send(0, w, block.bytes, 'Block') + (block.profiles.length + 1) * codec.verifyCostS;
        validatorTimes.push({ t: tv, forwardS: this.net.transferS(0, w, MESSAGE_BYTES.ChargeProfile) });
        decideAt = Math.max(decideAt, tv + this.send(w, 0, MESSAGE_BYTES.Validation, 'Validation'));
      }
      const withProfiles = new Set(block.profiles.map((p) => p.profile.idTag));
      for (const m of g.members.slice(1)) {
        if (!withProfiles.has(m)) continue;
        const mine = block.profiles.filter((p) => p.profile.idTag === m).length;
        const depth = Math.ceil(Math.log2(Math.max(1, block.profiles.length)));
        const out = this.send(0, this.netNode(m), SIGNED_HEADER_BYTES + mine * (5 + 32 * depth), 'HeaderPaths');
        decideAt = Math.max(decideAt, tp + out + this.send(this.netNode(m), 0, MESSAGE_BYTES.Validation, 'Validation'));
      }
      this.kernel.at(decideAt, PRIORITY.LEDGER, () => this.decide(g.id, block, validatorTimes));
    }
  }

  private decide(group: number, block: Block, validators: { t: number; forwardS: number }[]): void {
    const c = this.chain;
    const now = this.kernel.now;
    const votes = validators.map((x) => c.validate(block, x.t, x.forwardS));
    const complaints = c.spvCheck(block);
    const g = c.groups[group]!;
    const compactionsBefore = g.compactions;
    const ok = c.decide(group, votes, complaints, now);
    const parent = this.netNode(g.members[0]!);
    this.send(0, parent, MESSAGE_BYTES.Decision, 'Decision');
    if (ok) for (const m of g.members.slice(1)) this.send(0, this.netNode(m), SIGNED_HEADER_BYTES, 'HeaderPaths');
    if (g.compactions > compactionsBefore) {
      const list = g.chain[0]!;
      this.send(0, parent, list.bytes, 'ChargeList');
      const depth = Math.ceil(Math.log2(Math.max(1, list.entries.length)));
      for (const m of g.members.slice(1)) this.send(0, this.netNode(m), SIGNED_HEADER_BYTES + LIST_ENTRY_BYTES + 5 + 32 * depth, 'ChargeList');
    }
  }

  private served(): number {
    let n = 0;
    for (const j of this.jobs) if (j.status === 'served') n++;
    return n;
  }

  private sample(t: number): void {
    const s = this.chain.storage();
    const mean = (a: number[]) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : 0);
    this.byDay.push({
      day: Math.round(t / 86400),
      sessionsServed: this.served(),
      sessionsBilled: [...this.chain.billed.values()].filter((b) => b.finals > 0).length,
      parentMeanBytes: Math.round(mean(s.parent)),
      parentMaxBytes: Math.max(0, ...s.parent),
      spvMeanBytes: Math.round(mean(s.spv)),
      spvMaxBytes: Math.max(0, ...s.spv),
      providerLiveBytes: s.providerLive,
      providerArchiveBytes: s.providerArchive,
    });
  }

  // ---- the summary and its audits ----

  summary(horizon: number): MobileSummary {
    const c = this.chain;
    const jobs = this.jobs;
    const served = jobs.filter((j) => j.status === 'served');
    const responses = jobs.filter((j) => Number.isFinite(j.arrivalAt)).map((j) => j.arrivalAt - j.requestedAt);
    const mean = (a: number[]) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : 0);
    const lines: string[] = [];
    // billing: every served session billed exactly once, its billed energy = its metered energy
    const lag = 2 * (this.cfg.profileInterval + this.cfg.blockInterval);
    let pending = 0;
    let billedKWh = 0;
    let meteredKWh = 0;
    let sessionsBilled = 0;
    const delays: number[] = [];
    for (const j of served) {
      meteredKWh += j.plannedKWh;
      const b = c.billed.get(j.id);
      if (!b || b.finals === 0) {
        if (j.endAt >= horizon - lag) pending++;
        else lines.push(`mobile session ${j.id}: served at ${j.endAt} s, never billed`);
        continue;
      }
      if (b.finals !== 1) lines.push(`mobile session ${j.id}: billed ${b.finals} times`);
      if (Math.abs(b.energyKWh - j.plannedKWh) > 1e-9) lines.push(`mobile session ${j.id}: billed ${b.energyKWh} kWh, metered ${j.plannedKWh} kWh`);
      sessionsBilled++;
      billedKWh += b.energyKWh;
      delays.push(b.billedAt - j.endAt);
    }
    for (const [id, b] of c.billed) {
      const j = jobs[id];
      if (!j) lines.push(`mobile billing: session ${id} billed but never requested`);
      else if (b.finals > 0 && j.status !== 'served') lines.push(`mobile session ${id}: billed final but not served (${j.status})`);
    }
    const billingProblems = lines.length;
    // integrity of the stored chains and archives
    lines.push(...c.audit());
    // disputes: a deterministic sample of billed sessions, proven from what their group's members hold
    let checked = 0;
    let proven = 0;
    let cChecked = 0;
    let cProven = 0;
    const billedIds = served.filter((j) => (c.billed.get(j.id)?.finals ?? 0) > 0).map((j) => j.id);
    const stride = Math.max(1, Math.ceil(billedIds.length / 400));
    for (let i = 0; i < billedIds.length; i += stride) {
      const id = billedIds[i]!;
      const proof = c.disputeProof(id);
      if (!proof) continue;
      const group = c.groupOf[this.jobs[id]!.van]!;
      const res = c.verifyDispute(proof, c.heldHeaders(group), c.chargeList(group));
      const compacted = proof.items.some((x) => x.archived);
      checked++;
      if (compacted) cChecked++;
      if (res && res.final && Math.abs(res.energyKWh - this.jobs[id]!.plannedKWh) <= 1e-9) {
        proven++;
        if (compacted) cProven++;
      } else lines.push(`mobile session ${id}: dispute proof does not verify`);
    }
    const s = c.storage();
    const messages: Record<string, { count: number; bytes: number }> = {};
    for (const [k, m] of [...c.messages.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) messages[k] = { count: m.count, bytes: m.bytes };
    let busy = 0;
    for (let v = 0; v < this.V; v++) busy += this.busyS[v]!;
    return {
      vans: this.V,
      groups: c.groups.length,
      dispatch: this.policy.name,
      compactBytes: this.cfg.compactBytes,
      requests: jobs.length,
      served: served.length,
      abandoned: jobs.filter((j) => j.status === 'abandoned').length,
      waitingAtHorizon: jobs.filter((j) => j.status === 'waiting' || j.status === 'assigned' || j.status === 'serving').length,
      meanResponseSeconds: mean(responses),
      p95ResponseSeconds: responses.length ? percentile(responses.slice().sort((a, b) => a - b), 95) : 0,
      meanServiceSeconds: mean(served.map((j) => j.endAt - j.startAt)),
      energyKWh: meteredKWh,
      vanUtilizationPct: (100 * Math.min(busy, this.V * horizon)) / (this.V * horizon),
      vanKm: this.vanKm,
      pathQueries: this.paths.stats.queries,
      pathCacheHits: this.paths.stats.cacheHits,
      depotRecharges: this.depotRecharges,
      depotKWh: this.depotKWh,
      chain: {
        blocks: c.accepted,
        rejectedBlocks: c.rejected,
        validations: c.validations,
        invalidVotes: c.invalidVotes,
        memberComplaints: c.memberComplaints,
        tamperedBlocks: c.tampered,
        compactions: c.groups.reduce((a, g) => a + g.compactions, 0),
        profiles: this.profiles,
        meanBillingDelaySeconds: mean(delays),
        messages,
      },
      storage: {
        parentMeanBytes: Math.round(mean(s.parent)),
        parentMaxBytes: Math.max(0, ...s.parent),
        spvMeanBytes: Math.round(mean(s.spv)),
        spvMaxBytes: Math.max(0, ...s.spv),
        providerLiveBytes: s.providerLive,
        providerArchiveBytes: s.providerArchive,
        byDay: this.byDay,
      },
      spv: {
        verifications: c.spv.verifications,
        failures: c.spv.failures,
        hashOpsPerVerification: c.spv.verifications ? c.spv.hashOps / c.spv.verifications : 0,
        bytesPerVerification: c.spv.verifications ? c.spv.bytes / c.spv.verifications : 0,
      },
      billing: { sessionsBilled, billedKWh, meteredKWh, pendingAtHorizon: pending, problems: billingProblems },
      disputes: { checked, proven, compactedChecked: cChecked, compactedProven: cProven },
      auditProblems: lines.length,
      auditLines: lines.slice(0, 20),
    };
  }
}

interface SignedProfileDraft {
  job: number;
  start: number;
  end: number;
  energyKWh: number;
  final: boolean;
}

export type { SignedProfile };
export const MOBILE_PROFILE_BYTES = SIGNED_PROFILE_BYTES;
