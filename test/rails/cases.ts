// The requests the differential test sends to Rails and to railsParams: every body type, both
// framings, and the corners where Rails' reading is surprising. Bodies are byte strings written in
// latin1 ('\xff' is the byte 0xFF), so invalid UTF-8 is spelled out exactly.
import { gzipSync } from 'node:zlib'
import type { WireRequest } from './rails-app.js'

export type Case = WireRequest & { readonly name: string }

const FORM = 'application/x-www-form-urlencoded'
const JSON_TYPE = 'application/json'
const MULTIPART = 'multipart/form-data; boundary=AaB03x'
const bytes = (s: string): Buffer => Buffer.from(s, 'latin1')

const query = (name: string, q: string, method = 'GET'): Case => ({ name, method, query: q, body: null })
const form = (name: string, body: string, more: Partial<Case> = {}): Case =>
  ({ name, method: 'POST', query: '', contentType: FORM, body: bytes(body), ...more })
const json = (name: string, body: string, more: Partial<Case> = {}): Case =>
  ({ name, method: 'POST', query: '', contentType: JSON_TYPE, body: bytes(body), ...more })
const field = (name: string, value: string, extra = ''): string =>
  `--AaB03x\r\nContent-Disposition: form-data; name="${name}"\r\n${extra}\r\n${value}\r\n`
const file = (name: string, filename: string, type = 'text/plain'): string =>
  `--AaB03x\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\nfile body\r\n`
const multipart = (name: string, body: string, more: Partial<Case> = {}): Case =>
  ({ name, method: 'POST', query: '', contentType: MULTIPART, body: bytes(body), ...more })
const END = '--AaB03x--\r\n'

