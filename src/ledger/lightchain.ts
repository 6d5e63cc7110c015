/**
 * The lightweight chain of mobile chargers (Kim, Kang & Hong, "Mobile charger billing system
 * using lightweight Blockchain", ../shared/papers/004_*.txt; docs/mobile.md).
 *
 * Entities: one service provider (full node, bills from the chain, archives compacted segments),
 * groups of mobile chargers (vans) with a `groupId`; the first van to register a groupId is the
 * group's parent (full node: holds its group's chain in full), the others are SPV nodes (block
 * headers only, plus their own profiles and Merkle paths). This file is the data and the rules;
 * src/simulation/mobile.ts moves the messages over the network model with their latencies.
 *
 * Fixed binary encodings (little-endian, no padding), sizes in bytes:
 *
 *   charge profile body (PROFILE_BODY_BYTES = 56)
 *     0 u8 version  1 u8 flags (bit 0: final profile of its session)  2 u16 groupId  4 u32 idTag
 *     8 u32 seq (per van)  12 u32 sessionId  16 u32 ev  20 f64 start  28 f64 end
 *    36 f64 maxPowerKW  44 f64 energyKWh  52 u32 reserved (0)
 *   signed profile = body + 64-byte signature of the van (SIGNED_PROFILE_BYTES = 120);
 *   its leaf = SHA-256(body ‖ signature)
 *
 *   block header (HEADER_BYTES = 124)
 *     0 u8 version  1 u8 kind (0 group block, 1 charge-list block)  2 u16 groupId  4 u32 height
 *     8 u32 count (profiles or entries)  12 f64 time  20 32B prevHash  52 32B merkleRoot
 *    84 32B archiveRoot (charge-list: Merkle root of every archived block hash of the group; else 0)
 *   116 u32 archivedBlocks  120 u32 reserved
 *   signed header = header + 64-byte signature (SIGNED_HEADER_BYTES = 188): the parent's for a
 *   group block, the provider's for a charge-list block. Block hash = SHA-256(header).
 *   group block = signed header + its signed profiles; charge-list block = signed header +
 *   LIST_ENTRY_BYTES = 48 per member (u32 idTag, u32 sessions billed, f64 energy billed kWh,
 *   32B hash of the member's last transaction: the leaf of its last billed profile).
 *
 * Rules:
 *   - validation (by every other group's parent): the parent's signature on the header; prevHash =
 *     the group's accepted head; merkleRoot = root of the leaves; every profile signed by its
 *     idTag's key, idTag a member of the group, and the same leaf as the copy the provider
 *     forwarded beforehand (a copy that has not arrived by then fails the check).
 *   - SPV check (every member with a profile in the block): its own retained profile's leaf, the
 *     Merkle path the provider sends and the header's root: verifyMerkleProof. Cost counted as
 *     hash operations (1 leaf + path length + 1 header) and bytes (path + header).
 *   - a block is added when more than half of the validators report it valid and no member
 *     reports a failed Merkle check (a group alone validates itself at the provider);
 *     otherwise it is rejected and its profiles stay pending at the parent for its next block.
 *   - billing: the provider adds each accepted profile's energy to its session; a session is
 *     billed when its final profile is accepted (exactly once, audited).
 *   - compaction: when a group's live chain exceeds `compactBytes`, the provider archives the
 *     segment and sends the parent a charge-list block (height continues, prevHash = the last
 *     block's hash, archiveRoot over all archived block hashes); the group's chain restarts from
 *     it. SPV members keep only its header and their own entry with its Merkle path.
 *   - disputes: see disputeProof()/verifyDispute(): a compacted session stays provable from the
 *     provider's archive to anyone holding the latest charge-list header.
 */
import { merkleProof, merkleRoot, sha256, verifyMerkleProof, type TxCodec } from './tx.js';

