/**
 * Transactions on the wire: canonical binary encoding, transaction ids, signatures and Merkle trees,
 * shared by every ledger backend.
 *
 * Canonical body (TX_BODY_BYTES = 58 bytes, fixed size, little-endian, no padding):
 *
 *   offset size type  field
 *        0    1 u8    version (TX_VERSION = 1)
 *        1    1 u8    kind: 0 session-start, 1 charge, 2 session-end, 3 payment
 *        2    4 u32   id
 *        6    4 u32   sessionId
 *       10    4 u32   ev
 *       14    4 u32   station
 *       18    8 f64   energyKWh
 *       26    8 f64   amount
 *       34    8 f64   powerKW
 *       42    8 f64   soc            (NaN when absent, always written as 0x7ff8000000000000)
 *       50    8 f64   submittedAt    (simulated seconds)
 *
 * Integer fields must be integers in 0..2^32-1 (RangeError otherwise). The txid is the hex SHA-256
 * of the body. A signed transaction's size is body + signature (64) + public key (32) = 154 bytes.
 *
 * Other kinds (reservation, station-status, roaming-invoice, roaming-settlement) have their own layouts and sizes, below TX_KIND_DEFS.
 *
 * Signatures (the signer is the EV, `tx.ev`, except station-status: the station):
 *   - 'real': Ed25519 with node:crypto. Keys are derived deterministically: the private seed of
 *     (role, id) is SHA-256(`evsim/${seed}/${role}/${id}`) (32 bytes), wrapped into a PKCS#8 DER
 *     key. Ed25519 signatures are deterministic (RFC 8032), so runs are reproducible. Keys are made
 *     lazily and cached per (role, id): a city has up to 100k EVs, only the keys used are made.
 *   - 'modeled': signature = SHA-512(privateSeed ‖ message) (64 bytes, the size of an Ed25519
 *     signature), public key = SHA-256(`pub/evsim/${seed}/${role}/${id}`) (32 bytes). A keyed hash
 *     stand-in: it detects tampering in the audit, it is not a security model (the verifier
 *     recomputes it with the signer's private seed). No asymmetric crypto, so it is an order of
 *     magnitude cheaper in wall-clock time than 'real' (~3 µs vs ~50 µs per signed tx). Simulated
 *     results do not depend on the mode: sizes are the same and the simulated CPU cost of
 *     signing/verifying is the configured signCostS/verifyCostS, never the wall clock.
 *
 * Simulated CPU costs (CodecConfigSchema defaults): sign 50 µs, verify 120 µs per operation on one
 * core. Source: Bernstein, Duif, Lange, Schwabe & Yang, "High-speed high-security signatures",
 * J. Cryptographic Engineering 2(2), 2012 (Ed25519): 87,548 cycles per signature and 273,364 cycles
 * per single (non-batched) verification on a 2.4 GHz Westmere core, i.e. ~36 µs and ~114 µs; sign is
 * rounded up to 50 µs for hashing/serialisation overhead of a real node, verify to 120 µs.
 * node:crypto (OpenSSL) called from JavaScript measures in the same range on a current server core
 * (~50 µs per sign, ~140 µs per verify including binding overhead; test/ledger/tx.test.ts prints the
 * figures for information, without asserting them).
 *
 * Merkle trees are Bitcoin-style over the given leaves (normally txids as 32-byte digests): a
 * parent is SHA-256(left ‖ right) (single SHA-256, not Bitcoin's double), the last node of an odd
 * level is paired with itself, one leaf is its own root and the empty tree's root is 32 zero bytes.
 * Known property of the duplication rule (Bitcoin CVE-2012-2459): [a, b, c] and [a, b, c, c] have
 * the same root, so auditors also check the leaf count / duplicate txids.
 *
 * Performance: encoding writes into one reused DataView and copies out 58 bytes; hashing uses
 * node:crypto's one-shot crypto.hash (createHash where unavailable); keys and modeled seeds are
 * cached. encode + sha256 + modeled sign cost ~3–4 µs per transaction (printed by the tests).
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  hash as oneShotHash,
  sign as edSign,
  verify as edVerify,
  type KeyObject,
} from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import type { LedgerTx } from './ledger.js';

export type SigMode = 'real' | 'modeled';
export type KeyRole = 'ev' | 'station' | 'node' | 'utility';

export const TX_VERSION = 1;
export const TX_BODY_BYTES = 58;
export const SIGNATURE_BYTES = 64;
export const PUBLIC_KEY_BYTES = 32;
/** body + signature + public key */
export const SIGNED_TX_BYTES = TX_BODY_BYTES + SIGNATURE_BYTES + PUBLIC_KEY_BYTES;