export const URLENCODED_CASES: Case[] = [
  form('reads a urlencoded body', 'device=5&name=x'),
  form('lets the query string win over the body on a shared key', 'device=2&b=1', { query: 'device=1' }),
  form('merges query and body shallowly (the query hash replaces the body hash)', 'a[y]=2', { query: 'a[x]=1' }),
  query('keeps the last of repeated keys', 'a=1&a=2&device=3&device=4'),
  query('builds arrays from [] keys and drops their nils', 'a[]=1&a[]=2&a[]&b[]'),
  query('builds hashes and arrays of hashes', 'a[b]=1&a[c][d]=2&a[c][e][]=3&h[][x]=1&h[][y]=2&h[][x]=3'),
  query('refuses a key used as both a string and a hash', 'a=1&a[b]=2'),
  form('refuses a body key used as both an array and a hash', 'a[]=1&a[b]=2'),
  form('splits the query on ; but the body only on &', 'b=1;device=3', { query: 'a=1;device=2' }),
  query('keeps an escaped space after a separator', 'a=1&%20b=2'),
  form('skips raw spaces after a body separator', 'a=1&  device=2&c=3 &d=4'),
  query('decodes + and %20 as spaces and %2B as a plus', 'device=1+2&b=%2B&c=%20&d+e=f'),
  query('keeps %00 as a NUL byte', 'a=%00&b=1%00'),
  query('refuses an invalid %-escape in the query', 'a=%zz'),
  query('refuses a lone % in a key', 'a%=1'),
  form('refuses an invalid %-escape in the body', 'device=5&a=%4'),
  query('refuses a value that is not UTF-8', 'device=%FF'),
  query('refuses a key that is not UTF-8', '%FF=1'),
  query('refuses an overlong UTF-8 encoding', 'a=%C0%AF'),
  query('refuses a latin1 byte', 'a=caf%E9'),
  query('refuses raw latin1 bytes in the query', 'a=caf\xe9'),
  query('accepts UTF-8 text', 'a=caf%C3%A9&%C3%A9=1'),
  query('keeps fullwidth digits as text (no target)', 'device=%EF%BC%95'),
  query('reads a zero-padded target', 'device=0005&user_id=007'),
  query('reads the largest INT target', 'device=2147483647'),
  query('gives no target past INT range', 'device=2147483648'),
  query('gives no target for signs, spaces and decimals', 'device=-1&user_id=%2B1'),
  query('gives no target for a leading space', 'device=%205'),
  query('gives no target for a decimal', 'device=5.0'),
  query('gives no target for an array', 'device[]=5'),
  query('gives no target for a hash', 'device[id]=5'),
  query('gives no target for an empty value', 'device=&user_id'),
  query('reads odd bracket keys as Rack does', 'a[[]]=1&b[x]=1&b[[]]=2&c]=1&[d]=1&e[=1&f[g=1&[]=1&h[]]=1&i[][]=1&j[k][]l=1'),
  query('unescapes brackets before nesting', 'a%5Bb%5D=1&c%5B%5D=2'),
  query('reads newlines in keys with Ruby line anchors', 'a%0A[]x=1&b[x%0A[]]=2&c[]%0Ay=3'),
  query('keeps __proto__, constructor and hasOwnProperty as plain keys', '__proto__[x]=1&constructor=2&hasOwnProperty[]=3&toString[a][b]=4'),
  form('drops one trailing NUL from a body', 'device=5\0'),
  form('drops only one of two trailing NULs', 'device=5\0\0'),
  query('ignores empty pieces', '&&a=1&&;;b=2&'),
  query('accepts nesting 100 levels deep', `a${'[b]'.repeat(99)}=1`),
  query('refuses nesting 101 levels deep', `a${'[b]'.repeat(100)}=1`),
  form('accepts array-of-hash nesting at the depth limit', `a${'[][b]'.repeat(49)}=1`),
  form('accepts 4096 body parameters', Array.from({ length: 4096 }, (_, i) => `k${i}=1`).join('&')),
  form('refuses 4097 body parameters', Array.from({ length: 4097 }, (_, i) => `k${i}=1`).join('&')),
  query('counts ; towards the query parameter limit', `${';'.repeat(4096)}a=1`),
  form('accepts a key of 65536 characters', `${'k'.repeat(65536)}=1`),
  form('refuses keys of more than 65536 characters in one hash', `${'k'.repeat(40000)}=1&${'j'.repeat(30000)}=2`),
  form('accepts a large body', `device=5&blob=${'x'.repeat(60000)}`),
  form('refuses a form body over Rack\'s 4 MiB limit', `device=5&a=${'x'.repeat(4194304)}`),
  form('reads a urlencoded PUT', 'device=5', { method: 'PUT' }),
  form('reads a urlencoded PATCH', 'device=5', { method: 'PATCH' }),
  form('reads a urlencoded DELETE', 'device=5', { method: 'DELETE' }),
  form('reads a urlencoded GET body', 'device=5', { method: 'GET' }),
  form('reads a POST body without Content-Type as a form', 'device=5&a[]=1', { contentType: undefined }),
  form('ignores a PUT body without Content-Type', 'device=5', { method: 'PUT', contentType: undefined }),
  form('ignores a GET body without Content-Type', 'device=5', { method: 'GET', contentType: undefined }),
  form('ignores a bad POST body without Content-Type', 'device=%zz', { contentType: undefined, query: 'user_id=1' }),
  form('refuses an empty Content-Type on a POST body', 'device=5', { contentType: '' }),
  form('accepts an empty Content-Type without a body', '', { contentType: '' }),
  form('reads an uppercase form type', 'device=5', { contentType: 'APPLICATION/X-WWW-FORM-URLENCODED' }),
  form('ignores the charset parameter', 'device=5&a=%C3%A9', { contentType: `${FORM}; charset=ISO-8859-1` }),
  form('refuses latin1 even with a latin1 charset', 'a=caf%E9', { contentType: `${FORM};charset=latin1` }),
  form('reads the type before a comma', 'device=5', { contentType: `${FORM}, ${JSON_TYPE}` }),
  form('ignores a text/plain body', 'device=5', { contentType: 'text/plain' }),
  form('ignores an XML body', 'device=5', { contentType: 'application/xml' }),
  form('ignores a */* body', 'device=5', { contentType: '*/*' }),
  form('refuses a Content-Type that is not a MIME type', 'device=5', { contentType: 'form' }),
  form('refuses a Content-Type that is not a MIME type even without a body', '', { contentType: 'a b/c', method: 'PUT' }),
  form('does not decode a gzip body', gzipSync('device=5').toString('latin1'), { headers: ['Content-Encoding: gzip'] }),
  form('reads a chunked body', 'device=5&name=chunked', { chunked: true }),
  form('reads an empty chunked body', '', { chunked: true, query: 'device=1' }),
  form('reads a create call target', 'user_id=12', { action: 'device_create' })
]

