// The gateway's own errors carry the problem they are to a client as data, as MOR's failures carry
// their kind (mor/errors.ts): the problems handler reads `problem` from the error, so a new error
// cannot be forgotten in a table elsewhere, and no code string is matched twice.
import createError from '@fastify/error'
import { isProblemSlug, type ProblemSlug } from './catalog.js'

/** A Fastify error class (code, status, message with %s/%d) whose instances name their problem type. */
export function gatewayError (problem: ProblemSlug, code: string, message: string, statusCode: number) {
  return class extends createError(code, message, statusCode) {
    readonly problem: ProblemSlug = problem
  }
}

/** The problem an error says it is, or undefined for an error that does not say. */
export function problemOf (err: unknown): ProblemSlug | undefined {
  const problem = (err as { problem?: unknown } | undefined)?.problem
  return typeof problem === 'string' && isProblemSlug(problem) ? problem : undefined
}