export const CodecConfigSchema = z.strictObject({
  /** 'real' = Ed25519 (node:crypto), 'modeled' = keyed SHA-512 stand-in; simulated results are the same */
  mode: z.enum(['real', 'modeled']).default('modeled'),
  /** simulated CPU time charged per signature, µs (Ed25519: 87,548 cycles ≈ 36 µs at 2.4 GHz, Bernstein et al. 2012; rounded up) */
  signCostUs: z.number().min(0).default(50),
  /** simulated CPU time charged per verification, µs (Ed25519: 273,364 cycles ≈ 114 µs at 2.4 GHz, Bernstein et al. 2012) */
  verifyCostUs: z.number().min(0).default(120),
});
export type CodecConfig = z.output<typeof CodecConfigSchema>;

export interface SignedTx {
  readonly tx: LedgerTx;
  readonly body: Uint8Array;
  readonly signature: Uint8Array;
  /** hex SHA-256 of body */
  readonly txid: string;
  /** body + signature + public key bytes */
  readonly size: number;
}

// ---- transaction kinds --------------------------------------------------------------------------

/**
 * The layout of a transaction kind's body: its encoded size and how it is written and read. The
 * four kinds of the city share CANONICAL_LAYOUT (the 58-byte body of the header); a new kind
 * (roaming, reservations, ...) registers its own layout with its own size.
 */
export interface TxLayout {
  /** encoded body size in bytes (fixed per kind) */
  readonly bodyBytes: number;
  /** write the body of `tx` (kind code `code`) at offset 0 of `v` (at least bodyBytes long) */
  write(v: DataView, tx: LedgerTx, code: number): void;
  /** read a body (exactly bodyBytes) back; the kind is given */
  read(v: DataView, kind: TxKind): LedgerTx;
}

/** The 18-byte header the canonical and reservation layouts share: version, kind code, id, sessionId, ev, station. */
function writeHeader(v: DataView, tx: LedgerTx, code: number): void {
  v.setUint8(0, TX_VERSION);
  v.setUint8(1, code);
  v.setUint32(2, u32(tx.id, 'id', tx), true);
  v.setUint32(6, u32(tx.sessionId, 'sessionId', tx), true);
  v.setUint32(10, u32(tx.ev, 'ev', tx), true);
  v.setUint32(14, u32(tx.station, 'station', tx), true);
}

function readHeader(v: DataView, kind: TxKind): Pick<LedgerTx, 'id' | 'kind' | 'sessionId' | 'ev' | 'station'> {
  return { id: v.getUint32(2, true), kind, sessionId: v.getUint32(6, true), ev: v.getUint32(10, true), station: v.getUint32(14, true) };
}

export const CANONICAL_LAYOUT: TxLayout = {
  bodyBytes: TX_BODY_BYTES,
  write(v, tx, code) {
    writeHeader(v, tx, code);
    f64(v, 18, tx.energyKWh);
    f64(v, 26, tx.amount);
    f64(v, 34, tx.powerKW);
    f64(v, 42, tx.soc);
    f64(v, 50, tx.submittedAt);
  },
  read(v, kind) {
    return {
      ...readHeader(v, kind),
      energyKWh: v.getFloat64(18, true),
      amount: v.getFloat64(26, true),
      powerKW: v.getFloat64(34, true),
      soc: v.getFloat64(42, true),
      submittedAt: v.getFloat64(50, true),
    };
  },
};

