// The request target as sent, split without decoding: routes and lanes read the query string
// themselves (the list query's own parser, the passthrough's byte-for-byte relay).

/** The request's path and its query string (without `?`), as sent. */
export function splitUrl (url: string): { path: string, search: string } {
  const mark = url.indexOf('?')
  return mark < 0 ? { path: url, search: '' } : { path: url.slice(0, mark), search: url.slice(mark + 1) }
}
