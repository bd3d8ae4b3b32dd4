// RFC 9457 problem details, the body of every error the gateway answers.
import { Type, type Static } from 'typebox'

export const ProblemSchema = Type.Object({
  type: Type.String({ description: 'stable URI reference; its last segment is the slug documented in the README' }),
  title: Type.String(),
  status: Type.Integer({ minimum: 400, maximum: 599 }),
  detail: Type.String(),
  instance: Type.Optional(Type.String())
}, { $id: 'Problem', additionalProperties: false })
export type Problem = Static<typeof ProblemSchema>

/** The shared Problem component, by reference. */
export const ProblemRef = Type.Unsafe<Problem>({ $ref: 'Problem#' })