export const JSON_CASES: Case[] = [
  json('reads a JSON object and drops nils from its arrays', '{"device":5,"x":[1,null,[null,2]],"y":null,"z":true,"w":false}'),
  json('keeps a JSON string id as a target', '{"device":"0005","user_id":"7"}'),
  json('keeps JSON floats apart from integers', '{"device":5.0,"user_id":5e0,"a":-0.0,"b":1e400,"c":0.1,"d":1E-7,"e":123456789.125}'),
  json('reads -0 and huge JSON integers as integers', '{"device":-0,"user_id":12345678901234567890,"a":2147483648}'),
  json('wraps a JSON array as _json', '[1,{"device":5},null]'),
  json('wraps a JSON scalar as _json', '"device"'),
  json('wraps JSON null as _json', 'null'),
  json('lets the query string win over JSON', '{"device":2,"_json":1}', { query: 'device=1' }),
  json('lets a query _json replace a wrapped array', '[1]', { query: '_json=q' }),
  json('refuses invalid JSON', '{"device":5'),
  json('refuses a JSON trailing comma', '{"device":5,}'),
  json('refuses NaN in JSON', '{"device":NaN}'),
  json('refuses a JSON byte order mark', '\xef\xbb\xbf{"device":5}'),
  json('refuses a whitespace-only JSON body', ' \n'),
  json('reads an empty JSON body as no parameters', '', { query: 'device=3' }),
  json('accepts comments in JSON', '/* c */ {"device" /* d */ : 5} // e\n'),
  json('refuses a // comment without a newline', '{"device":5} // e'),
  json('refuses a leading zero', '{"device":05}'),
  json('accepts JSON nesting 100 deep', `${'['.repeat(100)}${']'.repeat(100)}`),
  json('refuses JSON nesting 101 deep', `${'['.repeat(101)}${']'.repeat(101)}`),
  json('reads JSON escapes', '{"a":"\\u00e9\\ud83d\\ude00\\n\\/\\q","b":"\\u0000"}'),
  json('reads a lone high surrogate the way json 2.6 does', '{"a":"\\ud800abcdefg","b":"\\ud800\\n12345","c":"\\ud800\\u0041"}'),
  json('refuses a high surrogate at the end of a string', '{"a":"\\ud800"}'),
  json('refuses a lone low surrogate in a value', '{"a":"\\udc00"}'),
  json('keeps a lone low surrogate in a key', '{"\\udc00":1,"device":2}'),
  json('refuses bytes that are not UTF-8 in a value', '{"device":"5\xff"}'),
  json('keeps bytes that are not UTF-8 in a key', '{"\xff\xc3\xa9":1}'),
  json('refuses a raw control byte in a string', '{"a":"x\ty"}'),
  json('keeps the last of duplicate JSON keys', '{"device":1,"device":2}'),
  json('keeps __proto__ as a plain JSON key', '{"__proto__":{"device":5},"constructor":1}'),
  json('reads Rails\' other JSON types', '{"device":5}', { contentType: 'text/x-json' }),
  json('reads application/jsonrequest', '{"device":5}', { contentType: 'application/jsonrequest' }),
  json('reads a JSON type with parameters and odd casing', '{"device":5}', { contentType: 'Application/JSON; charset=utf-8' }),
  json('reads JSON on a GET', '{"device":5}', { method: 'GET' }),
  json('reads JSON on a DELETE', '{"device":5}', { method: 'DELETE' }),
  json('reads a chunked JSON body', '{"device":5,"pad":"' + 'x'.repeat(300) + '"}', { chunked: true })
]