/**
 * `reservation` (the calculating phase, src/simulation/calculating.ts): an EV announces the station
 * it chose and when it expects to arrive. Body RESERVATION_BODY_BYTES = 42 bytes:
 *
 *   offset size type  field
 *        0    1 u8    version
 *        1    1 u8    kind (4)
 *        2    4 u32   id
 *        6    4 u32   sessionId      (the session the decision opened)
 *       10    4 u32   ev             (the signer)
 *       14    4 u32   station
 *       18    8 f64   eta            (expected arrival, simulated seconds)   payload[0]
 *       26    8 f64   chargeS        (expected charging time, s)            payload[1]
 *       34    8 f64   submittedAt
 *
 * Signed size 42 + 64 + 32 = 138 bytes.
 */
export const RESERVATION_BODY_BYTES = 42;
export const RESERVATION_LAYOUT: TxLayout = {
  bodyBytes: RESERVATION_BODY_BYTES,
  write(v, tx, code) {
    writeHeader(v, tx, code);
    f64(v, 18, payloadAt(tx, 0));
    f64(v, 26, payloadAt(tx, 1));
    f64(v, 34, tx.submittedAt);
  },
  read(v, kind) {
    return {
      ...readHeader(v, kind),
      energyKWh: 0,
      amount: 0,
      powerKW: 0,
      soc: NaN,
      submittedAt: v.getFloat64(34, true),
      payload: [v.getFloat64(18, true), v.getFloat64(26, true)],
    };
  },
};

/**
 * `station-status` (information `ledger`, src/simulation/calculating.ts): a station reports its
 * state. Signed by the station (`tx.station`; `tx.ev` carries the same id as the reporter, and
 * sessionId is 0 and not encoded). Body STATUS_BODY_BYTES = 38 bytes:
 *
 *   offset size type  field
 *        0    1 u8    version
 *        1    1 u8    kind (5)
 *        2    4 u32   id
 *        6    4 u32   station
 *       10    4 u32   queueLength    payload[0]
 *       14    4 u32   plugged        payload[1]
 *       18    4 u32   freeChargers   payload[2]
 *       22    8 f64   workAheadS     payload[3] (remaining charging time of plugged and queued EVs)
 *       30    8 f64   submittedAt    (the time the status describes)
 *
 * Signed size 38 + 64 + 32 = 134 bytes.
 */
export const STATUS_BODY_BYTES = 38;
export const STATUS_LAYOUT: TxLayout = {
  bodyBytes: STATUS_BODY_BYTES,
  write(v, tx, code) {
    v.setUint8(0, TX_VERSION);
    v.setUint8(1, code);
    v.setUint32(2, u32(tx.id, 'id', tx), true);
    v.setUint32(6, u32(tx.station, 'station', tx), true);
    v.setUint32(10, u32(payloadAt(tx, 0), 'payload[0] (queueLength)', tx), true);
    v.setUint32(14, u32(payloadAt(tx, 1), 'payload[1] (plugged)', tx), true);
    v.setUint32(18, u32(payloadAt(tx, 2), 'payload[2] (freeChargers)', tx), true);
    f64(v, 22, payloadAt(tx, 3));
    f64(v, 30, tx.submittedAt);
  },
  read(v, kind) {
    const station = v.getUint32(6, true);
    return {
      id: v.getUint32(2, true),
      kind,
      sessionId: 0,
      ev: station,
      station,
      energyKWh: 0,
      amount: 0,
      powerKW: 0,
      soc: NaN,
      submittedAt: v.getFloat64(30, true),
      payload: [v.getUint32(10, true), v.getUint32(14, true), v.getUint32(18, true), v.getFloat64(22, true)],
    };
  },
};

// ---- roaming (src/simulation/roaming.ts, docs/roaming.md) ---------------------------------------

/**
 * `roaming-invoice` (code 6): the visited utility's invoice to the home utility for one roaming
 * session, on the utilities' consortium chain. Signed by the visited utility (key role 'utility',
 * id `tx.ev`). Body ROAMING_INVOICE_BODY_BYTES = 46 bytes:
 *
 *   offset size type  field
 *        0    1 u8    version
 *        1    1 u8    kind (6)
 *        2    4 u32   id
 *        6    4 u32   sessionId
 *       10    4 u32   ev             (the visited utility's index: the signer)
 *       14    4 u32   station        (where the session charged)
 *       18    4 u32   home utility   payload[0]
 *       22    8 f64   energyKWh      payload[1]
 *       30    8 f64   amount         payload[2] (energy × contract price)
 *       38    8 f64   submittedAt
 *
 * Signed size 46 + 64 + 32 = 142 bytes.
 */
