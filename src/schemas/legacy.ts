// The legacy passthrough's part of the contract: one operation per method the passthrough serves
// (GET, POST, and HEAD, which it refuses on MOR's write methods), folded from the catch-all route.
// The request body is what MOR reads: its parameters as an object, from a form, a multipart form or
// JSON, as Rails parses each (a validator reads a form body as an object of fields, never as one
// string). MOR's answer is MOR's bytes, described only by their media types.
import { Type, type TSchema } from 'typebox'
import { MAX_HEADER_LENGTH, openApiHeader } from './responses.js'
import { OPERATION_PROBLEMS, problemAnswer, type OperationId } from './problem-answers.js'

/** MOR's parameters for the device methods (the rest of its API takes others: any field passes). */
const MOR_PARAMETERS: Record<string, string> = {
  u: 'the API user (admin or reseller)',
  p: 'the API user\'s password, on older MOR installs; never part of the hash',
  hash: 'SHA1 hex of the hashed parameters\' values followed by the API secret',
  user_id: 'the user (devices_get, device_create)',
  show_hidden_devices: '0 leaves blocked and hidden devices out (devices_get)',
  device_id: 'the device (device_details_get)',
  device_u: 'the device\'s username, instead of device_id (device_details_get)',
  device: 'the device (device_update, device_delete)',
  type: 'the device type (device_create)',
  description: 'the device\'s description (device_create, device_update)',
  pin: 'the device\'s PIN (device_create, device_update)',
  devicegroup_id: 'the device group (device_create)',
  caller_id: 'the caller id (device_create)',
  extension: 'the extension (device_create, device_update)'
}

/**
 * MOR's parameters as an object whose values are `value`: the documented ones by name, any other
 * field too. The body's size bounds each value and the number of fields.
 */
function morParameters (maxBodyBytes: number, value: (description: string) => TSchema, media: string) {
  const named = Object.fromEntries(Object.entries(MOR_PARAMETERS).map(([name, description]) => [name, Type.Optional(value(description))]))
  return Type.Object(named, {
    additionalProperties: value('another of the method\'s parameters'),
    maxProperties: maxBodyBytes,
    description: `MOR's parameters as ${media}, merged by MOR with those of the query string. Passed to MOR unchanged.`
  })
}

/** The three body types MOR (Rails) reads, for a POST. */
function requestBody (maxBodyBytes: number) {
  const text = (description: string) => Type.String({ maxLength: maxBodyBytes, description })
  // JSON may carry an id as a number; Rails reads it as MOR reads the text.
  const scalar = (description: string) => Type.Unsafe({ type: ['string', 'integer'], maxLength: maxBodyBytes, minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER, format: 'int64', description })
  return {
    description: 'MOR\'s parameters, passed to MOR unchanged (MOR also reads them from the query string)',
    required: false,
    content: {
      'application/x-www-form-urlencoded': { schema: morParameters(maxBodyBytes, text, 'form fields') },
      'multipart/form-data': { schema: morParameters(maxBodyBytes, text, 'multipart form fields') },
      'application/json': { schema: morParameters(maxBodyBytes, scalar, 'a JSON object') }
    }
  }
}

/** The operation's problems, from the one table, as OpenAPI response objects. */
function problems (operation: OperationId) {
  return Object.fromEntries(Object.entries(OPERATION_PROBLEMS[operation]).map(([status, answer]) => {
    const { headers, ...response } = problemAnswer(Number(status), answer, '#/components/schemas/Problem')
    return [status, { ...response, ...(headers ? { headers: Object.fromEntries(Object.entries(headers).map(([name, schema]) => [name, openApiHeader(schema)])) } : {}) }]
  }))
}

const MOR_ANSWER = {
  'text/xml': { schema: { type: 'string', contentMediaType: 'text/xml' } },
  'application/gzip': { schema: { type: 'string', contentMediaType: 'application/gzip', contentEncoding: 'binary' } },
  'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/gzip', contentEncoding: 'binary' } }
}

const OPERATIONS = {
  get: { id: 'legacyPassthroughGet', verb: 'GET' },
  post: { id: 'legacyPassthroughPost', verb: 'POST' },
  head: { id: 'legacyPassthroughHead', verb: 'HEAD' }
} as const

export function legacyPathItem (apiPrefix: string, maxBodyBytes: number) {
  const operation = (method: keyof typeof OPERATIONS) => ({
    operationId: OPERATIONS[method].id,
    summary: `Legacy MOR API passthrough (${OPERATIONS[method].verb})`,
    description: 'Raw passthrough for legacy clients: the request goes to MOR\'s own API unchanged (the client signs it ' +
      'with u and hash as MOR expects) and MOR\'s answer comes back byte for byte, usually gzipped XML. ' +
      'The gateway does not parse, cache or document MOR\'s answers here; see the Kolmisoft MOR API documentation.' +
      (method === 'head' ? ' HEAD is refused on MOR\'s write methods (device_create, device_update, device_delete).' : ''),
    tags: ['legacy'],
    // No gateway credential: the client signs for MOR (u, hash), and LEGACY_ALLOW_CIDRS says who may call.
    security: [],
    'x-raw-passthrough': true,
    parameters: [{ name: 'method', in: 'path', required: true, description: 'a MOR API method such as devices_get', schema: { type: 'string', pattern: '^[A-Za-z0-9_~-][A-Za-z0-9_.~-]*$', maxLength: MAX_HEADER_LENGTH } }],
    ...(method === 'post' ? { requestBody: requestBody(maxBodyBytes) } : {}),
    responses: {
      200: method === 'head'
        ? { description: 'MOR\'s answer\'s status and headers, unchanged, without a body' }
        : { description: 'MOR\'s answer, unchanged: XML, usually gzipped (with Content-Encoding: gzip, or as a .gz download, depending on the MOR version)', content: MOR_ANSWER },
      ...problems(OPERATIONS[method].id),
      default: {
        description: 'MOR\'s answer with another status, unchanged (MOR answers its API\'s own errors with 200 and XML; ' +
          'another status comes from MOR\'s web server)',
        ...(method === 'head' ? {} : { content: { ...MOR_ANSWER, 'text/html': { schema: { type: 'string', contentMediaType: 'text/html' } } } })
      }
    }
  })
  return { [`${apiPrefix}/{method}`]: { get: operation('get'), post: operation('post'), head: operation('head') } }
}
