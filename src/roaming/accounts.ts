/**
 * Roaming accounting (paper 003, §2.2.4 and §3.1): the visited utility's invoice to the home
 * utility, the EV's one bill from its home utility, the settlement of each invoice, and the
 * metrics of the paper's equations (1) and (2) computed from the simulated sessions.
 *
 * Per session (energy E kWh delivered at a station of utility v to an EV of home utility h):
 *   - domestic (v = h): the EV's bill gets E · p_h (p = the utility's pricePerKWh)      → DCR_h
 *   - roaming (v ≠ h): v invoices h E · t_vh (the CRP contract price locked at authorisation,
 *     load-dependent if the contract says so); the EV's bill from h gets E · c_h (c = the home
 *     utility's roamingPricePerKWh)                                                     → RCR_h
 *     the invoice is v's transit charging revenue and h's transit charging cost   → TCR_v, TCC_h
 *     In clearing-house mode the hub keeps feePct of each invoice: v receives the rest (its TCR is
 *     net of the fee), h pays the whole invoice; the fees are reported as the hub's.
 *   Equation (1): R_i = DCR_i + RCR_i + TCR_i − TCC_i, in currency units over the run.
 *
 * Consumer surplus in the spirit of equation (2), CS = NUDU + NURU. Utility model (stated, not the
 * paper's subscription model): a driver values each kWh charged at θ (`willingnessToPay`, the same
 * for every driver and kWh); the net utility of a kWh is θ minus the price the driver is billed, so
 *   NUDU_i = Σ_domestic E · (θ − p_i),   NURU_i = Σ_roaming E · (θ − c_i)
 * over the sessions of utility i's customers. Energy not delivered (refused, no home station in
 * reach, gave up) adds nothing: refusals lower CS through the kWh that were never charged. The
 * paper's NURU ∝ (θ − c)² comes from a demand curve integrated over prices (a triangle); the
 * simulation's demand per session is fixed, so the surplus is linear in the delivered energy.
 */

export interface Invoice {
  readonly session: number;
  readonly ev: number;
  readonly station: number;
  readonly visited: number;
  readonly home: number;
  energyKWh: number;
  pricePerKWh: number;
  amount: number;
  readonly issuedAt: number;
  /** the invoice's transaction on the consortium chain (-1: none) */
  txId: number;
  /** when the home utility's payment reached the visited utility (NaN: not yet) */
  settledAt: number;
  /** amount the home utility paid for it (NaN: not yet) */
  paid: number;
  /** the hub's fee kept from it (clearing house) */
  fee: number;
}

export interface UtilityFigures {
  id: string;
  customers: number;
  stations: number;
  DCR: number;
  RCR: number;
  TCR: number;
  TCC: number;
  revenue: number;
  NUDU: number;
  NURU: number;
  consumerSurplus: number;
  domesticSessions: number;
  domesticKWh: number;
  roamingSessions: number;
  roamingKWh: number;
  visitorSessions: number;
  visitorKWh: number;
  invoicesIssued: number;
  invoicesReceived: number;
  billedToCustomers: number;
}

export class RoamingAccounts {
  readonly invoices: Invoice[] = [];
  /** what each EV's home utility billed it (currency units) */
  readonly bill: Float64Array;
  private readonly dom: Float64Array; // [u*2]: sessions, kWh
  private readonly domAmount: Float64Array;
  private readonly roamBill: Float64Array; // per home utility: c_h · E over its customers' roaming
  /** invoice indices per session (-1: none); a second invoice of a session is an audit problem */
  readonly invoiceOf = new Map<number, number>();
  duplicateInvoices = 0;
  hubFees = 0;

  constructor(
    readonly names: readonly string[],
    private readonly domesticPrice: readonly number[],
    private readonly roamingPrice: readonly number[],
    private readonly theta: number,
    private readonly feePct: number,
    fleetSize: number,
  ) {
    const n = names.length;
    this.bill = new Float64Array(fleetSize);
    this.dom = new Float64Array(n * 2);
    this.domAmount = new Float64Array(n);
    this.roamBill = new Float64Array(n);
  }

