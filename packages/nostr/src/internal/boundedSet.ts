/**
 * A set that forgets its oldest entries beyond `capacity` (insertion order). Used for de-duplication caches.
 *
 * @internal
 */
export class BoundedSet<A> {
  private readonly items = new Set<A>()
  constructor(readonly capacity: number) {}

  has(item: A): boolean {
    return this.items.has(item)
  }

  /** Adds `item`; returns false if it was already there. */
  add(item: A): boolean {
    if (this.items.has(item)) return false
    this.items.add(item)
    if (this.items.size > this.capacity) {
      const oldest = this.items.values().next()
      if (oldest.done !== true) this.items.delete(oldest.value)
    }
    return true
  }

  get size(): number {
    return this.items.size
  }
}
