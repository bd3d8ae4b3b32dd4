// Paging through a list answer as a client does: following `Link: <...>; rel="next"` from a first
// path to the last page, checking at each step that the link carries the page's nextCursor and
// that the last page has neither.
import { expect } from 'vitest'
import { getJson, type TestGateway } from './gateway.js'

/** Every page's body from `first` to the end (at most `max` pages, else the test fails). */
export async function followLinks<T extends { nextCursor: string | null }> (gw: TestGateway, first: string, headers: Record<string, string> = {}, max = 100): Promise<T[]> {
  const pages: T[] = []
  let path: string | undefined = first
  while (path !== undefined) {
    if (pages.length === max) throw new Error(`more than ${max} pages from ${first}`)
    const res = await getJson(`${gw.url}${path}`, headers)
    expect(res.status, path).toBe(200)
    const page = res.body as T
    pages.push(page)
    const link = res.headers.get('link')
    if (page.nextCursor === null) {
      expect(link).toBeNull()
      path = undefined
    } else {
      // Relative to the request's own path, as RFC 8288 allows and the gateway sends.
      const match = /^<(\/[^>]+)>; rel="next"$/.exec(link ?? '')
      expect(match, link ?? 'no Link header').not.toBeNull()
      path = match?.[1]
      expect(new URL(path ?? '', 'http://x').searchParams.get('cursor')).toBe(page.nextCursor)
    }
  }
  return pages
}