  /** A domestic session of EV ev (home utility u) ended with E kWh. */
  domestic(ev: number, u: number, energyKWh: number): void {
    const a = energyKWh * this.domesticPrice[u]!;
    this.bill[ev]! += a;
    this.dom[u * 2]!++;
    this.dom[u * 2 + 1]! += energyKWh;
    this.domAmount[u]! += a;
  }

  /** A roaming session ended: the visited utility invoices the home one, the home one bills the
   * EV. Returns the invoice's index. */
  roaming(session: number, ev: number, station: number, visited: number, home: number, energyKWh: number, pricePerKWh: number, now: number): number {
    const i = this.invoices.length;
    if (this.invoiceOf.has(session)) this.duplicateInvoices++;
    else this.invoiceOf.set(session, i);
    this.invoices.push({ session, ev, station, visited, home, energyKWh, pricePerKWh, amount: energyKWh * pricePerKWh, issuedAt: now, txId: -1, settledAt: NaN, paid: NaN, fee: 0 });
    const b = energyKWh * this.roamingPrice[home]!;
    this.bill[ev]! += b;
    this.roamBill[home]! += b;
    return i;
  }

  /** The home utility's payment of invoice i reached the visited one (a fee kept by the hub). */
  settle(i: number, paid: number, now: number): void {
    const inv = this.invoices[i]!;
    inv.settledAt = now;
    inv.paid = paid;
    inv.fee = (paid * this.feePct) / 100;
    this.hubFees += inv.fee;
  }

  /** The hub's fees over every invoice: kept from the settled ones, due on the pending ones
   * (accrual basis, like TCR and TCC in `figures`). */
  accruedFees(): number {
    let f = 0;
    for (const inv of this.invoices) f += Number.isNaN(inv.paid) ? (inv.amount * this.feePct) / 100 : inv.fee;
    return f;
  }

  /** Equation (1) and (2) figures per utility (customers and stations per utility given). */
  figures(customers: readonly number[], stations: readonly number[]): UtilityFigures[] {
    const n = this.names.length;
    const out: UtilityFigures[] = this.names.map((id, u) => ({
      id,
      customers: customers[u] ?? 0,
      stations: stations[u] ?? 0,
      DCR: this.domAmount[u]!,
      RCR: this.roamBill[u]!,
      TCR: 0,
      TCC: 0,
      revenue: 0,
      NUDU: this.dom[u * 2 + 1]! * (this.theta - this.domesticPrice[u]!),
      NURU: 0,
      consumerSurplus: 0,
      domesticSessions: this.dom[u * 2]!,
      domesticKWh: this.dom[u * 2 + 1]!,
      roamingSessions: 0,
      roamingKWh: 0,
      visitorSessions: 0,
      visitorKWh: 0,
      invoicesIssued: 0,
      invoicesReceived: 0,
      billedToCustomers: 0,
    }));
    for (const inv of this.invoices) {
      const v = out[inv.visited]!;
      const h = out[inv.home]!;
      // TCR is what the visited utility receives: the invoice less the hub's fee; TCC what the
      // home utility owes. Unsettled invoices count at their invoiced amount (accrual basis).
      const paid = Number.isNaN(inv.paid) ? inv.amount : inv.paid;
      v.TCR += paid - (Number.isNaN(inv.paid) ? (paid * this.feePct) / 100 : inv.fee);
      h.TCC += paid;
      v.visitorSessions++;
      v.visitorKWh += inv.energyKWh;
      v.invoicesIssued++;
      h.invoicesReceived++;
      h.roamingSessions++;
      h.roamingKWh += inv.energyKWh;
    }
    for (let u = 0; u < n; u++) {
      const f = out[u]!;
      f.NURU = f.roamingKWh * (this.theta - this.roamingPrice[u]!);
      f.consumerSurplus = f.NUDU + f.NURU;
      f.revenue = f.DCR + f.RCR + f.TCR - f.TCC;
      f.billedToCustomers = f.DCR + f.RCR;
    }
    return out;
  }
}