export const PROFILE_BODY_BYTES = 56;
export const SIGNATURE_BYTES = 64;
export const SIGNED_PROFILE_BYTES = PROFILE_BODY_BYTES + SIGNATURE_BYTES;
export const HEADER_BYTES = 124;
export const SIGNED_HEADER_BYTES = HEADER_BYTES + SIGNATURE_BYTES;
export const LIST_ENTRY_BYTES = 48;
/** every message: u8 type, u8 version, u16 groupId, u32 idTag */
export const MSG_HEADER_BYTES = 8;
/** Message sizes (bytes on the wire, MSG_HEADER_BYTES included). */
export const MESSAGE_BYTES = {
  /** idTag, groupId */
  Register: MSG_HEADER_BYTES,
  /** idTagInfo: f64 interval, f64 currentTime, u8 status */
  RegisterAck: MSG_HEADER_BYTES + 17,
  /** u32 idTag of the charger to add */
  CheckAuth: MSG_HEADER_BYTES + 4,
  /** + u8 status */
  CheckAuthAck: MSG_HEADER_BYTES + 5,
  /** idTag signed by the joining charger */
  Authorize: MSG_HEADER_BYTES + SIGNATURE_BYTES,
  /** u8 status */
  AuthorizeAck: MSG_HEADER_BYTES + 1,
  ChargeProfile: MSG_HEADER_BYTES + SIGNED_PROFILE_BYTES,
  /** 32B block hash, u8 valid, signature */
  Validation: MSG_HEADER_BYTES + 32 + 1 + SIGNATURE_BYTES,
  /** 32B block hash, u8 result */
  Decision: MSG_HEADER_BYTES + 33,
} as const;
export type MessageType = keyof typeof MESSAGE_BYTES | 'Block' | 'ForwardProfile' | 'HeaderPaths' | 'ChargeList';

/** The provider's signing key id (codec role 'node'); vans sign as 'node' with their idTag. */
export const PROVIDER_KEY = 0xfffffff0;
const VERSION = 1;

export interface Profile {
  groupId: number;
  idTag: number;
  seq: number;
  sessionId: number;
  ev: number;
  start: number;
  end: number;
  maxPowerKW: number;
  energyKWh: number;
  final: boolean;
}

export interface SignedProfile {
  profile: Profile;
  body: Uint8Array;
  sig: Uint8Array;
  leaf: Buffer;
  /** when the provider received its copy (set by the transport; Infinity until then) */
  providerAt: number;
}

export interface BlockHeader {
  kind: 0 | 1;
  groupId: number;
  height: number;
  count: number;
  time: number;
  prevHash: Uint8Array;
  merkleRoot: Uint8Array;
  archiveRoot: Uint8Array;
  archivedBlocks: number;
}

export interface ListEntry {
  idTag: number;
  sessions: number;
  energyKWh: number;
  lastTx: Uint8Array;
}

export interface Block {
  header: BlockHeader;
  headerBytes: Uint8Array;
  sig: Uint8Array;
  hash: Buffer;
  profiles: SignedProfile[];
  entries: ListEntry[];
  /** bytes of the whole block: signed header + body */
  bytes: number;
}

const ZERO32 = new Uint8Array(32);

export function encodeProfile(p: Profile): Uint8Array {
  const b = new Uint8Array(PROFILE_BODY_BYTES);
  const v = new DataView(b.buffer);
  v.setUint8(0, VERSION);
  v.setUint8(1, p.final ? 1 : 0);
  v.setUint16(2, p.groupId, true);
  v.setUint32(4, p.idTag, true);
  v.setUint32(8, p.seq, true);
  v.setUint32(12, p.sessionId, true);
  v.setUint32(16, p.ev, true);
  v.setFloat64(20, p.start, true);
  v.setFloat64(28, p.end, true);
  v.setFloat64(36, p.maxPowerKW, true);
  v.setFloat64(44, p.energyKWh, true);
  return b;
}

export function decodeProfile(b: Uint8Array): Profile {
  if (b.length !== PROFILE_BODY_BYTES) throw new RangeError(`lightchain: a profile body is ${PROFILE_BODY_BYTES} bytes, got ${b.length}`);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    final: (v.getUint8(1) & 1) === 1,
    groupId: v.getUint16(2, true),
    idTag: v.getUint32(4, true),
    seq: v.getUint32(8, true),
    sessionId: v.getUint32(12, true),
    ev: v.getUint32(16, true),
    start: v.getFloat64(20, true),
    end: v.getFloat64(28, true),
    maxPowerKW: v.getFloat64(36, true),
    energyKWh: v.getFloat64(44, true),
  };
}

