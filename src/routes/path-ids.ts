// The refusals of a path id that is not one: the contract's words for each kind of id.
import { gatewayError } from '../problems/gateway-error.js'

export const InvalidUserIdError = gatewayError('invalid-request', 'INVALID_USER_ID', 'userId must be a decimal integer from 0 to 2147483647, without sign or leading zeros', 400)
export const InvalidDeviceIdError = gatewayError('invalid-request', 'INVALID_DEVICE_ID', 'deviceId must be a decimal integer from 0 to 2147483647, without sign or leading zeros', 400)
