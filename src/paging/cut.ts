// Cutting a view out of a cached JSON list without parsing it: the items at chosen positions,
// copied as they are, contiguous runs in one piece, and the view's own ETag. Every cached list's
// views (device pages, catalogue lists) are cut this way, by paging/items.ts.
import { createHash } from 'node:crypto'

const COMMA = Buffer.from(',')

/**
 * The list's bytes before its first item, the items at `picked` (ascending positions) with their
 * commas, then `close`. `starts` holds each item's offset and one more past the last, as if a
 * comma followed it: item i is bytes [starts[i], starts[i + 1] - 1).
 */
export function cutItems (body: Buffer, starts: Uint32Array, picked: readonly number[], close: Buffer): Buffer {
  const pieces: Buffer[] = [body.subarray(0, starts[0])]
  let run = 0
  while (run < picked.length) {
    let end = run
    while (end + 1 < picked.length && picked[end + 1] === (picked[end] as number) + 1) end++
    if (run > 0) pieces.push(COMMA)
    pieces.push(body.subarray(starts[picked[run] as number], (starts[(picked[end] as number) + 1] as number) - 1))
    run = end + 1
  }
  pieces.push(close)
  return Buffer.concat(pieces)
}

/** The ETag of one variant of an entry: the list's own tag with a short digest of the variant. */
export function variantEtag (etag: string, variant: string): string {
  return `${etag.slice(0, -1)}-${createHash('sha256').update(variant).digest('base64url').slice(0, 12)}"`
}
