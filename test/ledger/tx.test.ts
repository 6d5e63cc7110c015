import { createHash, createPrivateKey, createPublicKey, verify as edVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { LedgerTx } from '../../src/ledger/ledger.js';
import {
  CodecConfigSchema,
  merkleProof,
  merkleRoot,
  sha256,
  SIGNED_TX_BYTES,
  TX_BODY_BYTES,
  TxCodec,
  verifyMerkleProof,
  type SignedTx,
} from '../../src/ledger/tx.js';

const tx = (over: Partial<LedgerTx> = {}): LedgerTx => ({
  id: 17,
  kind: 'charge',
  sessionId: 4242,
  ev: 99_999,
  station: 311,
  energyKWh: 1.8333333333333333,
  amount: 0,
  powerKW: 11,
  soc: 0.4567,
  submittedAt: 36_060.5,
  ...over,
});

const codec = (mode: 'real' | 'modeled', seed = 1) => new TxCodec({ mode, signCostS: 50e-6, verifyCostS: 120e-6, seed });
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const flip = (b: Uint8Array, i: number): Uint8Array => {
  const c = Uint8Array.from(b);
  c[i]! ^= 1;
  return c;
};

describe('canonical encoding', () => {
  it('has the documented fixed-size little-endian layout', () => {
    const c = codec('modeled');
    const body = c.encode(tx());
    expect(body.length).toBe(TX_BODY_BYTES);
    expect(TX_BODY_BYTES).toBe(58);
    const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
    expect(v.getUint8(0)).toBe(1); // version
    expect(v.getUint8(1)).toBe(1); // charge
    expect(v.getUint32(2, true)).toBe(17);
    expect(v.getUint32(6, true)).toBe(4242);
    expect(v.getUint32(10, true)).toBe(99_999);
    expect(v.getUint32(14, true)).toBe(311);
    expect(v.getFloat64(18, true)).toBe(1.8333333333333333);
    expect(v.getFloat64(26, true)).toBe(0);
    expect(v.getFloat64(34, true)).toBe(11);
    expect(v.getFloat64(42, true)).toBe(0.4567);
    expect(v.getFloat64(50, true)).toBe(36_060.5);
    const kinds = ['session-start', 'charge', 'session-end', 'payment'] as const;
    kinds.forEach((kind, code) => expect(c.encode(tx({ kind }))[1]).toBe(code));
  });

  it('round-trips through decode, NaN soc written canonically', () => {
    const c = codec('modeled');
    for (const t of [tx(), tx({ kind: 'payment', amount: 12.34, soc: NaN, energyKWh: 30 }), tx({ kind: 'session-start', id: 0, ev: 2 ** 32 - 1 })]) {
      const body = c.encode(t);
      expect(c.decode(body)).toEqual(t);
    }
    const body = c.encode(tx({ soc: NaN }));
    expect(hex(body.subarray(42, 50))).toBe('000000000000f87f');
  });

  it('returns a fresh array per call (the scratch buffer is not shared)', () => {
    const c = codec('modeled');
    const a = c.encode(tx({ id: 1 }));
    const b = c.encode(tx({ id: 2 }));
    expect(a[2]).toBe(1);
    expect(b[2]).toBe(2);
  });

  it('rejects fields that do not fit', () => {
    const c = codec('modeled');
    expect(() => c.encode(tx({ id: -1 }))).toThrow(RangeError);
    expect(() => c.encode(tx({ ev: 1.5 }))).toThrow(RangeError);
    expect(() => c.encode(tx({ station: 2 ** 32 }))).toThrow(RangeError);
    expect(() => c.encode(tx({ kind: 'refund' as never }))).toThrow(RangeError);
    expect(() => c.decode(new Uint8Array(10))).toThrow(RangeError);
  });

  it('txid is the hex SHA-256 of the body', () => {
    const c = codec('modeled');
    const s = c.sign(tx());
    expect(s.txid).toBe(createHash('sha256').update(s.body).digest('hex'));
    expect(s.txid).toBe(sha256(s.body).toString('hex'));
    expect(s.size).toBe(SIGNED_TX_BYTES);
    expect(SIGNED_TX_BYTES).toBe(58 + 64 + 32);
  });
});

describe.each(['real', 'modeled'] as const)('%s signatures', (mode) => {
  it('sign/verify, and detect tampering with body, tx, txid or signature', () => {
    const c = codec(mode);
    const s = c.sign(tx());
    expect(s.signature.length).toBe(64);
    expect(c.verify(s)).toBe(true);
    const bad: SignedTx[] = [
      { ...s, body: flip(s.body, 30) },
      { ...s, tx: { ...s.tx, amount: 1 } },
      { ...s, tx: { ...s.tx, ev: 5 } },
      { ...s, signature: flip(s.signature, 0) },
      { ...s, signature: flip(s.signature, 63) },
      { ...s, signature: s.signature.subarray(0, 63) },
      { ...s, txid: s.txid.replace(/^./, (ch) => (ch === '0' ? '1' : '0')) },
    ];
    for (const b of bad) expect(c.verify(b)).toBe(false);
  });

  it('is deterministic: two codecs with the same seed agree, another seed does not', () => {
    const a = codec(mode, 7);
    const b = codec(mode, 7);
    const other = codec(mode, 8);
    const sa = a.sign(tx());
    const sb = b.sign(tx());
    expect(hex(sa.signature)).toBe(hex(sb.signature));
    expect(hex(a.publicKey('ev', 99_999))).toBe(hex(b.publicKey('ev', 99_999)));
    expect(b.verify(sa)).toBe(true);
    expect(hex(other.sign(tx()).signature)).not.toBe(hex(sa.signature));
    expect(other.verify(sa)).toBe(false);
  });

  it('signBytes/verifyBytes per (role, id); keys are made lazily', () => {
    const c = codec(mode);
    expect(c.keysMade).toBe(0);
    const msg = new TextEncoder().encode('block header 17');
    const sig = c.signBytes('node', 3, msg);
    expect(c.verifyBytes('node', 3, msg, sig)).toBe(true);
    expect(c.verifyBytes('node', 4, msg, sig)).toBe(false);
    expect(c.verifyBytes('station', 3, msg, sig)).toBe(false);
    expect(c.verifyBytes('node', 3, flip(msg, 2), sig)).toBe(false);
    const big = new Uint8Array(5000).fill(7); // longer than the scratch buffer
    expect(c.verifyBytes('node', 3, big, c.signBytes('node', 3, big))).toBe(true);
    expect(c.keysMade).toBe(3);
    expect(c.publicKey('ev', 1).length).toBe(32);
    expect(hex(c.publicKey('ev', 1))).not.toBe(hex(c.publicKey('station', 1)));
    const w = c.wallClockStats();
    expect(w.signs).toBe(2);
    expect(w.verifies).toBe(5);
    if (mode === 'real') expect(w.seconds).toBeGreaterThan(0);
    else expect(w.seconds).toBe(0);
  });
});

describe('key derivation', () => {
  it('real: Ed25519 keys from SHA-256(evsim/seed/role/id), verifiable with node:crypto alone', () => {
    const c = codec('real', 3);
    const s = c.sign(tx({ ev: 12 }));
    const raw = c.publicKey('ev', 12);
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]);
    const pub = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    expect(edVerify(null, s.body, pub, s.signature)).toBe(true);
    // the derived public key is the one node:crypto computes from the documented PKCS#8 seed
    const rfc = new TxCodec({ mode: 'real', signCostS: 0, verifyCostS: 0, seed: 0 });
    const seed = createHash('sha256').update('evsim/0/node/0').digest();
    const key = createPublicKey(
      createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' }),
    );
    expect(hex(rfc.publicKey('node', 0))).toBe(hex(key.export({ format: 'der', type: 'spki' }).subarray(12)));
  });

  it('modeled: signature = SHA-512(seed ‖ msg), public key = SHA-256(pub/evsim/seed/role/id)', () => {
    const c = codec('modeled', 5);
    const s = c.sign(tx({ ev: 8 }));
    const seed = createHash('sha256').update('evsim/5/ev/8').digest();
    expect(hex(s.signature)).toBe(createHash('sha512').update(seed).update(s.body).digest('hex'));
    expect(hex(c.publicKey('ev', 8))).toBe(createHash('sha256').update('pub/evsim/5/ev/8').digest('hex'));
  });

  it('CodecConfigSchema defaults and fromConfig', () => {
    expect(CodecConfigSchema.parse({})).toEqual({ mode: 'modeled', signCostUs: 50, verifyCostUs: 120 });
    expect(CodecConfigSchema.safeParse({ mode: 'rsa' }).success).toBe(false);
    expect(CodecConfigSchema.safeParse({ signCostUs: -1 }).success).toBe(false);
    expect(CodecConfigSchema.safeParse({ other: 1 }).success).toBe(false);
    const c = TxCodec.fromConfig({ mode: 'real' }, 9);
    expect(c.mode).toBe('real');
    expect(c.signCostS).toBeCloseTo(50e-6, 15);
    expect(c.verifyCostS).toBeCloseTo(120e-6, 15);
    expect(c.seed).toBe(9);
  });
});