export const ROAMING_INVOICE_BODY_BYTES = 46;
export const ROAMING_INVOICE_LAYOUT: TxLayout = {
  bodyBytes: ROAMING_INVOICE_BODY_BYTES,
  write(v, tx, code) {
    writeHeader(v, tx, code);
    v.setUint32(18, u32(payloadAt(tx, 0), 'payload[0] (home utility)', tx), true);
    f64(v, 22, payloadAt(tx, 1));
    f64(v, 30, payloadAt(tx, 2));
    f64(v, 38, tx.submittedAt);
  },
  read(v, kind) {
    return {
      ...readHeader(v, kind),
      energyKWh: 0,
      amount: 0,
      powerKW: 0,
      soc: NaN,
      submittedAt: v.getFloat64(38, true),
      payload: [v.getUint32(18, true), v.getFloat64(22, true), v.getFloat64(30, true)],
    };
  },
};

/**
 * `roaming-settlement` (code 7): the home utility pays one invoice to the visited utility. Signed
 * by the home utility (key role 'utility', id `tx.ev`). Body ROAMING_SETTLEMENT_BODY_BYTES = 38:
 *
 *   offset size type  field
 *        0    1 u8    version
 *        1    1 u8    kind (7)
 *        2    4 u32   id
 *        6    4 u32   sessionId      (the invoiced session)
 *       10    4 u32   ev             (the home utility's index: payer and signer)
 *       14    4 u32   station        (the visited utility's index: payee)
 *       18    4 u32   invoice txid   payload[0] (the id of the roaming-invoice transaction)
 *       22    8 f64   amount         payload[1]
 *       30    8 f64   submittedAt
 *
 * Signed size 38 + 64 + 32 = 134 bytes.
 */
export const ROAMING_SETTLEMENT_BODY_BYTES = 38;
export const ROAMING_SETTLEMENT_LAYOUT: TxLayout = {
  bodyBytes: ROAMING_SETTLEMENT_BODY_BYTES,
  write(v, tx, code) {
    writeHeader(v, tx, code);
    v.setUint32(18, u32(payloadAt(tx, 0), 'payload[0] (invoice txid)', tx), true);
    f64(v, 22, payloadAt(tx, 1));
    f64(v, 30, tx.submittedAt);
  },
  read(v, kind) {
    return {
      ...readHeader(v, kind),
      energyKWh: 0,
      amount: 0,
      powerKW: 0,
      soc: NaN,
      submittedAt: v.getFloat64(30, true),
      payload: [v.getUint32(18, true), v.getFloat64(22, true)],
    };
  },
};

function payloadAt(tx: LedgerTx, i: number): number {
  const p = tx.payload;
  if (p === undefined || p.length <= i) throw new RangeError(`codec: tx ${tx.id} (${tx.kind}) needs payload[${i}]`);
  return p[i]!;
}

/**
 * The registry of transaction kinds: name, wire code (byte 1 of every body), description, layout,
 * signer (whose key signs it: the EV `tx.ev`, or the station `tx.station`) and whether summary.json's
 * byKind always lists it (`optional` kinds appear there only once submitted, so runs that use
 * none keep their outputs). Adding a kind is adding a row (its code must be new; the table order
 * is the order of every per-kind figure, e.g. summary.json's byKind).
 */
