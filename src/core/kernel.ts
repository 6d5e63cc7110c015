/**
 * Discrete-event kernel: a priority queue of events on simulated time (seconds, float64).
 *
 * Ordering — the documented contract every model relies on:
 *   events run in ascending (time, priority, sequence) order, where `priority` is a small
 *   non-negative integer (lower runs first, see src/core/priorities.ts for the project's table) and
 *   `sequence` is the insertion counter, so same-time, same-priority events run first-scheduled-
 *   first-run. Nothing depends on object identity, hash order or the wall clock.
 *
 * Data layout (hot path): a binary min-heap held in parallel typed arrays (time, packed
 * priority/sequence key, slot). Each pending event owns a slot holding its kind (an integer id of a
 * registered handler) and two float64 arguments, so scheduling allocates nothing. Cancellation is
 * lazy and O(1): the slot is marked and the event is skipped when it reaches the top.
 * Handles encode (generation, slot) so that a stale handle never cancels a reused slot.
 */

/** Handler of a registered event kind; receives the two numeric arguments given at scheduling. */
export type Handler = (a: number, b: number) => void;

const SEQ_BITS = 2 ** 40; // sequence numbers below 2^40 (~1.1e12 events per run)
const MAX_PRIORITY = 4095; // priority * 2^40 + seq stays below 2^53
const SLOT_CAP = 2 ** 24; // at most ~16.7 M events pending at once
const CANCELLED = -1;
const CLOSURE = 0;

export type EventHandle = number;

export class Kernel {
  /** Current simulated time in seconds. */
  now = 0;
  /** Number of events executed so far (cancelled events are not counted). */
  executed = 0;

  private cap: number;
  private size = 0;
  private seq = 0;
  // heap arrays (position-indexed)
  private hTime: Float64Array;
  private hKey: Float64Array;
  private hSlot: Int32Array;
  // slot arrays (slot-indexed)
  private sKind: Int32Array;
  private sGen: Int32Array;
  private sA: Float64Array;
  private sB: Float64Array;
  private sFn: Array<(() => void) | undefined>;
  private freeSlots: Int32Array;
  private freeTop = 0;
  private nextSlot = 0;

  private handlers: Handler[] = [() => undefined];
  private handlerNames: string[] = ['closure'];
  private stopped = false;

  constructor(initialCapacity = 1024) {
    this.cap = Math.max(16, initialCapacity);
    this.hTime = new Float64Array(this.cap);
    this.hKey = new Float64Array(this.cap);
    this.hSlot = new Int32Array(this.cap);
    this.sKind = new Int32Array(this.cap);
    this.sGen = new Int32Array(this.cap);
    this.sA = new Float64Array(this.cap);
    this.sB = new Float64Array(this.cap);
    this.sFn = new Array(this.cap);
    this.freeSlots = new Int32Array(this.cap);
  }

  /** Register a handler for an event kind; returns the kind id to schedule with. */
  register(name: string, handler: Handler): number {
    this.handlers.push(handler);
    this.handlerNames.push(name);
    return this.handlers.length - 1;
  }

  /** Number of events pending (cancelled ones still waiting to be skipped included). */
  get pending(): number {
    return this.size;
  }

  /** Schedule an event of a registered kind at absolute time `time`. */
  schedule(time: number, priority: number, kind: number, a = 0, b = 0): EventHandle {
    if (!(time >= this.now)) {
      throw new RangeError(`cannot schedule at t=${time}: before now (${this.now}) or not a number`);
    }
    if (priority < 0 || priority > MAX_PRIORITY || (priority | 0) !== priority) {
      throw new RangeError(`priority must be an integer in 0..${MAX_PRIORITY}, got ${priority}`);
    }
    if (kind <= 0 || kind >= this.handlers.length) throw new RangeError(`unknown event kind ${kind}`);
    const slot = this.allocSlot();
    this.sKind[slot] = kind;
    this.sA[slot] = a;
    this.sB[slot] = b;
    this.push(time, priority * SEQ_BITS + this.seq++, slot);
    return this.sGen[slot]! * SLOT_CAP + slot;
  }

  /** Schedule a closure (convenient for rare events; hot paths should use registered kinds). */
  at(time: number, priority: number, fn: () => void): EventHandle {
    if (!(time >= this.now)) {
      throw new RangeError(`cannot schedule at t=${time}: before now (${this.now}) or not a number`);
    }
    if (priority < 0 || priority > MAX_PRIORITY || (priority | 0) !== priority) {
      throw new RangeError(`priority must be an integer in 0..${MAX_PRIORITY}, got ${priority}`);
    }
    const slot = this.allocSlot();
    this.sKind[slot] = CLOSURE;
    this.sFn[slot] = fn;
    this.push(time, priority * SEQ_BITS + this.seq++, slot);
    return this.sGen[slot]! * SLOT_CAP + slot;
  }

