/**
 * Named, seeded random streams. Every component draws from its own stream, derived from the
 * scenario seed and the component's name ("demand", "fleet", "choice", ...), so adding draws in
 * one component never shifts another's numbers: two ledger backends see exactly the same city day
 * (common random numbers). The generator is seedrandom's Alea (fast, 2^116 period); the stream
 * seed is the string `${seed}/${name}`. Math.random is never used in simulation code.
 */
import seedrandom from 'seedrandom';

export class Rng {
  private readonly g: () => number;
  constructor(readonly name: string, seed: string) {
    this.g = seedrandom.alea(seed);
  }
  /** Uniform in [0, 1). */
  next(): number {
    return this.g();
  }
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.g();
  }
  /** Integer uniform in [0, n). */
  int(n: number): number {
    return Math.floor(this.g() * n);
  }
  /** Exponential with the given mean. */
  exp(mean: number): number {
    return -mean * Math.log(1 - this.g());
  }
  /** Standard normal (Box–Muller, one value per call; deterministic). */
  normal(mean = 0, sd = 1): number {
    let u = this.g();
    while (u === 0) u = this.g();
    const v = this.g();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

export class Streams {
  private readonly made = new Map<string, Rng>();
  constructor(readonly seed: number) {}
  /** The stream for a component; the same name always returns the same stream object. */
  stream(name: string): Rng {
    let r = this.made.get(name);
    if (!r) {
      r = new Rng(name, `${this.seed}/${name}`);
      this.made.set(name, r);
    }
    return r;
  }
}