export const TX_KIND_DEFS = [
  { name: 'session-start', code: 0, description: 'an EV plugs in: the session opens (energy 0)', layout: CANONICAL_LAYOUT, signer: 'ev', optional: false },
  { name: 'charge', code: 1, description: 'a per-minute charge record (energy, mean power, state of charge)', layout: CANONICAL_LAYOUT, signer: 'ev', optional: false },
  { name: 'session-end', code: 2, description: 'the session closes (total energy)', layout: CANONICAL_LAYOUT, signer: 'ev', optional: false },
  { name: 'payment', code: 3, description: 'a payment from the EV to the station (amount in tariff units)', layout: CANONICAL_LAYOUT, signer: 'ev', optional: false },
  { name: 'reservation', code: 4, description: 'an EV in calculating announces its chosen station and expected arrival', layout: RESERVATION_LAYOUT, signer: 'ev', optional: true },
  { name: 'station-status', code: 5, description: 'a station reports its queue, plugged EVs, free chargers and work ahead', layout: STATUS_LAYOUT, signer: 'station', optional: true },
  { name: 'roaming-invoice', code: 6, description: 'roaming: the visited utility invoices the home utility for one session (docs/roaming.md)', layout: ROAMING_INVOICE_LAYOUT, signer: 'utility', optional: true },
  { name: 'roaming-settlement', code: 7, description: 'roaming: the home utility pays one invoice to the visited utility', layout: ROAMING_SETTLEMENT_LAYOUT, signer: 'utility', optional: true },
] as const satisfies readonly { name: string; code: number; description: string; layout: TxLayout; signer: KeyRole; optional: boolean }[];

export type TxKind = (typeof TX_KIND_DEFS)[number]['name'];
export const TX_KINDS: readonly TxKind[] = TX_KIND_DEFS.map((d) => d.name);

const KIND_CODE = new Map<TxKind, number>(TX_KIND_DEFS.map((d) => [d.name, d.code]));
const KIND_BY_CODE = new Map<number, (typeof TX_KIND_DEFS)[number]>(TX_KIND_DEFS.map((d) => [d.code, d]));
const LAYOUT = new Map<TxKind, TxLayout>(TX_KIND_DEFS.map((d) => [d.name, d.layout]));
const SIGNER = new Map<TxKind, KeyRole>(TX_KIND_DEFS.map((d) => [d.name, d.signer]));
/** Kinds that summary.json's byKind lists only once submitted (see TX_KIND_DEFS). */
export const OPTIONAL_TX_KINDS: ReadonlySet<TxKind> = new Set(TX_KIND_DEFS.filter((d) => d.optional).map((d) => d.name));

/** Who signs a transaction: (role, id). */
function signerOf(tx: LedgerTx): [KeyRole, number] {
  const role = SIGNER.get(tx.kind);
  return role === 'station' ? ['station', tx.station] : [role === 'utility' ? 'utility' : 'ev', tx.ev];
}
const MAX_BODY_BYTES = Math.max(...TX_KIND_DEFS.map((d) => d.layout.bodyBytes));

/** Encoded body size of a kind (bytes). */
export function txBodyBytes(kind: TxKind): number {
  const l = LAYOUT.get(kind);
  if (l === undefined) throw new RangeError(`codec: unknown tx kind ${String(kind)}`);
  return l.bodyBytes;
}

/** Size of a signed transaction of a kind: body + signature (64) + public key (32). */
export function signedTxBytes(kind: TxKind): number {
  return txBodyBytes(kind) + SIGNATURE_BYTES + PUBLIC_KEY_BYTES;
}

/** PKCS#8 DER prefix of an Ed25519 private key; followed by the 32-byte seed. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** SPKI DER prefix of an Ed25519 public key (12 bytes); followed by the 32-byte key. */
const SPKI_ED25519_PREFIX_LEN = 12;

const NAN_BITS_LO = 0x00000000;
const NAN_BITS_HI = 0x7ff80000;

// ---- hashing ------------------------------------------------------------------------------------

// crypto.hash (one-shot, Node >= 20.12) is ~2x faster than createHash for small inputs; its
// 'buffer' output is slow, so digests come back as 'binary' (latin1) strings, exact byte for byte.
const HAS_ONE_SHOT = typeof oneShotHash === 'function';

function digest(alg: 'sha256' | 'sha512', data: Uint8Array): Buffer {
  return HAS_ONE_SHOT ? Buffer.from(oneShotHash(alg, data, 'binary'), 'binary') : createHash(alg).update(data).digest();
}

