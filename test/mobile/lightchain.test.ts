import { describe, expect, it } from 'vitest';
import { TxCodec, merkleProof, verifyMerkleProof, sha256 } from '../../src/ledger/tx.js';
import {
  decodeHeader,
  decodeProfile,
  encodeHeader,
  encodeProfile,
  HEADER_BYTES,
  LightChain,
  PROFILE_BODY_BYTES,
  SIGNED_HEADER_BYTES,
  SIGNED_PROFILE_BYTES,
  type SignedProfile,
} from '../../src/ledger/lightchain.js';

const codec = () => new TxCodec({ mode: 'modeled', signCostS: 0, verifyCostS: 0, seed: 7 });

/** 6 vans in 2 groups of 3 (parents 0 and 3), all registered. */
function chain(compactBytes: number | null = null): LightChain {
  const c = new LightChain({ vans: 6, groupSize: 3, codec: codec(), compactBytes });
  for (let v = 0; v < 6; v++) c.authorize(v);
  return c;
}

let nextSession = 0;
/** A van's profile, delivered to its parent and (at t = 0) to the provider. */
function deliver(c: LightChain, van: number, energyKWh: number, final = true, sessionId = nextSession++): SignedProfile {
  const sp = c.signProfile(van, { sessionId, ev: 100 + van, start: 0, end: 600, maxPowerKW: 50, energyKWh, final });
  c.providerReceive(sp, 0);
  c.groups[c.groupOf[van]!]!.pending.push(sp);
  return sp;
}

describe('lightchain encodings', () => {
  it('a profile is 56 bytes (120 signed) and round-trips', () => {
    const p = { groupId: 3, idTag: 9, seq: 4, sessionId: 77, ev: 12, start: 1.5, end: 901.25, maxPowerKW: 50, energyKWh: 12.5, final: true };
    const b = encodeProfile(p);
    expect(b.length).toBe(PROFILE_BODY_BYTES);
    expect(SIGNED_PROFILE_BYTES).toBe(120);
    expect(decodeProfile(b)).toEqual(p);
  });
  it('a header is 124 bytes (188 signed) and round-trips', () => {
    const h = { kind: 1 as const, groupId: 2, height: 5, count: 3, time: 3600, prevHash: sha256(Buffer.from('a')), merkleRoot: sha256(Buffer.from('b')), archiveRoot: sha256(Buffer.from('c')), archivedBlocks: 4 };
    const b = encodeHeader(h);
    expect(b.length).toBe(HEADER_BYTES);
    expect(SIGNED_HEADER_BYTES).toBe(188);
    const d = decodeHeader(b);
    expect(Buffer.from(d.prevHash)).toEqual(h.prevHash);
    expect(d.height).toBe(5);
    expect(d.archivedBlocks).toBe(4);
  });
  it('a van cannot submit before its registration completed', () => {
    const c = new LightChain({ vans: 2, groupSize: 2, codec: codec(), compactBytes: null });
    expect(() => c.signProfile(1, { sessionId: 0, ev: 0, start: 0, end: 1, maxPowerKW: 1, energyKWh: 1, final: true })).toThrow(/before its registration/);
  });
});

describe('Merkle paths (SPV verification)', () => {
  it('a member verifies its own profile; an altered profile fails', () => {
    const c = chain();
    const ps = [deliver(c, 1, 10), deliver(c, 2, 20), deliver(c, 0, 5), deliver(c, 1, 7)];
    const block = c.buildBlock(0, 3600)!;
    const leaves = block.profiles.map((p) => p.leaf);
    for (let i = 0; i < ps.length; i++) {
      expect(verifyMerkleProof(sha256(ps[i]!.body, ps[i]!.sig), i, merkleProof(leaves, i), block.header.merkleRoot)).toBe(true);
    }
    const altered = encodeProfile({ ...ps[1]!.profile, energyKWh: 2 });
    expect(verifyMerkleProof(sha256(altered, ps[1]!.sig), 1, merkleProof(leaves, 1), block.header.merkleRoot)).toBe(false);
    expect(c.spvCheck(block)).toBe(0);
    expect(c.spv.verifications).toBe(3); // members 1 (two profiles) and 2; the parent is a full node
    expect(c.spv.hashOps).toBe(3 * (2 + 2)); // leaf + 2 path levels + header
  });
});