/** What the audit compares the books with. */
export interface AuditInputs {
  /** sessions that ended at a station of another utility with energy delivered: session → [energy, visited, home] */
  roamingSessions: ReadonlyMap<number, readonly [number, number, number]>;
  /** the sum of the domestic charges (energy × domestic price), recomputed from the sessions */
  domesticCharges: number;
  /** the invoice's record on the chain, decoded: [home, energyKWh, amount] (consortium mode) */
  chainInvoice?: (i: number) => readonly [number, number, number] | undefined;
  /** the settlement's record on the chain: amount paid (consortium mode) */
  chainSettlement?: (i: number) => number | undefined;
}

/**
 * The integrity audit of the roaming books; one line per problem (at most `limit` kept, all counted):
 *   - every roaming session with energy is invoiced exactly once, with its own energy and utilities;
 *   - each invoice's amount is its energy × its contract price;
 *   - the home bills sum to the domestic charges plus the invoiced energy at the home utilities'
 *     roaming prices (the one bill);
 *   - on the chain: each invoice record equals the book's invoice, and each settlement paid the
 *     invoiced amount; a settled invoice (any mode) was paid its amount.
 */
export function auditRoaming(acc: RoamingAccounts, roamingPrice: readonly number[], inp: AuditInputs, limit = 20): { problems: number; lines: string[] } {
  const lines: string[] = [];
  let problems = 0;
  const bad = (s: string) => {
    problems++;
    if (lines.length < limit) lines.push(s);
  };
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  const seen = new Map<number, number>();
  for (const inv of acc.invoices) seen.set(inv.session, (seen.get(inv.session) ?? 0) + 1);
  for (const [sid, [e, v, h]] of inp.roamingSessions) {
    const n = seen.get(sid) ?? 0;
    if (n !== 1) bad(`roaming: session ${sid} invoiced ${n} times (expected once)`);
    const i = acc.invoiceOf.get(sid);
    if (i === undefined) continue;
    const inv = acc.invoices[i]!;
    if (!close(inv.energyKWh, e)) bad(`roaming: invoice ${i} (session ${sid}) bills ${inv.energyKWh} kWh, the session delivered ${e}`);
    if (inv.visited !== v || inv.home !== h) bad(`roaming: invoice ${i} (session ${sid}) is from ${inv.visited} to ${inv.home}, the session was utility ${h}'s EV at utility ${v}`);
  }
  let roamBills = 0;
  acc.invoices.forEach((inv, i) => {
    if (!inp.roamingSessions.has(inv.session)) bad(`roaming: invoice ${i} names session ${inv.session}, which is no roaming session with energy`);
    if (!close(inv.amount, inv.energyKWh * inv.pricePerKWh)) bad(`roaming: invoice ${i} amount ${inv.amount} ≠ ${inv.energyKWh} kWh × ${inv.pricePerKWh}`);
    roamBills += inv.energyKWh * roamingPrice[inv.home]!;
    if (!Number.isNaN(inv.paid) && !close(inv.paid, inv.amount)) bad(`roaming: invoice ${i} was paid ${inv.paid}, invoiced ${inv.amount}`);
    if (inp.chainInvoice) {
      const c = inp.chainInvoice(i);
      if (!c) bad(`roaming: invoice ${i} has no record on the chain`);
      else if (c[0] !== inv.home || !close(c[1], inv.energyKWh) || !close(c[2], inv.amount))
        bad(`roaming: invoice ${i} differs from its chain record (home ${c[0]}, ${c[1]} kWh, amount ${c[2]} on chain; home ${inv.home}, ${inv.energyKWh} kWh, amount ${inv.amount} in the book)`);
    }
    if (inp.chainSettlement && !Number.isNaN(inv.settledAt)) {
      const paid = inp.chainSettlement(i);
      if (paid === undefined) bad(`roaming: invoice ${i} is settled without a settlement record on the chain`);
      else if (!close(paid, inv.amount)) bad(`roaming: settlement of invoice ${i} on the chain paid ${paid}, invoiced ${inv.amount}`);
    }
  });
  let bills = 0;
  for (const b of acc.bill) bills += b;
  const expected = inp.domesticCharges + roamBills;
  if (!close(bills, expected)) bad(`roaming: the home bills sum to ${bills}, the domestic charges plus roaming lines to ${expected}`);
  return { problems, lines };
}
