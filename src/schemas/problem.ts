// RFC 9457 problem details, the body of every error the gateway answers.
import { Type, type Static } from 'typebox'
import { PROBLEM_SLUGS, PROBLEM_TYPE_BASE } from '../problems/catalog.js'

export const ProblemSchema = Type.Object({
  type: Type.Unsafe<string>({
    type: 'string',
    enum: PROBLEM_SLUGS.map((slug) => PROBLEM_TYPE_BASE + slug),
    description: 'stable URI reference to a page describing the problem (GET it); match on its last segment, the slug'
  }),
  title: Type.String(),
  status: Type.Integer({ minimum: 400, maximum: 599 }),
  detail: Type.String(),
  instance: Type.Optional(Type.String({ description: 'the request, as `urn:uuid:<X-Request-Id>`: quote it to support (absent when the caller chose its own X-Request-Id)' }))
}, { $id: 'Problem', additionalProperties: false })
export type Problem = Static<typeof ProblemSchema>

/** The shared Problem component, by reference. */
export const ProblemRef = Type.Unsafe<Problem>({ $ref: 'Problem#' })