describe('validation, majority and tampering', () => {
  it('an honest block is valid for every validator and is accepted and billed once', () => {
    const c = chain();
    const p = deliver(c, 1, 12.5);
    const block = c.buildBlock(0, 3600)!;
    expect(c.validate(block, 3600, 0.1)).toBe(true);
    expect(c.decide(0, [true], 0, 3601)).toBe(true);
    expect(c.billed.get(p.profile.sessionId)).toMatchObject({ energyKWh: 12.5, finals: 1 });
    expect(c.groups[0]!.pending).toHaveLength(0);
    expect(c.groups[0]!.chain).toHaveLength(1);
  });

  it('a parent that replays an already billed profile is refused: the provider has no unbilled copy of it', () => {
    const c = chain();
    const p = deliver(c, 1, 8);
    c.buildBlock(0, 1);
    expect(c.decide(0, [true], 0, 2)).toBe(true);
    c.groups[0]!.pending.push(p);
    const replay = c.buildBlock(0, 3)!;
    expect(c.validate(replay, 3, 0)).toBe(false);
    expect(c.decide(0, [false], 0, 4)).toBe(false);
    expect(c.billed.get(p.profile.sessionId)!.finals).toBe(1);
  });

  it('a block is added only with more than half of the validations correct', () => {
    const c = new LightChain({ vans: 4, groupSize: 1, codec: codec(), compactBytes: null });
    for (let v = 0; v < 4; v++) c.authorize(v);
    deliver(c, 0, 1);
    c.buildBlock(0, 10);
    expect(c.decide(0, [true, false], 0, 11)).toBe(false); // 1 of 2 is not a majority
    c.buildBlock(0, 20);
    expect(c.decide(0, [true, false, true], 0, 21)).toBe(true);
    expect(c.rejected).toBe(1);
    expect(c.accepted).toBe(1);
  });

  it("a parent that alters a member's profile is caught by validators and the member; the block is rejected and the next one bills honestly", () => {
    const c = chain();
    const p = deliver(c, 1, 20);
    deliver(c, 2, 5);
    const bad = c.buildBlock(0, 3600, true)!;
    expect(bad.profiles[0]!.profile.energyKWh).toBe(10);
    expect(c.validate(bad, 3600, 0)).toBe(false); // the member's signature no longer matches
    expect(c.spvCheck(bad)).toBe(1); // member 1's Merkle check fails
    expect(c.spv.failures).toBe(1);
    expect(c.decide(0, [false], 1, 3601)).toBe(false);
    expect(c.billed.size).toBe(0);
    expect(c.groups[0]!.pending).toHaveLength(2);
    const good = c.buildBlock(0, 7200)!;
    expect(c.validate(good, 7200, 0)).toBe(true);
    expect(c.decide(0, [true], c.spvCheck(good), 7201)).toBe(true);
    expect(c.billed.get(p.profile.sessionId)).toMatchObject({ energyKWh: 20, finals: 1 });
    expect(c.audit()).toEqual([]);
  });

  it('even a majority of dishonest votes cannot add a block a member complains about', () => {
    const c = chain();
    deliver(c, 1, 20);
    const bad = c.buildBlock(0, 1, true)!;
    expect(c.decide(0, [true], c.spvCheck(bad), 2)).toBe(false);
  });

  it('a validator without the provider\'s copy of a profile yet votes invalid', () => {
    const c = chain();
    const p = deliver(c, 1, 3);
    c.providerReceive(p, 100);
    const block = c.buildBlock(0, 50)!;
    expect(c.validate(block, 100.05, 0.1)).toBe(false);
    expect(c.validate(block, 100.2, 0.1)).toBe(true);
  });

  it('a lone group is validated by the provider itself', () => {
    const c = new LightChain({ vans: 2, groupSize: 2, codec: codec(), compactBytes: null });
    c.authorize(0);
    c.authorize(1);
    deliver(c, 1, 4);
    c.buildBlock(0, 1, true);
    expect(c.decide(0, [], 0, 2)).toBe(false);
    c.buildBlock(0, 3);
    expect(c.decide(0, [], 0, 4)).toBe(true);
  });
});

describe('compaction and disputes', () => {
  it('compaction restarts the chain from a charge-list block; a compacted session stays provable', () => {
    const c = chain(1024);
    const first = deliver(c, 1, 11);
    deliver(c, 2, 4);
    c.buildBlock(0, 3600);
    c.decide(0, [true], 0, 3601);
    expect(c.groups[0]!.compactions).toBe(0);
    for (let i = 0; i < 8; i++) deliver(c, 1 + (i % 2), 1 + i);
    const b2 = c.buildBlock(0, 7200)!;
    expect(b2.bytes).toBe(SIGNED_HEADER_BYTES + 8 * SIGNED_PROFILE_BYTES);
    const live = c.storage().parent[0]!;
    c.decide(0, [true], 0, 7201);
    const g = c.groups[0]!;
    expect(g.compactions).toBe(1);
    expect(g.chain).toHaveLength(1);
    const list = g.chain[0]!;
    expect(list.header.kind).toBe(1);
    expect(Buffer.from(list.header.prevHash)).toEqual(b2.hash);
    expect(list.header.height).toBe(2);
    expect(list.entries.map((e) => e.idTag)).toEqual([0, 1, 2]);
    expect(list.entries[1]!.energyKWh).toBeCloseTo(11 + 1 + 3 + 5 + 7, 12);
    expect(list.entries[1]!.sessions).toBe(5);
    expect(g.archive).toHaveLength(2);
    expect(c.storage().parent[0]!).toBeLessThan(live);
    // a dispute on the first (compacted) session: provable to a member holding only the charge-list header
    const proof = c.disputeProof(first.profile.sessionId)!;
    expect(proof.items[0]!.archived).toBeDefined();
    const held = c.heldHeaders(0);
    expect(held.size).toBe(1);
    expect(c.verifyDispute(proof, held, c.chargeList(0))).toEqual({ energyKWh: 11, final: true });
    // a forged claim (a different energy under the van's signature) does not verify
    const forged = { ...proof, items: [{ ...proof.items[0]!, profile: { ...proof.items[0]!.profile, body: encodeProfile({ ...first.profile, energyKWh: 1 }) } }] };
    expect(c.verifyDispute(forged, held, c.chargeList(0))).toBeNull();
    // without the anchor it cannot be proven
    expect(c.verifyDispute(proof, held, undefined)).toBeNull();
    expect(c.audit()).toEqual([]);
  });

  it('the audit finds a corrupted archive', () => {
    const c = chain(1024);
    for (let i = 0; i < 10; i++) deliver(c, 1, 1);
    c.buildBlock(0, 1);
    c.decide(0, [true], 0, 2);
    expect(c.groups[0]!.compactions).toBe(1);
    const archived = c.groups[0]!.archive[0]!;
    archived.profiles[0] = { ...archived.profiles[0]!, body: encodeProfile({ ...archived.profiles[0]!.profile, energyKWh: 99 }) };
    expect(c.audit().join('\n')).toMatch(/group 0 block 0: profile 1\/0 signature invalid/);
  });
});
