// The root error and not-found handlers: every failure leaves as RFC 9457
// application/problem+json with a stable type slug. 5xx answers never show internals; the log
// gets the context instead.
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import fp from 'fastify-plugin'
import createError from '@fastify/error'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { MAX_PROBLEM_DETAIL_LENGTH, type Problem } from '../schemas/problem.js'
import { failRelayedRequest } from '../legacy/relay.js'
import { UPSTREAM_KINDS, upstreamKind } from '../mor/errors.js'
import { PROBLEM_TYPE_BASE, PROBLEM_TYPES, problemInstance, type ProblemSlug } from '../problems/catalog.js'

/** The gateway's own errors, by code, and the problem each is to a client. */
const KINDS: Record<string, ProblemSlug> = {
  FST_ERR_VALIDATION: 'invalid-request',
  INVALID_USER_ID: 'invalid-request',
  INVALID_DEVICE_ID: 'invalid-request',
  INVALID_QUERY: 'invalid-request',
  STALE_CURSOR: 'stale-cursor',
  // An upstream kind ('not-found') shared with User not found, told apart by its code.
  MOR_DEVICE_NOT_FOUND: 'device-not-found',
  NOT_ONE_USER: 'invalid-request',
  UNAUTHORIZED: 'unauthorized',
  FORBIDDEN_USER: 'forbidden',
  RATE_LIMITED: 'rate-limited',
  UPSTREAM_BUDGET_EXHAUSTED: 'rate-limited',
  GATEWAY_OVERLOADED: 'overloaded',
  LEGACY_FORBIDDEN: 'forbidden',
  LEGACY_INVALID_PATH: 'invalid-request',
  LEGACY_BODY_TOO_LARGE: 'payload-too-large',
  LEGACY_WRITE_UNREADABLE: 'invalid-request',
  LEGACY_WRITE_AS_HEAD: 'invalid-request',
  LEGACY_BUSY: 'overloaded',
  CLIENT_REQUEST_TIMEOUT: 'request-timeout',
  CLIENT_MALFORMED_REQUEST: 'invalid-request',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload-too-large'
}

export function problem (slug: ProblemSlug, status: number, detail: string): Problem {
  // The contract bounds detail; no detail the gateway writes is that long, but none may pass it.
  const bounded = detail.length <= MAX_PROBLEM_DETAIL_LENGTH ? detail : `${detail.slice(0, MAX_PROBLEM_DETAIL_LENGTH - 3)}...`
  return { type: PROBLEM_TYPE_BASE + slug, title: PROBLEM_TYPES[slug].title, status, detail: bounded }
}

/** Sends a problem, its `instance` naming the request (so it can be quoted to support). */
export function sendProblem (reply: FastifyReply, body: Problem): FastifyReply {
  const instance = problemInstance(reply.request.id)
  return reply.code(body.status).type('application/problem+json').send(instance === undefined ? body : { ...body, instance })
}

/** What the error is to a client: by its code when listed, else an upstream failure by its kind. */
function knownKind (error: FastifyError): ProblemSlug | undefined {
  const listed = Object.hasOwn(KINDS, error.code) ? KINDS[error.code] : undefined
  if (listed !== undefined) return listed
  const kind = upstreamKind(error)
  return kind === undefined ? undefined : UPSTREAM_KINDS[kind].slug
}

function toProblem (error: FastifyError): Problem {
  const known = knownKind(error)
  const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500
  if (known) return problem(known, status, error.message)
  // Fastify's own 4xx errors (bad JSON, body too large, ...) are safe to describe; anything else is a bug.
  if (status < 500) return problem('invalid-request', status, error.message)
  return problem('internal-error', 500, 'The gateway failed to handle this request.')
}

/** The path alone, shortened: the query may carry credentials and the path is caller-controlled. */
function pathOf (url: string): string {
  const path = url.split('?')[0] ?? ''
  return path.length > 200 ? `${path.slice(0, 200)}...` : path
}

/**
 * Errors Fastify raises before routing (an undecodable URL such as `/%zz`): the root error
 * handler never sees them, so the server option `frameworkErrors` sends them as problems here.
 */
