/**
 * A set that forgets its oldest entries beyond `capacity` (insertion order): the bounded memory of the
 * de-duplication caches (event ids seen by the relay pool and conversations, requests answered by the user side).
 *
 * @since 0.1.0
 */
/** @category models */
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

  delete(item: A): void {
    this.items.delete(item)
  }

  get size(): number {
    return this.items.size
  }
}
