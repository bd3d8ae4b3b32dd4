// The simulator's seeded MOR data: a handful of users with the device kinds a real MOR holds
// (registered and dynamic SIP, IAX2 trunks, FAX, Virtual), plus generated bulk users for load.
// Device secrets (and, in device details, PINs and voicemail passwords) are included on purpose:
// MOR sends them, and the gateway must drop them.

export interface SimDevice {
  device_id: number
  device_type: string
  devicegroup_id?: number
  primary_device?: 'yes' | 'no'
  username?: string
  secret?: string
  ipaddr?: string
  port?: number | ''
  callerid?: string
  /** What only device_details_get shows; xml.ts fills in plausible defaults for the rest. */
  extras?: SimDeviceExtras
}

export interface SimCodecs { audio: string[], video: string[] }

export interface SimDeviceExtras {
  description?: string
  pin?: string
  /** 'dynamic' (the default) or a fixed address. */
  host?: string
  /** MOR's trunk setting: 0 no, 1 yes, 2 yes with ANI. */
  istrunk?: '0' | '1' | '2'
  voicemailPassword?: string
  codecs?: SimCodecs
  /** The extension that rings the device; absent: its username, as MOR makes it. */
  extension?: string
}

export interface SimUser {
  id: number
  username: string
  devices: SimDevice[]
}

export const DEMO_API_USER = 'admin'
export const DEMO_API_SECRET = 'demo-secret-456789'

// Details of a few seeded devices; the others get xml.ts's defaults.
const DESK_PHONE: SimDeviceExtras = {
  description: 'Reception desk phone', pin: '48210937', voicemailPassword: '77314406', codecs: { audio: ['alaw', 'ulaw', 'g729'], video: [] }
}
const OFFICE_TRUNK: SimDeviceExtras = {
  description: 'Bob & Sons <office> trunk', pin: '00551872', host: '198.51.100.7', istrunk: '2', codecs: { audio: ['g729'], video: [] }
}
const VIDEO_SOFTPHONE: SimDeviceExtras = { description: 'Dávid\'s softphone', codecs: { audio: ['opus', 'alaw'], video: ['h264', 'vp8'] } }

export const SEEDED_USERS: SimUser[] = [
  { id: 0, username: 'admin', devices: [] },
  {
    id: 2,
    username: 'alice',
    devices: [
      { device_id: 5, device_type: 'SIP', devicegroup_id: 2, primary_device: 'yes', username: '201', secret: 'Xk9#pL2q', ipaddr: '192.0.2.10', port: 5060, callerid: '"Alice" <201>', extras: DESK_PHONE },
      { device_id: 6, device_type: 'SIP', devicegroup_id: 2, primary_device: 'no', username: '202', secret: 'mP4!zR8w', ipaddr: '0.0.0.0', port: 0, callerid: '"Alice Mobile" <202>' },
      { device_id: 7, device_type: 'FAX', devicegroup_id: 2, primary_device: 'no', username: '203', secret: '', ipaddr: '', port: '', callerid: '' }
    ]
  },
  {
    id: 3,
    username: 'bob',
    devices: [
      { device_id: 55, device_type: 'IAX2', devicegroup_id: 3, primary_device: 'yes', username: '101', secret: 'iax-Trunk-77', ipaddr: '198.51.100.7', port: 4569, callerid: '"Bob & Sons" <101>', extras: OFFICE_TRUNK }
    ]
  },
  { id: 4, username: 'carol', devices: [] },
  {
    id: 5,
    username: 'dave',
    devices: [
      { device_id: 80, device_type: 'Virtual', devicegroup_id: 5, primary_device: 'yes', username: '301', ipaddr: '', port: 0 },
      { device_id: 81, device_type: 'SIP', devicegroup_id: 5, primary_device: 'no', username: '302', secret: 'q<w>e"r\'t&y', ipaddr: '203.0.113.45', port: 5080, callerid: '"Dávid Ö" <302>', extras: VIDEO_SOFTPHONE },
      { device_id: 82, device_type: 'SIP', devicegroup_id: 5, primary_device: 'no', username: '303', secret: 's3cr3t-303', ipaddr: '0.0.0.0', port: 0, callerid: '<303>' },
      { device_id: 83, device_type: 'H323', devicegroup_id: 5, primary_device: 'no', username: '304', secret: 'h323-304', ipaddr: '203.0.113.46', port: 1720, callerid: '"Dave Desk" <304>' },
      { device_id: 84, device_type: 'SIP', devicegroup_id: 5, primary_device: 'no', username: '305', secret: 's3cr3t-305', ipaddr: '203.0.113.47', port: 5060, callerid: '"Dave Lab" <305>' }
    ]
  }
]