function digestHex(alg: 'sha256' | 'sha512', data: Uint8Array): string {
  return HAS_ONE_SHOT ? oneShotHash(alg, data, 'hex') : createHash(alg).update(data).digest('hex');
}

/** SHA-256 of the concatenation of the parts. */
export function sha256(...parts: Uint8Array[]): Buffer {
  if (parts.length === 1) return digest('sha256', parts[0]!);
  return digest('sha256', Buffer.concat(parts));
}

/** Hex SHA-256 (the txid of a body). */
export function sha256Hex(data: Uint8Array): string {
  return digestHex('sha256', data);
}

const pairBuf = Buffer.alloc(64);
function sha256Pair(a: Uint8Array, b: Uint8Array): Buffer {
  if (a.length === 32 && b.length === 32) {
    pairBuf.set(a, 0);
    pairBuf.set(b, 32);
    return digest('sha256', pairBuf);
  }
  return digest('sha256', Buffer.concat([a, b]));
}

/** Bitcoin-style Merkle root (see header): pairs hashed with SHA-256, odd levels duplicate the last node. */
export function merkleRoot(leaves: readonly Uint8Array[]): Buffer {
  if (leaves.length === 0) return Buffer.alloc(32);
  if (leaves.length === 1) return Buffer.from(leaves[0]!);
  let level: Uint8Array[] = leaves.slice();
  while (level.length > 1) {
    const next: Uint8Array[] = new Array(Math.ceil(level.length / 2));
    for (let i = 0, k = 0; i < level.length; i += 2, k++) {
      const a = level[i]!;
      next[k] = sha256Pair(a, i + 1 < level.length ? level[i + 1]! : a);
    }
    level = next;
  }
  return level[0] as Buffer;
}

/** The sibling hashes from leaf `index` up to the root (bottom first); [] for a single leaf. */
export function merkleProof(leaves: readonly Uint8Array[], index: number): Uint8Array[] {
  if (!(Number.isInteger(index) && index >= 0 && index < leaves.length)) {
    throw new RangeError(`merkleProof: index ${index} out of range (0..${leaves.length - 1})`);
  }
  const proof: Uint8Array[] = [];
  let level: Uint8Array[] = leaves.slice();
  let idx = index;
  while (level.length > 1) {
    const sib = idx ^ 1;
    proof.push(sib < level.length ? level[sib]! : level[idx]!);
    const next: Uint8Array[] = new Array(Math.ceil(level.length / 2));
    for (let i = 0, k = 0; i < level.length; i += 2, k++) {
      const a = level[i]!;
      next[k] = sha256Pair(a, i + 1 < level.length ? level[i + 1]! : a);
    }
    level = next;
    idx >>= 1;
  }
  return proof;
}

/** Checks a proof from merkleProof() against a root. */
export function verifyMerkleProof(leaf: Uint8Array, index: number, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!(Number.isInteger(index) && index >= 0)) return false;
  let h: Uint8Array = leaf;
  let idx = index;
  for (const sib of proof) {
    h = idx & 1 ? sha256Pair(sib, h) : sha256Pair(h, sib);
    idx = Math.floor(idx / 2);
  }
  if (idx !== 0) return false; // index beyond the tree the proof describes
  return bytesEqual(h, root);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

// ---- the codec ----------------------------------------------------------------------------------

interface KeyEntry {
  seed: Buffer; // 32-byte private seed
  pub?: Buffer; // 32-byte public key
  priv?: KeyObject; // real mode
  pubKey?: KeyObject; // real mode
}

export class TxCodec {
  readonly mode: SigMode;
  /** simulated CPU seconds to charge per signature / verification (both modes) */
  readonly signCostS: number;
  readonly verifyCostS: number;
  readonly seed: number;

  private readonly buf = new ArrayBuffer(MAX_BODY_BYTES);
  private readonly view = new DataView(this.buf);
  private readonly bytes = new Uint8Array(this.buf);
  private macBuf = Buffer.alloc(256);
  private readonly keys: Record<KeyRole, Map<number, KeyEntry>> = { ev: new Map(), station: new Map(), node: new Map(), utility: new Map() };
  // wall-clock accounting of real-mode crypto (never used in simulation results)
  private signs = 0;
  private verifies = 0;
  private wallSeconds = 0;

