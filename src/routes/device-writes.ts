// POST /v1/users/:userId/devices, PATCH /v1/devices/:deviceId and DELETE /v1/devices/:deviceId:
// the device lifecycle in JSON, carried out by MOR's device_create, device_update and
// device_delete (one signed call each, never retried). Every write runs the same steps
// (routes/write-flow.ts): the write right, the body, the caller's scope, the Idempotency-Key,
// the device's owner fresh from MOR and If-Match, the call, then every instance's cache dropped
// and the result read back from MOR.
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify'
import { Type, type TSchema } from 'typebox'
import type { Config } from '../config.js'
import { isUtf8 } from 'node:buffer'
import { requireCaller } from '../plugins/auth.js'
import { DeviceIdParamsSchema, UserIdParamsSchema } from '../schemas/device.js'
import type { DeviceDetails } from '../schemas/device-details.js'
import { DeviceCreatedSchema, DeviceCreateSchema, DevicePatchSchema, type DeviceCreated } from '../schemas/device-writes.js'
import { CACHE_HEADERS, jsonResponse } from '../schemas/responses.js'
import { problemResponses } from '../schemas/problem-answers.js'
import { DEVICE_ROUTE, DEVICES_ROUTE } from '../devices/contract.js'
import { checkCreate, checkPatch, createParams, updateParams } from '../devices/write-body.js'
import { InvalidBodyError, UnsupportedBodyTypeError } from '../devices/write-errors.js'
import { createWriteFlow, WRITE_REQUEST_HEADERS, type WriteAnswer } from './write-flow.js'
import { splitUrl } from '../http/url.js'
import { InvalidQueryError } from './cached-answer.js'
import { InvalidDeviceIdError, InvalidUserIdError } from './path-ids.js'

/** A device write's body is a handful of short fields; anything near this is not one. */
export const WRITE_BODY_LIMIT = 16 * 1024
const JSON_BODY = 'application/json'
const MERGE_PATCH = 'application/merge-patch+json'

const Details = Type.Unsafe<DeviceDetails>({ $ref: 'DeviceDetails#' })
const Created = Type.Unsafe<DeviceDetails | DeviceCreated>({ oneOf: [{ $ref: 'DeviceDetails#' }, { $ref: 'DeviceCreated#' }] })
const LOCATION = {
  Location: Type.String({ pattern: '^/v1/devices/[0-9]+$', maxLength: 32, 'x-optional': true, description: 'the new device: `/v1/devices/{id}` (absent when MOR does not say which device it made)' })
}
const ETAG = { ETag: CACHE_HEADERS.ETag }
const ETAG_SOMETIMES = { ETag: Type.String({ ...CACHE_HEADERS.ETag, 'x-optional': true, description: 'the new device\'s ETag, with its details' }) }
const REPLAYED = {
  'Idempotent-Replayed': Type.String({ enum: ['true'], 'x-optional': true, description: '`true` on the first answer to an Idempotency-Key, sent again' })
}

/** The media type of a request's body, without parameters, lower case; undefined when it has none. */
function bodyType (request: FastifyRequest): string | undefined {
  const type = request.headers['content-type']
  return type === undefined ? undefined : type.split(';')[0]?.trim().toLowerCase()
}

/** Refuses a request outside the contract: a query (none is taken), or a body of another type than `type`. */
function refuseOutside (request: FastifyRequest, type: string | undefined): void {
  if (splitUrl(request.url).search !== '') throw new InvalidQueryError('This operation takes no query parameters')
  if (type === undefined) return
  const sent = bodyType(request)
  if (sent !== undefined && sent !== type) throw new UnsupportedBodyTypeError(type)
}

/** The body type each method takes, as a 415 names it (RFC 9110 15.5.16, RFC 5789 3.1). */
const ACCEPTED: Record<string, [string, string]> = { POST: ['accept-post', JSON_BODY], PATCH: ['accept-patch', MERGE_PATCH] }

function bodyOf<T> (check: (body: unknown) => { ok: true, value: T } | { ok: false, detail: string }, body: unknown): T {
  const checked = check(body)
  if (!checked.ok) throw new InvalidBodyError(checked.detail)
  return checked.value
}

type WriteOperation = 'createDevice' | 'updateDevice' | 'deleteDevice'

/**
 * A write's route options: its own answers and its row of problems, its headers, and its body as
 * documented (`ref`, a named schema) and checked by devices/write-body.ts rather than by the
 * framework's validator.
 */
function operation (operationId: WriteOperation, summary: string, description: string, params: TSchema, answers: Record<number, unknown>, body?: { ref: string, type: string }): RouteShorthandOptions {
  const documented = { headers: WRITE_REQUEST_HEADERS, ...(body ? { body: Type.Unsafe({ $ref: `${body.ref}#` }), consumes: [body.type] } : {}) }
  return {
    attachValidation: true,
    config: { swaggerTransform: ({ schema, url }) => ({ schema: { ...schema, ...documented }, url }) },
    schema: { operationId, summary, description, tags: ['devices'], security: [{ bearer: [] }], params, response: { ...answers, ...problemResponses(operationId) } }
  }
}

/** Sends an answer the flow built, or one replayed from the Idempotency-Key store. */
function send (reply: FastifyReply, answer: WriteAnswer): FastifyReply {
  reply.code(answer.status)
  for (const [name, value] of Object.entries(answer.headers)) reply.header(name, value)
  return answer.body === '' ? reply.send() : reply.send(answer.body)
}

