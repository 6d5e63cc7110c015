/**
 * The functional entities of roaming (paper 003, §2.1): consumer identification numbers (CIN),
 * the roaming gateway/router (R-GW/R) that routes a charging request by CIN prefix, the utilities'
 * AAA nodes with their visiting-consumer profile database (VCPD, a cache with expiry), the
 * charging-rules-and-policy database (CRP: the visited utility's price for each home utility's
 * customers), and the latency/bytes model of the messages between them.
 *
 * CIN: the home utility's `cinPrefix` (digits, prefix-free among the utilities) followed by the EV
 * number as 9 digits. The router resolves a CIN to its home AAA node by the prefix that starts it.
 *
 * Latency model (documented approximation; the figures in the comments are the paper's, §2.2):
 *   one message over a leg = one-way latency + bytes·8 / bandwidth + processing at the receiver
 *   - station ↔ its utility's R-GW/R: `accessMs` (default 50 ms, "latency in 4G is 50 ms");
 *   - between two entity sites (a utility's AAA node and R-GW/R sit at its area's site, the hub at
 *     the clearing house): fibre distance × `fiberUsPerKm` (default 5 µs/km, "optical fibres …
 *     around 5 µs per kilometre") + `linkMs` (a fixed per-hop routing/switching term, default 1 ms);
 *   - processing at an AAA node, the R-GW/R or the hub: `processingMs` (default 2 ms) per message.
 *   No queueing or loss: messages do not delay each other.
 *
 * Message sizes (bytes, assumptions in the range of RADIUS/Diameter requests and answers,
 * RFC 2865 / RFC 6733; the paper gives none): MESSAGE_BYTES below.
 */
import type { AreaDef } from './areas.js';
import { areaSite, distanceKm } from './areas.js';

export type RoamingMode = 'consortium' | 'clearing-house' | 'none';

export interface UtilityDef {
  id: string;
  cinPrefix: string;
  area: AreaDef;
  /** what the utility bills its own customers per kWh at its own stations (p_i) */
  pricePerKWh: number;
  /** what it bills its own customers per kWh charged at another utility's station (c_i; default: pricePerKWh) */
  roamingPricePerKWh?: number | undefined;
}

export interface ContractDef {
  visited: string;
  home: string;
  /** the visited utility's price per kWh for the home utility's customers (the transit price t) */
  pricePerKWh: number;
  /** load-dependent term: price × (1 + loadFactor × occupancy of the visited utility's chargers) */
  loadFactor: number;
}

export interface RoamingNetConfig {
  accessMs: number;
  fiberUsPerKm: number;
  linkMs: number;
  processingMs: number;
  bandwidthMbps: number;
}

/** The message kinds and their sizes in bytes (assumptions, see the header). */
export const MESSAGE_BYTES = {
  /** station → R-GW/R → AAA: CIN, station id, requested energy */
  'auth-request': 220,
  /** AAA → R-GW/R → station: authorised, price */
  'auth-answer': 180,
  /** home AAA → visited AAA: authorisation and service description (the profile stored in VCPD) */
  'profile': 640,
  /** home AAA → visited AAA: delete the visiting profile (the EV left the visited area) */
  'profile-delete': 120,
  /** visited AAA → hub (clearing house): an invoice */
  'invoice': 300,
  /** hub → utility: a settlement notice (credit or debit) */
  'settlement-notice': 200,
} as const;
export type MessageKind = keyof typeof MESSAGE_BYTES;
export const MESSAGE_KINDS = Object.keys(MESSAGE_BYTES) as MessageKind[];

/** Entities that send messages: counters are kept per entity kind. */
export const ENTITIES = ['station', 'gateway', 'aaa', 'hub'] as const;
export type Entity = (typeof ENTITIES)[number];

export function formatCin(prefix: string, ev: number): string {
  return prefix + String(ev).padStart(9, '0');
}

/** The R-GW/R's routing table: CIN → home utility index (by prefix), -1 when no prefix matches. */
export class CinRouter {
  constructor(private readonly prefixes: readonly string[]) {}
  route(cin: string): number {
    for (let u = 0; u < this.prefixes.length; u++) if (cin.startsWith(this.prefixes[u]!)) return u;
    return -1;
  }
  /** the EV number of a CIN (the part after its prefix) */
  subscriber(cin: string, u: number): number {
    return Number(cin.slice(this.prefixes[u]!.length));
  }
}

/** Message latency between entity sites, and message/byte counters per entity and kind. */
export class RoamingNetwork {
  readonly sent: Record<Entity, number> = { station: 0, gateway: 0, aaa: 0, hub: 0 };
  readonly bytes: Record<Entity, number> = { station: 0, gateway: 0, aaa: 0, hub: 0 };
  readonly byKind: Record<MessageKind, number> = Object.fromEntries(MESSAGE_KINDS.map((k) => [k, 0])) as Record<MessageKind, number>;
  /** one-way site-to-site latency in seconds, [a * sites + b]; the last site is the hub */
  private readonly siteS: Float64Array;
  private readonly sites: number;

