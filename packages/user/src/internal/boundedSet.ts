/**
 * A set that forgets its oldest entries beyond `capacity` (insertion order): the de-duplication memory of the user
 * side (event ids seen, requests answered).
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

  delete(item: A): void {
    this.items.delete(item)
  }
}
