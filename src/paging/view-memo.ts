// Views of a cached list remembered with the entry they were cut from: the same request of the
// same list gives the same view, so a repeated page (or a scoped caller's part of a list) costs a
// lookup instead of a cut. Process-local and bounded: a few small views per entry, dropped with
// the entry (a WeakMap on it). Device pages (paging/page.ts) and catalogue views
// (catalogue/view.ts) each keep one.
import type { CacheEntry } from '../cache/entry.js'

/** Views kept per cached list, and the largest kept: repeated views cost a lookup, memory stays bounded. */
const KEPT = 8
const KEPT_MAX_BYTES = 32 * 1024

/** Views by request key, per cached entry. */
export interface ViewMemo<V> {
  /** The view remembered for `key` of this entry, if any. */
  get: (entry: CacheEntry, key: string) => V | undefined
  /** Remembers a view just cut (a refusal is never remembered, nor a view over the size bound). */
  put: (entry: CacheEntry, key: string, view: V) => void
}

export function viewMemo<V> (bytesOf: (view: V) => number): ViewMemo<V> {
  const memos = new WeakMap<CacheEntry, Map<string, V>>()
  return {
    get: (entry, key) => memos.get(entry)?.get(key),
    put (entry, key, view) {
      if (bytesOf(view) > KEPT_MAX_BYTES) return
      let kept = memos.get(entry)
      if (kept === undefined) {
        kept = new Map()
        memos.set(entry, kept)
      }
      kept.set(key, view)
      if (kept.size > KEPT) kept.delete(kept.keys().next().value as string)
    }
  }
}