  constructor(
    readonly cfg: RoamingNetConfig,
    areas: readonly AreaDef[],
    hub: readonly [number, number] | null,
  ) {
    const pts = areas.map(areaSite);
    pts.push(hub ? [hub[0], hub[1]] : pts[0]!);
    const n = pts.length;
    this.sites = n;
    this.siteS = new Float64Array(n * n);
    for (let a = 0; a < n; a++)
      for (let b = 0; b < n; b++) {
        const km = distanceKm(pts[a]![0], pts[a]![1], pts[b]![0], pts[b]![1]);
        this.siteS[a * n + b] = a === b ? 0 : (km * cfg.fiberUsPerKm) / 1e6 + cfg.linkMs / 1000;
      }
  }

  /** the hub's site index */
  get hub(): number {
    return this.sites - 1;
  }

  private serial(kind: MessageKind): number {
    return (MESSAGE_BYTES[kind] * 8) / (this.cfg.bandwidthMbps * 1e6);
  }

  private count(from: Entity, kind: MessageKind): void {
    this.sent[from]++;
    this.bytes[from] += MESSAGE_BYTES[kind];
    this.byKind[kind]++;
  }

  /** station → its gateway (or back: gateway → station): access link, then processing */
  access(from: 'station' | 'gateway', kind: MessageKind): number {
    this.count(from, kind);
    return this.cfg.accessMs / 1000 + this.serial(kind) + this.cfg.processingMs / 1000;
  }

  /** between two entity sites (utility indices, or `hub`) */
  hop(from: Entity, a: number, b: number, kind: MessageKind): number {
    this.count(from, kind);
    return this.siteS[a * this.sites + b]! + this.serial(kind) + this.cfg.processingMs / 1000;
  }
}

/**
 * A utility's AAA node: authenticates its own customers against its home profile database (HCPD:
 * every EV whose CIN carries its prefix), and keeps the profiles of visiting customers in its VCPD
 * (EV → time the entry expires; Infinity without a TTL). Entries are dropped when they expire or
 * when the EV is seen in another area (`forget`).
 */
export class AaaNode {
  private readonly vcpd = new Map<number, number>();
  stored = 0;
  expiredTtl = 0;
  deletedOnLeave = 0;
  peak = 0;

  constructor(
    readonly utility: number,
    private readonly ttlS: number,
  ) {}

  /** A cached profile that is still valid at `now` (an expired one is dropped and counted). */
  cached(ev: number, now: number): boolean {
    const exp = this.vcpd.get(ev);
    if (exp === undefined) return false;
    if (now < exp) return true;
    this.vcpd.delete(ev);
    this.expiredTtl++;
    return false;
  }

  store(ev: number, now: number): void {
    this.vcpd.set(ev, this.ttlS > 0 ? now + this.ttlS : Infinity);
    this.stored++;
    if (this.vcpd.size > this.peak) this.peak = this.vcpd.size;
  }

  /** The EV left this utility's area: its visiting profile is deleted. Returns whether it had one. */
  forget(ev: number): boolean {
    if (!this.vcpd.delete(ev)) return false;
    this.deletedOnLeave++;
    return true;
  }

  get size(): number {
    return this.vcpd.size;
  }
}

/** The charging-rules-and-policy database: the visited utility's price for each home utility. */
export class CrpDatabase {
  private readonly price: Float64Array;
  private readonly load: Float64Array;
  private readonly n: number;

  constructor(utilities: readonly UtilityDef[], contracts: readonly ContractDef[]) {
    const n = utilities.length;
    this.n = n;
    this.price = new Float64Array(n * n);
    this.load = new Float64Array(n * n);
    const idx = new Map(utilities.map((u, i) => [u.id, i]));
    // without a contract a visited utility charges its own domestic price, load-independent
    for (let v = 0; v < n; v++) for (let h = 0; h < n; h++) this.price[v * n + h] = utilities[v]!.pricePerKWh;
    for (const c of contracts) {
      const v = idx.get(c.visited)!;
      const h = idx.get(c.home)!;
      this.price[v * n + h] = c.pricePerKWh;
      this.load[v * n + h] = c.loadFactor;
    }
  }

  /** price per kWh the visited utility v invoices home utility h, at charger occupancy `occ` (0..1) */
  priceOf(v: number, h: number, occ: number): number {
    return this.price[v * this.n + h]! * (1 + this.load[v * this.n + h]! * occ);
  }
}