export default async function deviceWrites (fastify: FastifyInstance, { config }: { config: Config }) {
  // JSON only, and no more of it than a write needs; Fastify's parser refuses __proto__ and
  // constructor.prototype keys. Any other type is a 415 before anything else is read.
  fastify.removeAllContentTypeParsers()
  const parseJson = fastify.getDefaultJsonParser('error', 'error')
  fastify.addContentTypeParser([JSON_BODY, MERGE_PATCH], { parseAs: 'buffer', bodyLimit: WRITE_BODY_LIMIT }, (request, body, done) => {
    if (!isUtf8(body as Buffer)) return done(new InvalidBodyError('The body is not UTF-8 text'), undefined)
    parseJson(request, (body as Buffer).toString('utf8'), done)
  })
  // Writes pipelined on one connection run one after another, in the order they came: only safe
  // methods may be handled side by side (RFC 9112 9.3.2), and two PATCHes of one device must not
  // cross. A response's `close` comes when it is sent or its connection is gone.
  const queues = new WeakMap<object, Promise<void>>()
  fastify.addHook('onRequest', (request, reply, done) => {
    const { socket } = request.raw
    const before = queues.get(socket)
    const finished = new Promise<void>((resolve) => { reply.raw.once('close', resolve) })
    queues.set(socket, before === undefined ? finished : before.then(() => finished))
    if (before === undefined) done()
    else before.then(() => { done() }, () => { done() })
  })
  // The caller before the body: a client without a key is refused before its body is read.
  fastify.addHook('onRequest', requireCaller)
  // Whichever refused the type (the parser above, or the route), a 415 says which type would do.
  fastify.addHook('onSend', async (request, reply) => {
    const accepted = ACCEPTED[request.method]
    if (reply.statusCode === 415 && accepted !== undefined) reply.header(accepted[0], accepted[1])
  })
  fastify.addSchema(DeviceCreateSchema)
  fastify.addSchema(DevicePatchSchema)
  fastify.addSchema(DeviceCreatedSchema)
  const flow = createWriteFlow(fastify, config.mor.secret)
  const retrySafe = 'Send an `Idempotency-Key` to make a retry safe: the same key and request get the first answer again, with no second call to MOR.'

  fastify.post(DEVICES_ROUTE, operation('createDevice', 'Create a device for a MOR user',
    'Creates a device with MOR\'s `device_create` and answers with its details, as `GET /v1/devices/{deviceId}` would. ' +
      'MOR picks the device\'s username and SIP password; neither is ever shown. Needs the write right (an API key with `access=read,write`, ' +
      `a token with the \`devices:write\` scope) for a user the caller may read. ${retrySafe} Without one a POST is not safe to retry. ` +
      'A MOR that does not say which device it created (2011 revisions) gets a 201 with `{"id": null, "userId": ...}` and no `Location`: read the user\'s devices.',
    UserIdParamsSchema,
    { 201: jsonResponse('Created: the new device as MOR has it (`DeviceDetails`), or, when the gateway cannot show it, what is known of it (`DeviceCreated`)', Created, { ...LOCATION, ...ETAG_SOMETIMES, ...REPLAYED }) },
    { ref: 'DeviceCreate', type: JSON_BODY }
  ), async (request, reply) => {
    if (request.validationError) throw new InvalidUserIdError()
    refuseOutside(request, JSON_BODY)
    flow.mayWrite(request)
    const body = bodyOf(checkCreate, request.body)
    const userId = Number((request.params as { userId: string }).userId)
    return send(reply, await flow.create(request, userId, body, createParams(body)))
  })

  fastify.patch(DEVICE_ROUTE, operation('updateDevice', 'Change a MOR device',
    'Changes the fields the JSON merge patch names with MOR\'s `device_update` and answers with the device\'s details as MOR has them ' +
      'after the change. Send the `ETag` of `GET /v1/devices/{deviceId}` in `If-Match` so the change never lands on a device someone else has changed since (412). ' +
      `${retrySafe} A PIN or password may be sent; no answer ever shows one.`,
    DeviceIdParamsSchema,
    {
      200: jsonResponse('Changed: the device as MOR has it now', Details, { ...ETAG, ...REPLAYED }),
      204: { description: 'Changed, but MOR\'s copy of the device could not be read back: read it with GET', type: 'null', headers: REPLAYED }
    },
    { ref: 'DevicePatch', type: MERGE_PATCH }
  ), async (request, reply) => {
    if (request.validationError) throw new InvalidDeviceIdError()
    refuseOutside(request, MERGE_PATCH)
    flow.mayWrite(request)
    const patch = bodyOf(checkPatch, request.body)
    const deviceId = Number((request.params as { deviceId: string }).deviceId)
    return send(reply, await flow.update(request, deviceId, patch, updateParams(patch)))
  })

  fastify.delete(DEVICE_ROUTE, operation('deleteDevice', 'Delete a MOR device',
    'Deletes the device with MOR\'s `device_delete`. MOR keeps a device that something still uses (calls, forwarded calls, dial plans, ' +
      `a queue): a 409 says what. Send its \`ETag\` in \`If-Match\` to delete it only as you last read it. ${retrySafe}`,
    DeviceIdParamsSchema,
    { 204: { description: 'Deleted', type: 'null', headers: REPLAYED } }
  ), async (request, reply) => {
    if (request.validationError) throw new InvalidDeviceIdError()
    refuseOutside(request, undefined)
    flow.mayWrite(request)
    const deviceId = Number((request.params as { deviceId: string }).deviceId)
    return send(reply, await flow.remove(request, deviceId))
  })
}
