// GET /problems/{slug}: what each problem `type` points to, a short page a person can read. HTML for
// a browser, the same words as plain text for anything else; an unknown slug is a 404 problem.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { isProblemSlug, PROBLEM_SLUGS, PROBLEM_TYPES, type ProblemSlug } from '../problems/catalog.js'
import { problemResponses } from '../schemas/problem-answers.js'

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** True when the client would rather have HTML than plain text (a browser's Accept). */
function wantsHtml (accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*text\/html\s*(;|,|$)/i.test(accept)
}

const pageText = (slug: ProblemSlug) => `${PROBLEM_TYPES[slug].title}\n\n${PROBLEM_TYPES[slug].text}\n`

function pageHtml (slug: ProblemSlug): string {
  const { title, text } = PROBLEM_TYPES[slug]
  return '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    `<title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>` +
    `<p><code>${escapeHtml(slug)}</code> &middot; <a href="/docs">API documentation</a></p></body></html>`
}

/** The pages are fixed words: the contract states the length of the longest of each kind. */
const longest = (page: (slug: ProblemSlug) => string) => Math.max(...PROBLEM_SLUGS.map((slug) => page(slug).length))

const problemPages: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/problems/:slug', {
    schema: {
      operationId: 'getProblemType',
      summary: 'What a problem type means',
      description: 'The page a problem\'s `type` points to: its title and what to do about it. HTML when the client accepts it, else plain text.',
      tags: ['operations'],
      security: [],
      params: Type.Object({ slug: Type.String({ enum: PROBLEM_SLUGS, description: 'the last segment of a problem\'s `type`' }) }),
      response: {
        200: {
          description: 'The problem type described',
          content: {
            'text/plain': { schema: Type.String({ maxLength: longest(pageText) }) },
            'text/html': { schema: Type.String({ maxLength: longest(pageHtml) }) }
          }
        },
        ...problemResponses('getProblemType')
      }
    },
    // An unknown slug is answered as the not-found route would be, not as a validation error.
    attachValidation: true
  }, async (request, reply) => {
    const { slug } = request.params
    if (!isProblemSlug(slug)) return reply.callNotFound()
    // Static words: cacheable for a day by anyone.
    reply.header('cache-control', 'public, max-age=86400').header('vary', 'Accept')
    if (!wantsHtml(request.headers.accept)) return reply.type('text/plain; charset=utf-8').send(pageText(slug))
    return reply.type('text/html; charset=utf-8').send(pageHtml(slug))
  })
}

export default problemPages
