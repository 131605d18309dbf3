/**
 * NIP-01 subscription filters and local matching. Relays are not trusted to filter correctly (protocol.md §11.2):
 * the relay pool re-checks every event against the subscription's filters before delivering it.
 *
 * @since 0.1.0
 */
import type { NostrEvent } from "./Event.js"

/**
 * A NIP-01 filter. Tag filters are keys `#<letter>` (`"#p"`, `"#e"`).
 * @category models
 */
export interface Filter {
  readonly ids?: ReadonlyArray<string>
  readonly authors?: ReadonlyArray<string>
  readonly kinds?: ReadonlyArray<number>
  readonly since?: number
  readonly until?: number
  readonly limit?: number
  readonly [tag: `#${string}`]: ReadonlyArray<string> | undefined
}

/**
 * Whether `event` matches `filter` (every condition present must hold; `limit` is ignored).
 * @category matching
 */
export const matches = (filter: Filter, event: NostrEvent): boolean => {
  if (filter.ids !== undefined && !filter.ids.includes(event.id)) return false
  if (filter.authors !== undefined && !filter.authors.includes(event.pubkey)) return false
  if (filter.kinds !== undefined && !filter.kinds.includes(event.kind)) return false
  if (filter.since !== undefined && event.created_at < filter.since) return false
  if (filter.until !== undefined && event.created_at > filter.until) return false
  for (const [key, wanted] of Object.entries(filter)) {
    if (key.length < 2 || key[0] !== "#" || !Array.isArray(wanted)) continue
    const name = key.slice(1)
    let found = false
    for (const tag of event.tags) {
      const value = tag[1]
      if (tag[0] === name && value !== undefined && wanted.includes(value)) {
        found = true
        break
      }
    }
    if (!found) return false
  }
  return true
}

/**
 * Whether `event` matches at least one of `filters`.
 * @category matching
 */
export const matchesAny = (filters: ReadonlyArray<Filter>, event: NostrEvent): boolean =>
  filters.some((filter) => matches(filter, event))

/**
 * `filter` with `since` raised to at least `since`.
 * @category combinators
 */
export const withSinceAtLeast = (filter: Filter, since: number): Filter =>
  filter.since !== undefined && filter.since >= since ? filter : { ...filter, since }
