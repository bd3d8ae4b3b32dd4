// The device read methods as catalogue entries: a user's devices (devices_get) and one device's
// details (device_details_get). Their MOR side, routes, queries, scopes and cache policy are
// described here as every entry's are, and their fields in device-fields.ts with the same field
// kinds. What is a device's alone the entries name rather than the pipeline knowing it:
// - `read`: every listed device has an id and a type (else the answer is not MOR's), and details
//   must be of the device asked for (mor/map.ts, mor/map-details.ts);
// - `view`: a device list's filters (`type`, `primary`) and its cursors (paging/page.ts);
// - `cachedAs`: both are cached under their subject, which writes, the invalidation bus and the
//   passthrough's device-to-owner map move (the lists fill that map);
// - `whose: 'answer'`: a device is read through the scope of the owner MOR names in its details;
// - `schemas`: a list answers as one of two components (DeviceList without `limit`, DevicePage
//   with it), so typed clients can name each.
import type { TObject } from 'typebox'
import type { MorMethod } from './resource.js'
import { defineResource } from './resource.js'
import { DEVICE_FIELDS, DETAILS_FIELDS } from './device-fields.js'
import { integer, text } from './fields.js'
import { DeviceSchema, MAX_DEVICE_TYPE_LENGTH, MAX_DEVICES } from '../schemas/device.js'
import { DeviceDetailsSchema } from '../schemas/device-details.js'
import { DeviceListSchema, DevicePageSchema, DevicesAnswerSchema, ListQuerySchema } from '../schemas/device-list.js'
import { LIST_QUERY_REFUSALS } from '../paging/list-query.js'
import { DEVICE_ROUTE, DEVICES_ROUTE, listView, MY_DEVICES_ROUTE } from '../devices/contract.js'
import { readDeviceDetails, readDeviceList } from '../mor/device-reads.js'

export const DEVICES_GET: MorMethod = {
  name: 'devices_get',
  oldNames: ['device_list'],
  hashed: ['user_id'],
  subject: 'user_id',
  notFound: ['User not found'],
  credentials: ['secret']
}

export const DEVICE_DETAILS_GET: MorMethod = {
  name: 'device_details_get',
  oldNames: [],
  hashed: ['device_id'],
  subject: 'device_id',
  notFound: ['Device was not found'],
  credentials: ['secret', 'pin', 'voicemail_password']
}

/** A schema's first example (the device schemas carry theirs, which the contract shows). */
const exampleOf = (schema: TObject) => ((schema as { examples?: unknown[] }).examples?.[0] ?? {}) as Record<string, unknown>

/** The id of what the path names (a device list's user, a device): the routes always have one. */
const idOf = (ask: { id: number | undefined }) => ask.id ?? 0

export const deviceList = defineResource({
  name: 'devices',
  mor: DEVICES_GET,
  route: {
    path: DEVICES_ROUTE,
    operationId: 'listUserDevices',
    idParam: 'userId',
    apiTag: 'devices',
    summary: 'List a MOR user\'s devices',
    description: 'The devices of one MOR user, in MOR\'s order, from the cache or from MOR\'s `devices_get`. ' +
      'Filter with `type` and `primary`; page with `limit`, then `cursor` set to the answer\'s `nextCursor` (also in the `Link` header). ' +
      'Every page and filter is served from one cached copy of the list. ' +
      'Send `Cache-Control: no-cache` to revalidate with MOR, `If-None-Match` to get a 304 when nothing changed.',
    mine: {
      path: MY_DEVICES_ROUTE,
      operationId: 'listMyDevices',
      summary: 'List the caller\'s own MOR user\'s devices',
      description: 'For an API key or token whose scope is exactly one MOR user: that user\'s devices, the same answer as ' +
        '`/v1/users/{thatId}/devices`, with the same filters and paging. A caller that may read several users names one with that route instead.'
    }
  },
  query: ListQuerySchema,
  queryRefusals: LIST_QUERY_REFUSALS,
  paged: true,
  whose: 'path',
  params: (ask) => ({ user_id: String(idOf(ask)) }),
  key: (ask) => String(idOf(ask)),
  cachedAs: (ask) => ({ userId: idOf(ask) }),
  head: {},
  list: {
    key: 'devices',
    at: [['devices']],
    tag: 'device',
    // What `read` reads with: the id and type every listed device must have are read by mor/map.ts
    // (a device without them is a bad answer, not a null), the rest by these very fields.
    item: { id: integer('device_id'), type: text('device_type', MAX_DEVICE_TYPE_LENGTH), ...DEVICE_FIELDS },
    maxItems: MAX_DEVICES
  },
  read: (page, ask) => readDeviceList(page, idOf(ask)),
  view: (entry, ask, path, search) => listView(entry, idOf(ask), path, search),
  schemas: { answer: DeviceListSchema, item: DeviceSchema, response: DevicesAnswerSchema, components: [DeviceListSchema, DevicePageSchema] },
  schemaId: 'DeviceList',
  description: 'The user\'s devices: a `DeviceList` without `limit`, a `DevicePage` with it',
  example: exampleOf(DeviceListSchema)
})

export const deviceDetails = defineResource({
  name: 'device',
  mor: DEVICE_DETAILS_GET,
  route: {
    path: DEVICE_ROUTE,
    operationId: 'getDevice',
    idParam: 'deviceId',
    apiTag: 'devices',
    summary: 'Get one MOR device\'s details',
    description: 'One device\'s details from the cache or from MOR\'s `device_details_get`: cached, coalesced and served stale like the lists. ' +
      'Credentials (the device\'s secret, PIN, passwords) are never included. A device of a user this caller may not read is answered ' +
      'as not found. Send `Cache-Control: no-cache` to revalidate with MOR, `If-None-Match` to get a 304 when nothing changed.'
  },
  whose: 'answer',
  missing: 'device',
  params: (ask) => ({ device_id: String(idOf(ask)) }),
  key: (ask) => String(idOf(ask)),
  cachedAs: (ask) => ({ deviceId: idOf(ask) }),
  // What `read` reads with: the id is checked against the one asked for by mor/map-details.ts, the
  // rest read by these very fields.
  head: { id: integer('id'), ...DETAILS_FIELDS },
  arrays: ['codec'],
  read: (page, ask) => readDeviceDetails(page, idOf(ask)),
  schemas: { answer: DeviceDetailsSchema },
  schemaId: 'DeviceDetails',
  description: 'The device\'s details',
  example: exampleOf(DeviceDetailsSchema)
})