export const MULTIPART_CASES: Case[] = [
  multipart('reads multipart fields', field('device', '5') + field('name', 'caf\xc3\xa9') + END),
  multipart('reads a file part as an upload', field('device', '5') + file('f', 'a.txt') + END),
  multipart('skips a file part with an empty filename', file('f', '') + field('device', '5') + END),
  multipart('keeps the base name of a Windows path', file('f', 'C:\\dir\\a.txt') + END),
  multipart('unescapes a %-encoded file name', file('f', 'a%41b.txt') + file('g', 'a%4.txt') + END),
  multipart('reads an RFC 2231 file name', '--AaB03x\r\nContent-Disposition: form-data; name="f"; filename*=UTF-8\'\'caf%C3%A9.txt\r\n\r\nx\r\n' + END),
  multipart('keeps a file name that is not UTF-8', file('f', 'a\xffb.txt', 'image/x\xe9') + END),
  multipart('names a file part without a name by its file name', '--AaB03x\r\nContent-Disposition: form-data; filename="x.txt"\r\n\r\nx\r\n' + END),
  multipart('names an unnamed part by its type', '--AaB03x\r\nContent-Type: text/csv\r\n\r\nx\r\n--AaB03x\r\nContent-ID: <id1>\r\n\r\ny\r\n' + END),
  multipart('nests bracketed part names', field('a[]', '1') + field('a[]', '2') + field('h[x]', '3') + END),
  multipart('refuses conflicting part names', field('a', '1') + field('a[b]', '2') + END),
  multipart('refuses a part value that is not UTF-8', field('device', '5\xff') + END),
  multipart('fails on a part name that is not UTF-8', field('a\xff', '5') + END),
  multipart('reads a latin1 text/plain part', field('a', 'caf\xe9', 'Content-Type: text/plain; charset=iso-8859-1\r\n') + field('device', '5') + END),
  multipart('refuses a high byte in a US-ASCII part', field('a', 'caf\xe9', 'Content-Type: text/plain; charset=US-ASCII\r\n') + END),
  multipart('fails on a text/plain charset parameter without a value', field('a', 'x', 'Content-Type: text/plain; charset\r\n') + END),
  multipart('reads a quoted boundary', '--a b\r\nContent-Disposition: form-data; name="device"\r\n\r\n5\r\n--a b--\r\n', { contentType: 'multipart/form-data; boundary="a b"' }),
  multipart('reads an uppercase BOUNDARY parameter', field('device', '5') + END, { contentType: 'Multipart/Form-Data; BOUNDARY=AaB03x; charset=utf-8' }),
  multipart('reads multipart/mixed', field('device', '5') + END, { contentType: 'multipart/mixed; boundary=AaB03x' }),
  multipart('reads a body without boundary as a form', 'device=5&a=1', { contentType: 'multipart/form-data' }),
  multipart('keeps only the query when the boundary has a space before =', field('device', '5') + END, { query: 'user_id=1', contentType: 'multipart/form-data; boundary =AaB03x' }),
  multipart('keeps only the query when there are two boundaries', field('device', '5') + END, { query: 'user_id=1', contentType: `${MULTIPART}; boundary=x` }),
  multipart('keeps only the query when the body ends early', field('device', '5'), { query: 'user_id=1' }),
  multipart('keeps only the query when no boundary is found', 'device=5', { query: 'user_id=1' }),
  multipart('skips a preamble and an epilogue', 'preamble\r\n' + field('device', '5') + END + 'epilogue'),
  multipart('reads a part not ended by CRLF the way Rack does', '--AaB03x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1--AaB03x\r\nContent-Disposition: form-data; name="device"\r\n\r\n5\r\n' + END),
  multipart('accepts 127 file parts', Array.from({ length: 127 }, (_, i) => file(`f${i}`, 'a.txt')).join('') + field('device', '5') + END),
  multipart('fails on 128 file parts', Array.from({ length: 128 }, (_, i) => file(`f${i}`, 'a.txt')).join('') + END),
  multipart('reads a chunked multipart body', field('device', '5') + file('f', 'a.txt') + END, { chunked: true }),
  multipart('reads a multipart POST without a body as no parameters', '', { query: 'device=1' }),
  multipart('reads a field that spans Rack\'s 1 MiB reads', field('blob', 'x'.repeat(1_100_000)) + field('device', '5') + END),
  multipart('reads a file larger than 1 MiB', `--AaB03x\r\nContent-Disposition: form-data; name="f"; filename="big.bin"\r\n\r\n${'\xff'.repeat(1_100_000)}\r\n` + field('device', '5') + END),
  multipart('keeps only the query when no boundary is in the first 1 MiB', `${'p'.repeat(1_100_000)}\r\n` + field('device', '5') + END, { query: 'user_id=1' }),
  multipart('keeps only the query when the first boundary straddles Rack\'s first read', `${'p'.repeat(1_048_576 - 6)}\r\n` + field('device', '5') + END, { query: 'user_id=1' })
]