export function encodeHeader(h: BlockHeader): Uint8Array {
  const b = new Uint8Array(HEADER_BYTES);
  const v = new DataView(b.buffer);
  v.setUint8(0, VERSION);
  v.setUint8(1, h.kind);
  v.setUint16(2, h.groupId, true);
  v.setUint32(4, h.height, true);
  v.setUint32(8, h.count, true);
  v.setFloat64(12, h.time, true);
  b.set(h.prevHash, 20);
  b.set(h.merkleRoot, 52);
  b.set(h.archiveRoot, 84);
  v.setUint32(116, h.archivedBlocks, true);
  return b;
}

export function decodeHeader(b: Uint8Array): BlockHeader {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    kind: v.getUint8(1) as 0 | 1,
    groupId: v.getUint16(2, true),
    height: v.getUint32(4, true),
    count: v.getUint32(8, true),
    time: v.getFloat64(12, true),
    prevHash: b.slice(20, 52),
    merkleRoot: b.slice(52, 84),
    archiveRoot: b.slice(84, 116),
    archivedBlocks: v.getUint32(116, true),
  };
}

export function encodeEntry(e: ListEntry): Uint8Array {
  const b = new Uint8Array(LIST_ENTRY_BYTES);
  const v = new DataView(b.buffer);
  v.setUint32(0, e.idTag, true);
  v.setUint32(4, e.sessions, true);
  v.setFloat64(8, e.energyKWh, true);
  b.set(e.lastTx, 16);
  return b;
}

