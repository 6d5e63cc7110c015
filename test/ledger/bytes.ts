/** Test helper for tampering audits: XOR byte `i` of `bytes` with `mask` (in place). */
export function flip(bytes: Uint8Array, i: number, mask: number): void {
  if (!(i >= 0 && i < bytes.length)) throw new RangeError(`flip: byte ${i} out of range (length ${bytes.length})`);
  bytes[i] = bytes[i]! ^ mask;
}
