// RFC 9457 problem details, the body of every error the gateway answers.
import { Type, type Static } from 'typebox'
import { PROBLEM_SLUGS, PROBLEM_TYPE_BASE, PROBLEM_TYPES } from '../problems/catalog.js'

/**
 * Longer than any detail the gateway writes: its own messages, a route path cut at 200 characters,
 * a reason from the MOR client, or one of MOR's documented error messages.
 */
export const MAX_PROBLEM_DETAIL_LENGTH = 1024

export const ProblemSchema = Type.Object({
  type: Type.Unsafe<string>({
    type: 'string',
    enum: PROBLEM_SLUGS.map((slug) => PROBLEM_TYPE_BASE + slug),
    description: 'stable URI reference to a page describing the problem (GET it); match on its last segment, the slug'
  }),
  title: Type.Unsafe<string>({ type: 'string', enum: [...new Set(Object.values(PROBLEM_TYPES).map(({ title }) => title))], description: 'the title of the problem type' }),
  status: Type.Integer({ format: 'int32', minimum: 400, maximum: 599 }),
  detail: Type.String({ maxLength: MAX_PROBLEM_DETAIL_LENGTH, description: 'what went wrong with this request, in words' }),
  instance: Type.Optional(Type.String({
    pattern: '^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
    maxLength: 45,
    description: 'the request, as `urn:uuid:<X-Request-Id>`: quote it to support (absent when the caller chose its own X-Request-Id)'
  }))
}, { $id: 'Problem', additionalProperties: false })
export type Problem = Static<typeof ProblemSchema>
