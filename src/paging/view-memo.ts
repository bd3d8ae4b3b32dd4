// Views of a cached list remembered with the entry they were cut from: the same request of the
// same list gives the same view, so a repeated page (or a scoped caller's part of a list) costs a
// lookup instead of a cut. Process-local and bounded: a few small views per entry, dropped with
// the entry (a WeakMap on it). Device pages (paging/page.ts) and catalogue views
// (catalogue/view.ts) each keep one.
import type { CacheEntry } from '../cache/entry.js'

/** Views kept per cached list, and the largest kept: repeated views cost a lookup, memory stays bounded. */
const KEPT = 8
const KEPT_MAX_BYTES = 32 * 1024

/**
 * A memo of views by request key: `view(entry, key, cut)` gives the view remembered for `key`, or
 * cuts it; a refusal (anything with `refused`) is never remembered, nor a view over the size bound.
 */
export function viewMemo<V, R extends { refused: unknown }> (bytesOf: (view: V) => number): (entry: CacheEntry, key: string, cut: () => V | R) => V | R {
  const memos = new WeakMap<CacheEntry, Map<string, V>>()
  return (entry, key, cut) => {
    const kept = memos.get(entry)
    const known = kept?.get(key)
    if (known !== undefined) return known
    const made = cut()
    if (typeof made === 'object' && made !== null && 'refused' in made) return made
    const view = made as V
    if (bytesOf(view) <= KEPT_MAX_BYTES) {
      const map = kept ?? new Map<string, V>()
      if (kept === undefined) memos.set(entry, map)
      map.set(key, view)
      if (map.size > KEPT) map.delete(map.keys().next().value as string)
    }
    return view
  }
}