/** Generated device i of a generated user: its id is userId * 10,000 + i. */
function generatedDevice (userId: number, i: number): SimDevice {
  const n = userId * 10_000 + i
  return {
    device_id: n,
    device_type: i % 7 === 0 ? 'IAX2' : 'SIP',
    devicegroup_id: userId,
    primary_device: i === 0 ? 'yes' : 'no',
    username: String(n),
    secret: `gen-${n}`,
    ipaddr: i % 3 === 0 ? '0.0.0.0' : `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    port: i % 3 === 0 ? 0 : 5060,
    callerid: `"User ${n}" <${n}>`
  }
}

/** A generated user for load tests and the benchmark; the same id always gives the same devices. */
export function generatedUser (id: number, deviceCount: number): SimUser {
  const devices: SimDevice[] = []
  for (let i = 0; i < deviceCount; i++) devices.push(generatedDevice(id, i))
  return { id, username: `bulk${id}`, devices }
}

/** Users 100..199 have 5,000 devices each (about 1.9 MB of XML): the large-answer case. */
export const LARGE_USER_ID = 100
export const LARGE_LAST_ID = 199
export const LARGE_USER_DEVICES = 5000

/**
 * Users BULK_FIRST_ID..BULK_LAST_ID exist with BULK_DEVICES devices each, for many-user tests. The
 * last is the highest user whose generated device ids (userId * 10,000 + i) stay within MOR's INT
 * ids (2147483647), as real MOR's do.
 */
export const BULK_FIRST_ID = 1000
export const BULK_LAST_ID = 214_747
export const BULK_DEVICES = 5

/**
 * Ids for devices that device_create adds: users LARGE_LAST_ID + 1 .. BULK_FIRST_ID - 1 have no
 * generated devices, so the ids userId * 10,000 + i of that gap belong to no seeded or generated
 * device (the bulk range reaches 2147474704, leaving too few INT ids above it).
 */
export const CREATED_DEVICE_IDS = { first: (LARGE_LAST_ID + 1) * 10_000, last: BULK_FIRST_ID * 10_000 - 1 } as const

function generatedCount (userId: number): number {
  if (userId >= LARGE_USER_ID && userId <= LARGE_LAST_ID) return LARGE_USER_DEVICES
  if (userId >= BULK_FIRST_ID && userId <= BULK_LAST_ID) return BULK_DEVICES
  return 0
}

export function findUser (id: number): SimUser | undefined {
  const generated = generatedCount(id)
  if (generated > 0) return generatedUser(id, generated)
  return SEEDED_USERS.find((u) => u.id === id)
}

/** A device and the id of the user it belongs to. */
export interface SimOwnedDevice { userId: number, device: SimDevice }

/** Any seeded or generated device by its id, without generating a whole user's list. */
export function findDevice (id: number): SimOwnedDevice | undefined {
  for (const user of SEEDED_USERS) {
    const device = user.devices.find((d) => d.device_id === id)
    if (device) return { userId: user.id, device }
  }
  const userId = Math.floor(id / 10_000)
  const i = id % 10_000
  return i < generatedCount(userId) ? { userId, device: generatedDevice(userId, i) } : undefined
}
