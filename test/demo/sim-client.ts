// A legacy client of the simulator for the demo tests: signs each method's parameters by MOR's
// rules (written out here from the API notes, not taken from the simulator's table) and calls it
// over real HTTP, with the parameters in a form body, a POST's query string or a GET's.
import { gunzipSync } from 'node:zlib'
import { expect } from 'vitest'
import { signParams } from '../../src/mor/sign.js'
import { TEST_API_SECRET, TEST_API_USER } from '../helpers/gateway.js'

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
export const error = (message: string) => `${XML_DECLARATION}<error>${message}</error>\n`
export const UPDATED = `${XML_DECLARATION}<page>\n  <status>\n    <success>Device successfully updated</success>\n  </status>\n</page>\n`
export const DELETED = `${XML_DECLARATION}<page>\n  <status>Device was deleted</status>\n</page>\n`
/** device_create's answer in MOR's code and newer revisions; the simulator makes up username and password from the id. */
export const created = (id: number | string) =>
  `${XML_DECLARATION}<page>\n  <status>Device created</status>\n  <id>${id}</id>\n  <username>${id}</username>\n  <password>new-${id}</password>\n</page>\n`

/** The parameters MOR hashes for each method, in MOR's order; u and p never count. */
export const HASHED: Record<string, readonly string[]> = {
  devices_get: ['user_id'],
  device_details_get: ['device_id'],
  device_create: ['user_id', 'description', 'pin', 'type', 'devicegroup_id', 'caller_id'],
  device_update: ['device', 'authentication', 'username', 'host', 'port'],
  device_delete: ['device'],
  device_destroy: ['device']
}

export type Params = Record<string, string>
/** MOR's hash of a call of `method` with these parameters: the hashed ones' values, then the secret. */
export const hashOf = (method: string, params: Params, secret = TEST_API_SECRET) => signParams((HASHED[method] ?? []).map((name) => params[name] ?? ''), secret)
/** The call's parameters with u and MOR's hash added, unless `params` brings its own. */
export const signed = (method: string, params: Params): Params => ({ u: TEST_API_USER, hash: hashOf(method, params), ...params })

export type Via = 'form' | 'query' | 'get'
export interface CallOptions { via?: Via, base?: string, query?: Params }

/** Calls a MOR API method with params in a form body, in a POST's query string, or in a GET's. */
export async function call (base: string, method: string, params: Params, { via = 'form', query = {} }: Omit<CallOptions, 'base'> = {}): Promise<string> {
  const inQuery = via === 'form' ? query : { ...query, ...params }
  const url = `${base}/api/${method}${Object.keys(inQuery).length > 0 ? `?${new URLSearchParams(inQuery)}` : ''}`
  const res = via === 'form'
    ? await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params) })
    : await fetch(url, { method: via === 'get' ? 'GET' : 'POST' })
  expect(res.status).toBe(200)
  // A gzip-file answer has no Content-Encoding, so fetch leaves it compressed.
  return res.headers.get('content-type') === 'application/octet-stream' ? gunzipSync(Buffer.from(await res.arrayBuffer())).toString('utf8') : res.text()
}