describe('Merkle trees', () => {
  const leaf = (i: number) => createHash('sha256').update(`leaf ${i}`).digest();
  const h = (a: Uint8Array, b: Uint8Array) => createHash('sha256').update(a).update(b).digest();

  it('known vectors: empty, one, two, three (odd duplicates the last), four leaves', () => {
    const [a, b, c, d] = [leaf(0), leaf(1), leaf(2), leaf(3)];
    expect(hex(merkleRoot([]))).toBe('00'.repeat(32));
    expect(hex(merkleRoot([a]))).toBe(hex(a));
    expect(hex(merkleRoot([a, b]))).toBe(hex(h(a, b)));
    expect(hex(merkleRoot([a, b, c]))).toBe(hex(h(h(a, b), h(c, c))));
    expect(hex(merkleRoot([a, b, c, d]))).toBe(hex(h(h(a, b), h(c, d))));
    const five = [a, b, c, d, leaf(4)];
    const e = leaf(4);
    expect(hex(merkleRoot(five))).toBe(hex(h(h(h(a, b), h(c, d)), h(h(e, e), h(e, e)))));
    expect(hex(sha256(a, b))).toBe(hex(h(a, b)));
    expect(hex(sha256())).toBe(createHash('sha256').digest('hex'));
  });

  it('proofs verify for every leaf of trees of 1..17 leaves and fail when altered', () => {
    for (let n = 1; n <= 17; n++) {
      const leaves = Array.from({ length: n }, (_, i) => leaf(100 * n + i));
      const root = merkleRoot(leaves);
      for (let i = 0; i < n; i++) {
        const proof = merkleProof(leaves, i);
        expect(proof.length).toBe(Math.ceil(Math.log2(n)));
        expect(verifyMerkleProof(leaves[i]!, i, proof, root)).toBe(true);
        expect(verifyMerkleProof(flip(leaves[i]!, 0), i, proof, root)).toBe(false);
        expect(verifyMerkleProof(leaves[i]!, i, proof, flip(root, 31))).toBe(false);
        if (proof.length > 0) {
          const bad = proof.slice();
          bad[bad.length - 1] = flip(bad[bad.length - 1]!, 5);
          expect(verifyMerkleProof(leaves[i]!, i, bad, root)).toBe(false);
          expect(verifyMerkleProof(leaves[i]!, i, proof.slice(1), root)).toBe(false);
        }
        // another position (unless its sibling is the leaf itself, the duplicated last node)
        const j = i ^ 1;
        if (j < n) expect(verifyMerkleProof(leaves[i]!, j, proof, root)).toBe(false);
        expect(verifyMerkleProof(leaves[i]!, i + 2 ** proof.length, proof, root)).toBe(false);
      }
    }
    expect(() => merkleProof([leaf(0)], 1)).toThrow(RangeError);
  });

  it('txids as leaves: a changed transaction changes the root', () => {
    const c = codec('modeled');
    const signed = Array.from({ length: 9 }, (_, i) => c.sign(tx({ id: i })));
    const leaves = signed.map((s) => Buffer.from(s.txid, 'hex'));
    const root = merkleRoot(leaves);
    const changed = leaves.slice();
    changed[4] = Buffer.from(c.sign(tx({ id: 4, amount: 1 })).txid, 'hex');
    expect(hex(merkleRoot(changed))).not.toBe(hex(root));
  });
});

