// How the simulator's answers go on the wire: MOR's XML in each encoding real MOR installs use,
// with a Content-Length as MOR's application server sends (so a HEAD shows the length a GET's body
// would have), and the answers of the layers in front of MOR's actions: Rails' 400 for a body it
// cannot parse, a web server's 413 past its body bound.
import type { ServerResponse } from 'node:http'
import { gzipSync } from 'node:zlib'
import { withHtmlWrapper } from './xml.js'

/** gzip: Content-Encoding gzip; gzip-file: a .gz download with no Content-Encoding; plain: text/xml. */
export type SimEncoding = 'gzip' | 'gzip-file' | 'plain'
export const SIM_ENCODINGS: readonly SimEncoding[] = ['gzip', 'gzip-file', 'plain']

/** MOR's answer; for HEAD, Node sends the headers alone, as Rails' Rack::Head strips the body. */
export function send (res: ServerResponse, xml: string, sim: { encoding: SimEncoding, htmlWrapper: boolean }) {
  const text = sim.htmlWrapper ? withHtmlWrapper(xml) : xml
  // Rails sets a session cookie on every API answer; legacy clients see it through the gateway too.
  res.setHeader('set-cookie', '_mor_session=sim; path=/; HttpOnly')
  if (sim.encoding === 'plain') {
    res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8', 'content-length': Buffer.byteLength(text) }).end(text)
    return
  }
  const gz = gzipSync(text)
  if (sim.encoding === 'gzip') res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8', 'content-encoding': 'gzip', 'content-length': gz.length })
  else res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-disposition': 'attachment; filename="devices.xml.gz"', 'content-length': gz.length })
  res.end(gz)
}

/** Rails' answer to a body it cannot parse (ActionDispatch's ParseError): 400, no page of its own. */
export function badRequest (res: ServerResponse) {
  res.writeHead(400, { 'content-type': 'text/html; charset=utf-8', 'content-length': 0 }).end()
}

const TOO_LARGE_PAGE = '<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n' +
  '<center><h1>413 Request Entity Too Large</h1></center>\r\n</body>\r\n</html>\r\n'

/** nginx's answer past client_max_body_size. The body is left unread, so the connection closes. */
export function tooLarge (res: ServerResponse) {
  res.writeHead(413, { 'content-type': 'text/html', 'content-length': TOO_LARGE_PAGE.length, connection: 'close' }).end(TOO_LARGE_PAGE)
}