  constructor(opts: { mode: SigMode; signCostS: number; verifyCostS: number; seed: number }) {
    if (opts.mode !== 'real' && opts.mode !== 'modeled') throw new RangeError(`codec: unknown signature mode ${String(opts.mode)}`);
    if (!(opts.signCostS >= 0) || !(opts.verifyCostS >= 0)) throw new RangeError('codec: signCostS and verifyCostS must be >= 0');
    this.mode = opts.mode;
    this.signCostS = opts.signCostS;
    this.verifyCostS = opts.verifyCostS;
    this.seed = opts.seed;
  }

  /** A codec from the scenario's `ledger.codec` section (µs → s) and the scenario seed. */
  static fromConfig(cfg: Partial<CodecConfig>, seed: number): TxCodec {
    const c = CodecConfigSchema.parse(cfg);
    return new TxCodec({ mode: c.mode, signCostS: c.signCostUs * 1e-6, verifyCostS: c.verifyCostUs * 1e-6, seed });
  }

  /** The body of `tx` in its kind's layout (canonical: the header's 58 bytes); a fresh array. */
  encode(tx: LedgerTx): Uint8Array {
    return this.bytes.slice(0, this.encodeInto(tx));
  }

  /** Writes the body into the reused scratch buffer `this.bytes`; returns its length. */
  private encodeInto(tx: LedgerTx): number {
    const code = KIND_CODE.get(tx.kind);
    const layout = LAYOUT.get(tx.kind);
    if (code === undefined || layout === undefined) throw new RangeError(`codec: unknown tx kind ${String(tx.kind)} (tx ${tx.id})`);
    layout.write(this.view, tx, code);
    return layout.bodyBytes;
  }

  /** Inverse of encode(). */
  decode(body: Uint8Array): LedgerTx {
    if (body.length < 2) throw new RangeError(`codec: body too short (${body.length} bytes)`);
    const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const version = v.getUint8(0);
    if (version !== TX_VERSION) throw new RangeError(`codec: unknown body version ${version}`);
    const def = KIND_BY_CODE.get(v.getUint8(1));
    if (def === undefined) throw new RangeError(`codec: unknown kind code ${v.getUint8(1)}`);
    if (body.length !== def.layout.bodyBytes) throw new RangeError(`codec: a ${def.name} body must be ${def.layout.bodyBytes} bytes, got ${body.length}`);
    return def.layout.read(v, def.name);
  }

  /** Hex SHA-256 of a body. */
  txid(body: Uint8Array): string {
    return digestHex('sha256', body);
  }

  /** Encode, hash and sign (signer: the EV `tx.ev`, or the station for station-status). */
  sign(tx: LedgerTx): SignedTx {
    const body = this.encode(tx);
    const [role, id] = signerOf(tx);
    const signature = this.signBytes(role, id, body);
    return { tx, body, signature, txid: this.txid(body), size: body.length + SIGNATURE_BYTES + PUBLIC_KEY_BYTES };
  }

  /** True when body = encode(tx), txid = SHA-256(body) and the signature is the signer's over body. */
  verify(s: SignedTx): boolean {
    const body = s.body;
    if (s.signature.length !== SIGNATURE_BYTES) return false;
    let n: number;
    try {
      n = this.encodeInto(s.tx);
    } catch {
      return false;
    }
    if (body.length !== n || !bytesEqual(this.bytes.subarray(0, n), body)) return false;
    if (this.txid(body) !== s.txid) return false;
    const [role, id] = signerOf(s.tx);
    return this.verifyBytes(role, id, body, s.signature);
  }

  /** 32-byte public key of (role, id). */
  publicKey(role: KeyRole, id: number): Uint8Array {
    const k = this.key(role, id);
    if (k.pub === undefined) {
      if (this.mode === 'real') {
        const der = this.realPublic(k).export({ format: 'der', type: 'spki' });
        k.pub = der.subarray(SPKI_ED25519_PREFIX_LEN);
      } else {
        k.pub = digest('sha256', Buffer.from(`pub/evsim/${this.seed}/${role}/${id}`, 'utf8'));
      }
    }
    return k.pub;
  }

