// The catalogue: every MOR read method the gateway serves as JSON, each by its description. Adding one is an
// entry here, its simulator answer (src/demo/catalogue.ts) and its tests (docs/catalogue.md).
import type { Resource } from './resource.js'
import { userDetails, usersList } from './users.js'
import { userCalls } from './calls.js'
import { userPayments } from './payments.js'
import { deviceDetails, deviceList } from './devices.js'

export const CATALOGUE: readonly Resource[] = [deviceList, deviceDetails, usersList, userDetails, userCalls, userPayments]

const byName = new Map(CATALOGUE.map((resource) => [resource.name, resource]))

/** A resource by its name (what crosses to a translation worker), or undefined. */
export const resourceNamed = (name: string): Resource | undefined => byName.get(name)
