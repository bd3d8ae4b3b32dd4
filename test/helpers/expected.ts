// What the gateway owes for the simulator's data, built from the simulator's own records.
import { expect } from 'vitest'
import { BULK_DEVICES, generatedUser } from '../../src/demo/data.js'

/** The JSON the gateway makes of a generated bulk user (ids BULK_FIRST_ID..BULK_LAST_ID). */
export function expectedBulkBody (userId: number) {
  return {
    userId,
    devices: generatedUser(userId, BULK_DEVICES).devices.map((d) => ({
      id: d.device_id,
      type: d.device_type,
      ipAddress: d.ipaddr === '' ? null : d.ipaddr,
      port: d.port,
      username: d.username,
      callerId: d.callerid,
      deviceGroupId: d.devicegroup_id,
      primary: d.primary_device === 'yes'
    })),
    nextCursor: null
  }
}

/** A problem's `instance`: the gateway's request id as a URN (problems/catalog.ts). */
export const INSTANCE = expect.stringMatching(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)

/** The problem body the gateway answers, `instance` included (it names the request, so it varies). */
export const problem = (slug: string, title: string, status: number, detail: string) => ({ type: `/problems/${slug}`, title, status, detail, instance: INSTANCE })

/** A problem the HTTP parser's refusal gets: no request was made of it, so no `instance`. */
export const parserProblem = (slug: string, title: string, status: number, detail: string) => ({ type: `/problems/${slug}`, title, status, detail })

/** A problem body without its `instance`, to compare two answers to different requests. */
export const withoutInstance = (body: unknown) => {
  const { instance, ...rest } = body as { instance?: unknown }
  expect(instance).toEqual(INSTANCE)
  return rest
}

/** Device 5, Alice's desk phone, as the gateway owes it from the simulator: every field, no credential. */
export const DESK_PHONE_DETAILS = {
  id: 5,
  userId: 2,
  type: 'SIP',
  name: '201',
  username: '201',
  extension: '201',
  callerId: '"Alice" <201>',
  description: 'Reception desk phone',
  host: 'dynamic',
  ipAddress: '192.0.2.10',
  port: 5060,
  registrationExpires: '2026-01-01T00:00:00.000Z',
  fullContact: 'sip:201@192.0.2.10:5060',
  context: 'mor_local',
  deviceGroupId: 2,
  primaryDidId: 0,
  transport: 'udp',
  nat: 'yes',
  qualify: '1000',
  dtmfMode: 'rfc2833',
  callGroup: '1',
  pickupGroup: '1',
  voicemailActive: true,
  record: false,
  trunk: false,
  videoSupport: false,
  codecs: { audio: ['alaw', 'ulaw', 'g729'], video: [] }
}