describe('speed (information only, no assertions on time)', () => {
  it('prints per-tx encode / sha256 / sign / verify costs', () => {
    const txs = Array.from({ length: 1000 }, (_, i) => tx({ id: i, ev: i % 300 }));
    const line: string[] = [];
    for (const mode of ['modeled', 'real'] as const) {
      const c = codec(mode);
      const n = mode === 'real' ? 5_000 : 50_000;
      for (const t of txs) c.verify(c.sign(t)); // warm-up and key creation
      let t0 = performance.now(); // wall-clock ok: test information only
      for (let i = 0; i < n; i++) c.encode(txs[i % 1000]!);
      const enc = ((performance.now() - t0) * 1000) / n; // wall-clock ok
      const body = c.encode(txs[0]!);
      t0 = performance.now(); // wall-clock ok
      for (let i = 0; i < n; i++) c.txid(body);
      const hash = ((performance.now() - t0) * 1000) / n; // wall-clock ok
      const signed: SignedTx[] = [];
      t0 = performance.now(); // wall-clock ok
      for (let i = 0; i < n; i++) signed.push(c.sign(txs[i % 1000]!));
      const sign = ((performance.now() - t0) * 1000) / n; // wall-clock ok
      t0 = performance.now(); // wall-clock ok
      let ok = 0;
      for (let i = 0; i < n; i++) ok += c.verify(signed[i]!) ? 1 : 0;
      const verify = ((performance.now() - t0) * 1000) / n; // wall-clock ok
      expect(ok).toBe(n);
      line.push(`${mode}: encode ${enc.toFixed(2)} µs, sha256 txid ${hash.toFixed(2)} µs, sign(tx) incl. encode+txid ${sign.toFixed(2)} µs, verify(tx) ${verify.toFixed(2)} µs`);
      if (mode === 'real') {
        const w = c.wallClockStats();
        line.push(`real: node:crypto Ed25519 alone ${((w.seconds / (w.signs + w.verifies)) * 1e6).toFixed(1)} µs per op averaged over ${w.signs} signs + ${w.verifies} verifies`);
      }
    }
    console.log(line.join('\n'));
  });
});