export function frameworkErrorProblem (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', request.id) // no onRequest hook has run to set it
  const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400
  sendProblem(reply, problem('invalid-request', status, 'The request URL is not valid'))
}

/** Node's request timeout (REQUEST_TIMEOUT_MS, HEADERS_TIMEOUT_MS) met by a request still arriving. */
export const RequestTimeoutError = createError('CLIENT_REQUEST_TIMEOUT', 'The request did not arrive in time', 408)
/** Node's HTTP parser refused what followed the headers (a malformed chunk, say). */
export const MalformedRequestError = createError('CLIENT_MALFORMED_REQUEST', 'The request is not valid HTTP', 400)

const kAnswerEnds = Symbol('connection closes once its answer ends')

/** What Node's HTTP server keeps on a socket, read the way Node's own client-error handler reads it. */
interface HttpSocket extends Duplex {
  /** The answer in progress on this connection, if any. */
  _httpMessage?: ServerResponse | null
  /** The parser; `incoming` is the request it is parsing or last parsed. */
  parser?: { incoming?: IncomingMessage | null } | null
  [kAnswerEnds]?: true
}

function asClientError (error: Error & { code?: string }): Error {
  return error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? new RequestTimeoutError() : new MalformedRequestError()
}

/**
 * The connection closes once the answer under way has gone out whole; nothing else is read from it.
 * Node's parser has failed, so it would refuse every later byte anyway.
 */
function closeAfterAnswer (socket: HttpSocket): void {
  socket[kAnswerEnds] = true
  socket.pause()
  const answer = socket._httpMessage
  if (answer && !answer.writableFinished) answer.once('close', () => socket.end())
  else socket.end()
}

/**
 * Requests Node's HTTP parser refuses (a malformed request line, headers over 16 KiB, a request
 * slower than REQUEST_TIMEOUT_MS) never reach Fastify: the server option `clientErrorHandler`
 * decides here. A connection carries at most one answer per request, so a problem is written
 * only when no request on it is being answered: an error inside the body of a request a route
 * already has (answered or not) is that route's to answer (the passthrough answers 408 or 400),
 * and garbage pipelined behind an answer in progress closes the connection after that answer.
 */
export function clientErrorProblem (error: Error & { code?: string }, rawSocket: Duplex): void {
  const socket = rawSocket as HttpSocket
  if (socket[kAnswerEnds]) return
  const current = socket.parser?.incoming
  if (current && !current.complete) {
    // The passthrough answers it (408, 400) if its answer has not started; any other route's
    // answer stands. Either way the connection ends with that answer.
    failRelayedRequest(current, asClientError(error))
    closeAfterAnswer(socket)
    return
  }
  if (socket._httpMessage) return closeAfterAnswer(socket)
  if (!socket.writable) {
    socket.destroy()
    return
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400
  const detail = status === 431 ? 'The request headers are too large' : status === 408 ? 'The request did not arrive in time' : 'The request is not valid HTTP'
  const body = JSON.stringify(problem(status === 408 ? 'request-timeout' : 'invalid-request', status, detail))
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: application/problem+json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
}

export default fp(async (fastify) => {
  fastify.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const body = toProblem(error)
    // Errors that know when to come back say so (an open circuit, for one).
    const retryAfter = (error as { retryAfter?: unknown }).retryAfter
    if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter))
    // A 405 names the methods that would do (RFC 9110 15.5.6).
    const allow = (error as { allow?: unknown }).allow
    if (typeof allow === 'string') reply.header('allow', allow)
    // A known failure (MOR down, the passthrough full) is a warning; anything else is a bug.
    if (body.status >= 500) {
      const known = knownKind(error) !== undefined
      const message = upstreamKind(error) !== undefined ? 'upstream failure' : known ? 'request refused' : 'unhandled error'
      request.log[known ? 'warn' : 'error']({ err: error, problem: body.type }, message)
    }
    return sendProblem(reply, body)
  })

  fastify.setNotFoundHandler((request, reply) => {
    return sendProblem(reply, problem('not-found', 404, `No route for ${request.method} ${pathOf(request.url)}`))
  })
}, { name: 'problems', fastify: '5.x' })
