// The root error and not-found handlers: every failure leaves as RFC 9457
// application/problem+json with a stable type slug. 5xx answers never show internals; the log
// gets the context instead.
import { STATUS_CODES, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import fp from 'fastify-plugin'
import { gatewayError, problemOf } from '../problems/gateway-error.js'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { MAX_PROBLEM_DETAIL_LENGTH, type Problem } from '../schemas/problem.js'
import { handedOver, latestExchange } from '../http/handover.js'
import { ClientGoneError } from '../legacy/errors.js'
import { UPSTREAM_KINDS, upstreamKind } from '../mor/errors.js'
import { PROBLEM_TYPE_BASE, PROBLEM_TYPES, problemInstance, type ProblemSlug } from '../problems/catalog.js'

/**
 * Fastify's own errors the gateway answers with a problem of their own: they cannot carry a
 * `problem` (the gateway's errors do, gateway-error.ts); any other 4xx of Fastify's is invalid-request.
 */
const FRAMEWORK_PROBLEMS: Record<string, ProblemSlug> = {
  FST_ERR_VALIDATION: 'invalid-request',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload-too-large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported-media-type'
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

/** What the error is to a client: the problem it names, else an upstream failure by its kind, else Fastify's by its code. */
function knownKind (error: FastifyError): ProblemSlug | undefined {
  const named = problemOf(error)
  if (named !== undefined) return named
  if (Object.hasOwn(FRAMEWORK_PROBLEMS, error.code)) return FRAMEWORK_PROBLEMS[error.code]
  const kind = upstreamKind(error)
  return kind === undefined ? undefined : UPSTREAM_KINDS[kind].slug
}

export function toProblem (error: FastifyError): Problem {
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
export function frameworkErrorProblem (error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400
  sendProblem(reply, problem('invalid-request', status, 'The request URL is not valid'))
}

/** Node's request timeout (REQUEST_TIMEOUT_MS, HEADERS_TIMEOUT_MS) met by a request still arriving. */
export const RequestTimeoutError = gatewayError('request-timeout', 'CLIENT_REQUEST_TIMEOUT', 'The request did not arrive in time', 408)
/** Node's HTTP parser refused what followed the headers (a malformed chunk, say). */
export const MalformedRequestError = gatewayError('invalid-request', 'CLIENT_MALFORMED_REQUEST', 'The request is not valid HTTP', 400)

/** Connections whose answer under way is their last: nothing more is read from them. */
const ending = new WeakSet<Duplex>()

/** Socket errors that mean the client went away, not that it sent something wrong. */
const CLIENT_LEFT = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED'])

/**
 * What a socket error is to a request still arriving: the request timeout, the client leaving (a
 * reset mid-upload: the relay ends its call as `gone`, counted and never logged as an error), or
 * bytes Node's parser refused.
 */
function asClientError (error: Error & { code?: string }): Error {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return new RequestTimeoutError()
  return error.code !== undefined && CLIENT_LEFT.has(error.code) ? new ClientGoneError() : new MalformedRequestError()
}

/**
 * The connection closes once the answer under way has gone out whole; nothing else is read from it.
 * Node's parser has failed, so it would refuse every later byte anyway.
 */
function closeAfterAnswer (socket: Duplex, answer: ServerResponse | undefined): void {
  ending.add(socket)
  socket.pause()
  // Ended, then destroyed once the answer is out: a paused socket never reads the client's own close.
  const close = () => { socket.end(() => socket.destroy()) }
  if (answer && !answer.writableFinished) answer.once('close', close)
  else close()
}

/**
 * Requests Node's HTTP parser refuses (a malformed request line, headers over 16 KiB, a request
 * slower than REQUEST_TIMEOUT_MS) never reach Fastify: the server option `clientErrorHandler`
 * decides here. A connection carries at most one answer per request, so a problem is written
 * only when no request on it is being answered: an error inside the body of a request a route
 * already has (answered or not) is that route's to answer (the passthrough answers 408 or 400),
 * and garbage pipelined behind an answer in progress closes the connection after that answer.
 */
export function clientErrorProblem (error: Error & { code?: string }, socket: Duplex): void {
  if (ending.has(socket)) return
  // The latest request on the connection (the front door notes each one); answers leave in
  // order, so when its answer has finished, no answer is under way.
  const latest = latestExchange(socket)
  const answer = latest !== undefined && !latest.res.writableFinished ? latest.res : undefined
  if (latest !== undefined && !latest.req.complete) {
    const failBody = handedOver(latest.req)?.failBody
    if (failBody === undefined && answer !== undefined && !answer.headersSent && socket.writable) {
      // A framework route still reading its body will never get the rest: answer for it, and close.
      ending.add(socket)
      socket.end(rawProblem(error), () => socket.destroy())
      return
    }
    failBody?.(asClientError(error))
    closeAfterAnswer(socket, answer)
    return
  }
  if (answer !== undefined) return closeAfterAnswer(socket, answer)
  if (!socket.writable) {
    socket.destroy()
    return
  }
  socket.end(rawProblem(error))
}

function rawProblem (error: Error & { code?: string }): string {
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400
  const detail = status === 431 ? 'The request headers are too large' : status === 408 ? 'The request did not arrive in time' : 'The request is not valid HTTP'
  const body = JSON.stringify(problem(status === 408 ? 'request-timeout' : 'invalid-request', status, detail))
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: application/problem+json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`
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
