// GET /v1/users/:userId/devices: the user's MOR devices as JSON.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import createError from '@fastify/error'
import { DevicesResponseSchema, UserIdParamsSchema } from '../schemas/device.js'
import { ProblemSchema } from '../schemas/problem.js'

const InvalidUserIdError = createError('FST_ERR_VALIDATION', 'userId must be a decimal integer from 0 to 2147483647, without sign or leading zeros', 400)

const problemResponse = (description: string) => ({ ...ProblemSchema, description })

const devicesRoute: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/v1/users/:userId/devices', {
    // Validation failures reach the handler, which answers with the contract's wording rather
    // than Ajv's regex dump.
    attachValidation: true,
    schema: {
      operationId: 'listUserDevices',
      summary: 'List a MOR user\'s devices',
      tags: ['devices'],
      params: UserIdParamsSchema,
      response: {
        200: DevicesResponseSchema,
        400: problemResponse('invalid userId'),
        404: problemResponse('MOR says User not found'),
        502: problemResponse('MOR rejected the call, answered badly or could not be reached'),
        504: problemResponse('MOR did not answer in time')
      }
    }
  }, async (request) => {
    if (request.validationError) throw new InvalidUserIdError()
    const userId = Number(request.params.userId)
    return { userId, devices: await fastify.mor.getDevices(userId) }
  })
}

export default devicesRoute