  /** Cancel a pending event. Returns false if it already ran or was cancelled. */
  cancel(handle: EventHandle): boolean {
    const slot = handle % SLOT_CAP;
    const gen = (handle - slot) / SLOT_CAP;
    if (slot >= this.nextSlot || this.sGen[slot] !== gen || this.sKind[slot] === CANCELLED) return false;
    this.sKind[slot] = CANCELLED;
    this.sFn[slot] = undefined;
    return true;
  }

  /** Stop the current run() after the event being executed. */
  stop(): void {
    this.stopped = true;
  }

  /**
   * Run events in order while their time is <= `until`; afterwards `now` = until (if the queue
   * did not stop early). Returns the number of events executed in this call.
   */
  run(until = Infinity): number {
    const start = this.executed;
    this.stopped = false;
    while (this.size > 0 && !this.stopped) {
      const t = this.hTime[0]!; // arrays may be reallocated by handlers: read through `this`
      if (t > until) break;
      const slot = this.hSlot[0]!;
      this.popTop();
      const kind = this.sKind[slot]!;
      this.now = t;
      if (kind === CANCELLED) {
        this.freeSlot(slot);
        continue;
      }
      const a = this.sA[slot]!;
      const b = this.sB[slot]!;
      if (kind === CLOSURE) {
        const fn = this.sFn[slot]!;
        this.sFn[slot] = undefined;
        this.freeSlot(slot);
        this.executed++;
        fn();
      } else {
        this.freeSlot(slot);
        this.executed++;
        this.handlers[kind]!(a, b);
      }
    }
    if (!this.stopped && until !== Infinity && until > this.now) this.now = until;
    return this.executed - start;
  }

  /** Time of the next pending (possibly cancelled) event, or Infinity. */
  peekTime(): number {
    return this.size > 0 ? this.hTime[0]! : Infinity;
  }

  kindName(kind: number): string {
    return this.handlerNames[kind] ?? `kind${kind}`;
  }

  // ---- internals ---------------------------------------------------------------------------

  private allocSlot(): number {
    if (this.freeTop > 0) return this.freeSlots[--this.freeTop]!;
    if (this.nextSlot >= this.cap) this.grow();
    return this.nextSlot++;
  }

  private freeSlot(slot: number): void {
    // bump the generation so old handles to this slot become stale
    this.sGen[slot] = (this.sGen[slot]! + 1) & 0x1fffffff;
    this.freeSlots[this.freeTop++] = slot;
  }

  private grow(): void {
    const cap = this.cap * 2;
    if (cap > SLOT_CAP) throw new RangeError(`more than ${SLOT_CAP} events pending`);
    const f64 = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    const i32 = (a: Int32Array) => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    this.hTime = f64(this.hTime);
    this.hKey = f64(this.hKey);
    this.hSlot = i32(this.hSlot);
    this.sKind = i32(this.sKind);
    this.sGen = i32(this.sGen);
    this.sA = f64(this.sA);
    this.sB = f64(this.sB);
    this.freeSlots = i32(this.freeSlots);
    this.sFn.length = cap;
    this.cap = cap;
  }

  private push(time: number, key: number, slot: number): void {
    this.siftUp(this.size++, time, key, slot);
  }

  /** Move the hole at i up until (time, key) fits, then store the entry there. */
  private siftUp(i: number, time: number, key: number, slot: number): void {
    const hTime = this.hTime;
    const hKey = this.hKey;
    const hSlot = this.hSlot;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = hTime[p]!;
      if (pt < time || (pt === time && hKey[p]! < key)) break;
      hTime[i] = pt;
      hKey[i] = hKey[p]!;
      hSlot[i] = hSlot[p]!;
      i = p;
    }
    hTime[i] = time;
    hKey[i] = key;
    hSlot[i] = slot;
  }

  /**
   * Remove the top. Floyd's variant: walk the hole down to a leaf along the smaller children (one
   * comparison per level), then sift the former last element up from there — about half the
   * comparisons of the textbook sift-down, since that element almost always belongs near a leaf.
   */
  private popTop(): void {
    const n = --this.size;
    if (n === 0) return;
    const hTime = this.hTime;
    const hKey = this.hKey;
    const hSlot = this.hSlot;
    let i = 0;
    let c = 1;
    while (c < n) {
      const r = c + 1;
      if (r < n) {
        const ct = hTime[c]!;
        const rt = hTime[r]!;
        if (rt < ct || (rt === ct && hKey[r]! < hKey[c]!)) c = r;
      }
      hTime[i] = hTime[c]!;
      hKey[i] = hKey[c]!;
      hSlot[i] = hSlot[c]!;
      i = c;
      c = 2 * i + 1;
    }
    // place the last element at the hole and sift it up
    this.siftUp(i, hTime[n]!, hKey[n]!, hSlot[n]!);
  }
}
