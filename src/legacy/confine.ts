// Which request paths the legacy passthrough forwards. MOR's API methods are plain words
// (devices_get, user_details_get, ...), so the path after the API prefix is held to an allowlist:
// no percent-encoding at all (which rules out %2e%2e, %2f and double encoding in one go), no
// backslashes, no empty or "." segments, no ".." anywhere (proxies commonly refuse "a../b",
// and the legacy lane must refuse what the Fastify scope refuses). What passes cannot leave the
// prefix, whatever a proxy, URL parser or Rails does with it afterwards.

const SEGMENT = /^[A-Za-z0-9_~-][A-Za-z0-9_.~-]*$/

/** The reason a path is refused, or undefined when it may be forwarded. */
export function refusePath (rawPath: string, apiPrefix: string): string | undefined {
  if (!rawPath.startsWith(`${apiPrefix}/`)) return 'the path is outside the MOR API'
  const rest = rawPath.slice(apiPrefix.length + 1)
  if (rest === '') return 'no MOR API method in the path'
  for (const segment of rest.split('/')) {
    if (!SEGMENT.test(segment) || segment === '.' || segment.includes('..')) {
      return 'the path may hold only letters, digits, "_", "-", "~" and "." in non-empty segments, and no ".."'
    }
  }
  return undefined
}
