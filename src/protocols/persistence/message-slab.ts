/**
 * Copies of retained messages, packed into shared slabs rather than one ArrayBuffer each.
 *
 * Why: a store retains many small messages. Copying each into its own Uint8Array costs an
 * ArrayBuffer allocation (with its external-memory bookkeeping) per message, which showed in
 * profiles and in resident memory. Messages are released mostly in the order they arrived
 * (acks, age), so a slab is freed soon after its last message goes; a long-retained message
 * can keep its slab (at most `slabBytes`) alive, which bounds the waste per survivor.
 */
export class MessageSlab {
  private slab = new Uint8Array(0);
  private used = 0;

  constructor(
    /** Bytes per slab. */
    private readonly slabBytes: number,
    /** Messages at least this large get a buffer of their own. */
    private readonly ownBufferBytesMin: number,
  ) {}

  /** A copy of `bytes` that shares nothing with the caller's buffer. */
  copy(bytes: Uint8Array): Uint8Array {
    if (bytes.length >= this.ownBufferBytesMin) return new Uint8Array(bytes);
    if (this.used + bytes.length > this.slab.length) {
      this.slab = new Uint8Array(this.slabBytes);
      this.used = 0;
    }
    const copy = this.slab.subarray(this.used, this.used + bytes.length);
    copy.set(bytes);
    this.used += bytes.length;
    return copy;
  }
}
