// What a request for one id, without a query, asks of a catalogue resource (the MOR client's tests).
import type { Ask } from '../../src/catalogue/resource.js'

export const ask = (id: number): Ask => ({ id, query: {} })