function eq(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** SPV verification cost: hash operations and bytes received, summed. */
export interface SpvCost {
  verifications: number;
  failures: number;
  hashOps: number;
  bytes: number;
}

export interface Group {
  id: number;
  /** van indices (= idTags); members[0] is the parent */
  members: number[];
  /** live chain segment held by the parent (and by the provider) */
  chain: Block[];
  liveBytes: number;
  /** profiles received by the parent, not yet in an accepted block (arrival order) */
  pending: SignedProfile[];
  /** the block built and not yet decided (the parent builds one at a time) */
  inFlight: Block | null;
  built: number;
  /** provider's archive of compacted blocks (all segments) and its byte count */
  archive: Block[];
  archiveBytes: number;
  compactions: number;
}

export interface DisputeItem {
  profile: SignedProfile;
  headerBytes: Uint8Array;
  index: number;
  path: Uint8Array[];
  /** archived block: the index of its hash among the group's archived hashes and the path to the
   * archiveRoot of the latest charge-list block */
  archived?: { index: number; path: Uint8Array[] };
}

export interface DisputeProof {
  sessionId: number;
  items: DisputeItem[];
}

export interface Billed {
  energyKWh: number;
  finals: number;
  profiles: number;
  billedAt: number;
}

export interface LightChainOptions {
  vans: number;
  groupSize: number;
  codec: TxCodec;
  /** live-chain bytes above which the provider compacts a group; null: never */
  compactBytes: number | null;
}

export class LightChain {
  readonly groups: Group[] = [];
  readonly groupOf: Int32Array;
  readonly codec: TxCodec;
  private readonly compactBytes: number | null;
  private readonly seq: Uint32Array;
  /** per van: registered with the provider, authorised by its parent */
  readonly authorized: Uint8Array;
  /** SPV storage per van (members only): headers held, own profile + path bytes */
  private readonly spvHeaders: Int32Array;
  private readonly spvOwnBytes: Float64Array;
  /** provider's billing book */
  readonly billed = new Map<number, Billed>();
  /** provider's per-member totals (for charge-list blocks): energy, sessions, last leaf */
  private readonly memberEnergy: Float64Array;
  private readonly memberSessions: Int32Array;
  private readonly memberLast: Uint8Array[];
  /** each SPV member's own profiles not yet in an accepted block (what it checks Merkle paths against) */
  private readonly unconfirmed: SignedProfile[][];
  /** the provider's copies of profiles received and not yet billed (by leaf, hex); what it forwards to validators */
  private readonly providerCopies = new Map<string, SignedProfile>();
  /** sessionId -> where its profiles are (block, leaf index) */
  private readonly where = new Map<number, { block: Block; index: number }[]>();
  readonly messages = new Map<MessageType, { count: number; bytes: number }>();
  readonly spv: SpvCost = { verifications: 0, failures: 0, hashOps: 0, bytes: 0 };
  accepted = 0;
  rejected = 0;
  validations = 0;
  invalidVotes = 0;
  memberComplaints = 0;
  tampered = 0;

  constructor(opts: LightChainOptions) {
    const V = opts.vans;
    if (!(Number.isInteger(V) && V >= 1 && V <= 65535)) throw new RangeError(`lightchain: vans must be an integer in 1..65535, got ${V}`);
    if (!(Number.isInteger(opts.groupSize) && opts.groupSize >= 1)) throw new RangeError(`lightchain: groupSize must be an integer >= 1, got ${opts.groupSize}`);
    this.codec = opts.codec;
    this.compactBytes = opts.compactBytes;
    this.groupOf = new Int32Array(V);
    this.seq = new Uint32Array(V);
    this.authorized = new Uint8Array(V);
    this.spvHeaders = new Int32Array(V);
    this.spvOwnBytes = new Float64Array(V);
    this.memberEnergy = new Float64Array(V);
    this.memberSessions = new Int32Array(V);
    this.memberLast = Array.from({ length: V }, () => ZERO32);
    this.unconfirmed = Array.from({ length: V }, () => []);
    for (let v = 0; v < V; v++) {
      const g = Math.floor(v / opts.groupSize);
      this.groupOf[v] = g;
      if (!this.groups[g]) {
        this.groups[g] = { id: g, members: [], chain: [], liveBytes: 0, pending: [], inFlight: null, built: 0, archive: [], archiveBytes: 0, compactions: 0 };
      }
      this.groups[g]!.members.push(v);
    }
  }

  count(type: MessageType, bytes: number): void {
    const m = this.messages.get(type);
    if (m) {
      m.count++;
      m.bytes += bytes;
    } else this.messages.set(type, { count: 1, bytes });
  }

  isParent(van: number): boolean {
    return this.groups[this.groupOf[van]!]!.members[0] === van;
  }

  parentOf(van: number): number {
    return this.groups[this.groupOf[van]!]!.members[0]!;
  }

  /** The registration sequence has completed for `van` (Register/RegisterAck and, for a member,
   * CheckAuth/CheckAuthAck at its parent and Authorize/AuthorizeAck): it may submit profiles. */
  authorize(van: number): void {
    this.authorized[van] = 1;
  }

  /** The van signs a charge profile (seq assigned here). */
  signProfile(van: number, p: Omit<Profile, 'groupId' | 'idTag' | 'seq'>): SignedProfile {
    if (!this.authorized[van]) throw new Error(`lightchain: van ${van} submits a profile before its registration completed`);
    const profile: Profile = { ...p, groupId: this.groupOf[van]!, idTag: van, seq: this.seq[van]!++ };
    const body = encodeProfile(profile);
    const sig = this.codec.signBytes('node', van, body);
    const leaf = sha256(body, sig);
    const sp: SignedProfile = { profile, body, sig, leaf, providerAt: Infinity };
    if (!this.isParent(van)) {
      this.spvOwnBytes[van]! += SIGNED_PROFILE_BYTES;
      this.unconfirmed[van]!.push(sp);
    }
    return sp;
  }

  /** The provider received its copy of a profile at time t (it forwards it to the other groups' parents). */
  providerReceive(sp: SignedProfile, t: number): void {
    sp.providerAt = t;
    this.providerCopies.set(sp.leaf.toString('hex'), sp);
  }

  /** The parent of `group` builds a block from the profiles it holds (null: none pending or one in
   * flight). `tamper`: the parent alters the energy of the block's first profile (keeping the
   * member's signature), the fault of the paper's §IV. */
  buildBlock(group: number, time: number, tamper = false): Block | null {
    const g = this.groups[group]!;
    if (g.inFlight || g.pending.length === 0) return null;
    let profiles = g.pending.slice();
    if (tamper) {
      const o = profiles[0]!;
      const altered: Profile = { ...o.profile, energyKWh: o.profile.energyKWh * 0.5 };
      const body = encodeProfile(altered);
      profiles = [{ profile: altered, body, sig: o.sig, leaf: sha256(body, o.sig), providerAt: o.providerAt }, ...profiles.slice(1)];
      this.tampered++;
    }
    const head = g.chain[g.chain.length - 1];
    const header: BlockHeader = {
      kind: 0,
      groupId: group,
      height: head ? head.header.height + 1 : 0,
      count: profiles.length,
      time,
      prevHash: head ? head.hash : ZERO32,
      merkleRoot: merkleRoot(profiles.map((p) => p.leaf)),
      archiveRoot: ZERO32,
      archivedBlocks: 0,
    };
    const headerBytes = encodeHeader(header);
    const sig = this.codec.signBytes('node', g.members[0]!, headerBytes);
    const block: Block = { header, headerBytes, sig, hash: sha256(headerBytes), profiles, entries: [], bytes: SIGNED_HEADER_BYTES + profiles.length * SIGNED_PROFILE_BYTES };
    g.inFlight = block;
    g.built++;
    return block;
  }

  /** Validation of a group block by another group's parent at time t (copies forwarded by the
   * provider take `forwardS` to reach it). */
  validate(block: Block, t: number, forwardS: number): boolean {
    this.validations++;
    const ok = this.checkBlock(block, (p) => p.providerAt + forwardS <= t);
    if (!ok) this.invalidVotes++;
    return ok;
  }

  private checkBlock(block: Block, copyArrived: (p: SignedProfile) => boolean): boolean {
    const g = this.groups[block.header.groupId];
    if (!g) return false;
    if (!this.codec.verifyBytes('node', g.members[0]!, block.headerBytes, block.sig)) return false;
    const head = g.chain[g.chain.length - 1];
    if (!eq(block.header.prevHash, head ? head.hash : ZERO32)) return false;
    if (block.header.count !== block.profiles.length) return false;
    if (!eq(block.header.merkleRoot, merkleRoot(block.profiles.map((p) => p.leaf)))) return false;
    for (const p of block.profiles) {
      if (this.groupOf[p.profile.idTag] !== g.id) return false;
      if (!this.codec.verifyBytes('node', p.profile.idTag, p.body, p.sig)) return false;
      if (!eq(p.leaf, sha256(p.body, p.sig))) return false;
      // the copy the provider forwarded: it must exist (not billed yet, not invented) and have arrived
      const copy = this.providerCopies.get(p.leaf.toString('hex'));
      if (!copy || !copyArrived(copy)) return false;
    }
    return true;
  }

  /** SPV check of every member with a profile in the candidate block: its own retained copy of
   * each profile the block claims (same idTag and seq) against the header's Merkle root, with the
   * path the provider sends. Returns the number of members whose check failed (complaints). */
  spvCheck(block: Block): number {
    const g = this.groups[block.header.groupId]!;
    const leaves = block.profiles.map((p) => p.leaf);
    let failures = 0;
    const claimed = new Set(block.profiles.map((q) => `${q.profile.idTag}/${q.profile.seq}`));
    for (const van of g.members.slice(1)) {
      // the member's own copies of the profiles the block claims; others are checked when included
      const mine = this.unconfirmed[van]!.filter((p) => claimed.has(`${van}/${p.profile.seq}`));
      if (mine.length === 0) continue;
      let memberFailed = false;
      for (const p of mine) {
        // the provider sends the path of the leaf at the position of this profile's seq in the block
        const i = block.profiles.findIndex((q) => q.profile.idTag === van && q.profile.seq === p.profile.seq);
        const path = merkleProof(leaves, i);
        const leaf = sha256(p.body, p.sig);
        const ok = verifyMerkleProof(leaf, i, path, block.header.merkleRoot) && eq(sha256(block.headerBytes), block.hash);
        this.spv.verifications++;
        this.spv.hashOps += 2 + path.length;
        this.spv.bytes += 5 + 32 * path.length;
        if (!ok) {
          this.spv.failures++;
          memberFailed = true;
        }
      }
      this.spv.bytes += SIGNED_HEADER_BYTES;
      if (memberFailed) failures++;
    }
    return failures;
  }

  /** The provider's decision on the in-flight block of `group` with the validators' votes and the
   * members' complaints. Accept: the chain grows, profiles are billed, storage is updated, the
   * group may be compacted. Reject: profiles stay pending. */
  decide(group: number, votes: boolean[], complaints: number, t: number): boolean {
    const g = this.groups[group]!;
    const block = g.inFlight;
    if (!block) throw new Error(`lightchain: group ${group} has no block in flight`);
    g.inFlight = null;
    let ok: boolean;
    if (votes.length === 0) ok = this.checkBlock(block, () => true); // a lone group: the provider validates
    else ok = votes.filter(Boolean).length * 2 > votes.length;
    this.memberComplaints += complaints;
    if (complaints > 0) ok = false;
    if (!ok) {
      this.rejected++;
      return false;
    }
    this.accepted++;
    g.chain.push(block);
    g.liveBytes += block.bytes;
    const inBlock = new Set(block.profiles.map((p) => p.leaf.toString('hex')));
    g.pending = g.pending.filter((p) => !inBlock.has(p.leaf.toString('hex')));
    for (const h of inBlock) this.providerCopies.delete(h); // billed: a replay of it is refused
    for (const m of g.members.slice(1)) if (this.unconfirmed[m]!.length) this.unconfirmed[m] = this.unconfirmed[m]!.filter((p) => !inBlock.has(p.leaf.toString('hex')));
    const depth = block.profiles.length > 1 ? Math.ceil(Math.log2(block.profiles.length)) : 0; // Merkle path length
    block.profiles.forEach((p, i) => {
      const pr = p.profile;
      let b = this.billed.get(pr.sessionId);
      if (!b) this.billed.set(pr.sessionId, (b = { energyKWh: 0, finals: 0, profiles: 0, billedAt: NaN }));
      b.energyKWh += pr.energyKWh;
      b.profiles++;
      this.memberEnergy[pr.idTag]! += pr.energyKWh;
      this.memberLast[pr.idTag] = p.leaf;
      if (pr.final) {
        b.finals++;
        b.billedAt = t;
        this.memberSessions[pr.idTag]!++;
      }
      let w = this.where.get(pr.sessionId);
      if (!w) this.where.set(pr.sessionId, (w = []));
      w.push({ block, index: i });
      if (!this.isParent(pr.idTag)) this.spvOwnBytes[pr.idTag]! += 5 + 32 * depth;
    });
    for (const m of g.members) if (m !== g.members[0]) this.spvHeaders[m]!++;
    if (this.compactBytes !== null && g.liveBytes > this.compactBytes) this.compact(group, t);
    return true;
  }

  /** Compaction (the paper's Algorithm 1): archive the live segment, restart from a charge-list block. */
  compact(group: number, t: number): Block {
    const g = this.groups[group]!;
    const last = g.chain[g.chain.length - 1]!;
    for (const b of g.chain) {
      g.archive.push(b);
      g.archiveBytes += b.bytes;
    }
    const entries: ListEntry[] = g.members.map((m) => ({ idTag: m, sessions: this.memberSessions[m]!, energyKWh: this.memberEnergy[m]!, lastTx: this.memberLast[m]! }));
    const entryLeaves = entries.map((e) => sha256(encodeEntry(e)));
    const header: BlockHeader = {
      kind: 1,
      groupId: group,
      height: last.header.height + 1,
      count: entries.length,
      time: t,
      prevHash: last.hash,
      merkleRoot: merkleRoot(entryLeaves),
      archiveRoot: merkleRoot(g.archive.map((b) => b.hash)),
      archivedBlocks: g.archive.length,
    };
    const headerBytes = encodeHeader(header);
    const sig = this.codec.signBytes('node', PROVIDER_KEY, headerBytes);
    const block: Block = { header, headerBytes, sig, hash: sha256(headerBytes), profiles: [], entries, bytes: SIGNED_HEADER_BYTES + entries.length * LIST_ENTRY_BYTES };
    g.chain = [block];
    g.liveBytes = block.bytes;
    g.compactions++;
    const depth = merkleProof(entryLeaves, 0).length;
    for (const m of g.members) {
      if (m === g.members[0]) continue;
      this.spvHeaders[m] = 1;
      this.spvOwnBytes[m] = LIST_ENTRY_BYTES + 5 + 32 * depth;
    }
    return block;
  }

  /** The latest charge-list block of a group (undefined before its first compaction). */
  chargeList(group: number): Block | undefined {
    const b = this.groups[group]!.chain[0];
    return b && b.header.kind === 1 ? b : undefined;
  }

  /** The header hashes a member of `group` holds (SPV: its chain's headers). */
  heldHeaders(group: number): Set<string> {
    return new Set(this.groups[group]!.chain.map((b) => b.hash.toString('hex')));
  }

  /**
   * The provider's proof that session `sessionId` was charged: each of its profiles (signed by the
   * van), its block's header, its leaf index and Merkle path; for an archived (compacted) block
   * also the path of that block's hash to the archiveRoot of the group's latest charge-list block.
   */
  disputeProof(sessionId: number): DisputeProof | null {
    const w = this.where.get(sessionId);
    if (!w) return null;
    const items: DisputeItem[] = [];
    for (const { block, index } of w) {
      const g = this.groups[block.header.groupId]!;
      const item: DisputeItem = { profile: block.profiles[index]!, headerBytes: block.headerBytes, index, path: merkleProof(block.profiles.map((p) => p.leaf), index) };
      if (!g.chain.includes(block)) {
        const ai = g.archive.indexOf(block);
        item.archived = { index: ai, path: merkleProof(g.archive.map((b) => b.hash), ai) };
      }
      items.push(item);
    }
    return { sessionId, items };
  }

  /**
   * Verify a dispute proof as a party holding the headers `held` (block hashes, hex) of the
   * group's live chain, whose first may be a charge-list block (`anchor`, with its provider
   * signature checked). Returns the proven energy, or null when any part fails.
   */
  verifyDispute(proof: DisputeProof, held: Set<string>, anchor?: Block): { energyKWh: number; final: boolean } | null {
    if (anchor && !this.codec.verifyBytes('node', PROVIDER_KEY, anchor.headerBytes, anchor.sig)) return null;
    let energy = 0;
    let final = false;
    for (const it of proof.items) {
      const p = it.profile;
      const pr = decodeProfile(p.body);
      if (pr.sessionId !== proof.sessionId) return null;
      if (!this.codec.verifyBytes('node', pr.idTag, p.body, p.sig)) return null;
      const h = decodeHeader(it.headerBytes);
      if (!verifyMerkleProof(sha256(p.body, p.sig), it.index, it.path, h.merkleRoot)) return null;
      const hh = sha256(it.headerBytes);
      if (it.archived) {
        if (!anchor || anchor.header.groupId !== h.groupId) return null;
        if (!verifyMerkleProof(hh, it.archived.index, it.archived.path, anchor.header.archiveRoot)) return null;
      } else if (!held.has(hh.toString('hex'))) return null;
      energy += pr.energyKWh;
      final ||= pr.final;
    }
    return { energyKWh: energy, final };
  }

  /** Bytes stored now: each parent's live chain; each SPV member's headers and own records; the
   * provider's live chains, archives and billing book. */
  storage(): { parent: number[]; spv: number[]; providerLive: number; providerArchive: number } {
    const parent: number[] = [];
    const spv: number[] = [];
    let live = 0;
    let archive = 0;
    for (const g of this.groups) {
      parent.push(g.liveBytes);
      live += g.liveBytes;
      archive += g.archiveBytes;
      for (const m of g.members.slice(1)) spv.push(this.spvHeaders[m]! * SIGNED_HEADER_BYTES + this.spvOwnBytes[m]!);
    }
    return { parent, spv, providerLive: live, providerArchive: archive };
  }

  /**
   * Integrity audit of everything stored: each live chain links (prevHash) and its roots match its
   * bodies and signatures; each charge-list block's archiveRoot matches the archive; every
   * accepted profile's signature holds. Returns one line per problem.
   */
  audit(): string[] {
    const out: string[] = [];
    for (const g of this.groups) {
      const all = [...g.archive, ...g.chain];
      for (let i = 0; i < all.length; i++) {
        const b = all[i]!;
        const where = `group ${g.id} block ${b.header.height}`;
        if (!eq(sha256(b.headerBytes), b.hash)) out.push(`${where}: hash does not match its header`);
        if (i > 0 && !eq(b.header.prevHash, all[i - 1]!.hash)) out.push(`${where}: prevHash does not link to the previous block`);
        if (b.header.kind === 0) {
          if (!this.codec.verifyBytes('node', g.members[0]!, b.headerBytes, b.sig)) out.push(`${where}: parent signature invalid`);
          if (!eq(b.header.merkleRoot, merkleRoot(b.profiles.map((p) => p.leaf)))) out.push(`${where}: Merkle root does not match its profiles`);
          for (const p of b.profiles) if (!this.codec.verifyBytes('node', p.profile.idTag, p.body, p.sig)) out.push(`${where}: profile ${p.profile.idTag}/${p.profile.seq} signature invalid`);
        } else {
          if (!this.codec.verifyBytes('node', PROVIDER_KEY, b.headerBytes, b.sig)) out.push(`${where}: provider signature invalid`);
          const archived = g.archive.slice(0, b.header.archivedBlocks).map((x) => x.hash);
          if (!eq(b.header.archiveRoot, merkleRoot(archived))) out.push(`${where}: archiveRoot does not match the archive`);
        }
      }
    }
    return out;
  }
}