  /** 64-byte signature of `msg` by (role, id). */
  signBytes(role: KeyRole, id: number, msg: Uint8Array): Uint8Array {
    const k = this.key(role, id);
    if (this.mode === 'modeled') {
      this.signs++;
      return this.keyedHash(k.seed, msg);
    }
    if (k.priv === undefined) {
      k.priv = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, k.seed]), format: 'der', type: 'pkcs8' });
    }
    const t0 = performance.now(); // wall-clock ok: reported only through wallClockStats()
    const sig = edSign(null, msg, k.priv);
    this.wallSeconds += (performance.now() - t0) / 1000; // wall-clock ok
    this.signs++;
    return sig;
  }

  /** True when `sig` is (role, id)'s signature of `msg`. */
  verifyBytes(role: KeyRole, id: number, msg: Uint8Array, sig: Uint8Array): boolean {
    if (sig.length !== SIGNATURE_BYTES) return false;
    const k = this.key(role, id);
    if (this.mode === 'modeled') {
      this.verifies++;
      return bytesEqual(this.keyedHash(k.seed, msg), sig);
    }
    const pub = this.realPublic(k);
    const t0 = performance.now(); // wall-clock ok: reported only through wallClockStats()
    const ok = edVerify(null, msg, pub, sig);
    this.wallSeconds += (performance.now() - t0) / 1000; // wall-clock ok
    this.verifies++;
    return ok;
  }

  /**
   * Signatures and verifications made so far and, in 'real' mode, the wall-clock seconds spent in
   * Ed25519 sign/verify (0 in 'modeled' mode). For information only: never part of simulation results.
   */
  wallClockStats(): { signs: number; verifies: number; seconds: number } {
    return { signs: this.signs, verifies: this.verifies, seconds: this.wallSeconds };
  }

  /** Number of (role, id) keys made so far (keys are made lazily). */
  get keysMade(): number {
    return this.keys.ev.size + this.keys.station.size + this.keys.node.size;
  }

  /** Modeled signature: SHA-512(seed ‖ msg), hashed from a reused scratch buffer. */
  private keyedHash(seed: Buffer, msg: Uint8Array): Buffer {
    const len = 32 + msg.length;
    if (this.macBuf.length < len) this.macBuf = Buffer.alloc(Math.max(len, 2 * this.macBuf.length));
    this.macBuf.set(seed, 0);
    this.macBuf.set(msg, 32);
    return digest('sha512', this.macBuf.subarray(0, len));
  }

  private key(role: KeyRole, id: number): KeyEntry {
    const m = this.keys[role];
    if (m === undefined) throw new RangeError(`codec: unknown key role ${String(role)}`);
    let k = m.get(id);
    if (k === undefined) {
      k = { seed: digest('sha256', Buffer.from(`evsim/${this.seed}/${role}/${id}`, 'utf8')) };
      m.set(id, k);
    }
    return k;
  }

  private realPublic(k: KeyEntry): KeyObject {
    if (k.pubKey === undefined) {
      if (k.priv === undefined) {
        k.priv = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, k.seed]), format: 'der', type: 'pkcs8' });
      }
      k.pubKey = createPublicKey(k.priv);
    }
    return k.pubKey;
  }
}

function u32(x: number, field: string, tx: LedgerTx): number {
  if (!(Number.isInteger(x) && x >= 0 && x <= 0xffffffff)) {
    throw new RangeError(`codec: tx ${tx.id}: ${field} must be an integer in 0..2^32-1, got ${x}`);
  }
  return x;
}

function f64(v: DataView, at: number, x: number): void {
  if (x !== x) {
    // canonical NaN: the bit pattern DataView writes for NaN is implementation-defined
    v.setUint32(at, NAN_BITS_LO, true);
    v.setUint32(at + 4, NAN_BITS_HI, true);
  } else {
    v.setFloat64(at, x, true);
  }
}
