// The JSON bodies of the device writes (POST /v1/users/{userId}/devices, PATCH /v1/devices/{deviceId}),
// one field per parameter MOR documents for device_create and device_update
// (shared/mor-api-notes.md). What is documented here is what is checked (devices/write-body.ts
// compiles these schemas) and what is sent to MOR (devices/write-params.ts maps each field). Every
// bound is part of the contract; credentials (`pin`, `password`) are write-only.
import { Type, type Static, type TSchema } from 'typebox'
import { MAX_USER_ID } from './device.js'

/** MOR's device types (device_create's `type`). */
export const DEVICE_TYPES = ['SIP', 'IAX2', 'FAX', 'Virtual', 'H323', 'ZAP', 'Skype'] as const

/** Printable text without control characters: what a form field for MOR may carry. */
export const TEXT_PATTERN = '^[^\\u0000-\\u001f\\u007f]*$'
const TEXT = TEXT_PATTERN
const Text = (maxLength: number, description: string) => Type.String({ maxLength, pattern: TEXT, description })
const Digits = (maxLength: number, description: string, minLength = 1) => Type.String({ minLength, maxLength, pattern: '^[0-9]*$', description })
/** A merge patch's null: the field is cleared (sent to MOR empty). */
const Clearable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])

const pin = (note: string) => Digits(16, `the PIN for calling cards and voicemail, digits only; ${note} Write-only: never shown in any answer`, 0)

export const DeviceCreateSchema = Type.Object({
  type: Type.Union(DEVICE_TYPES.map((type) => Type.Literal(type)), { description: 'the device type' }),
  description: Type.Optional(Text(1024, 'free text shown in MOR')),
  pin: Type.Optional(pin('absent: MOR picks a random one; empty: the device has no PIN.')),
  deviceGroupId: Type.Optional(Type.Integer({ format: 'int32', minimum: 0, maximum: MAX_USER_ID, description: 'the device group; absent: the user\'s default group' })),
  callerId: Type.Optional(Digits(32, 'the caller ID number the device\'s calls show')),
  extension: Type.Optional(Digits(32, 'the extension that rings the device; absent: MOR picks a free one'))
}, {
  $id: 'DeviceCreate',
  additionalProperties: false,
  description: 'A new device. Only `type` is required; MOR fills in the rest (its username and SIP password among them, which no answer shows).',
  examples: [{ type: 'SIP', description: 'Reception desk phone', extension: '205' }]
})
export type DeviceCreate = Static<typeof DeviceCreateSchema>

export const DevicePatchSchema = Type.Object({
  description: Type.Optional(Clearable(Text(1024, 'free text shown in MOR; null clears it'))),
  callerIdNumber: Type.Optional(Clearable(Digits(32, 'the caller ID number; null clears it'))),
  callerIdName: Type.Optional(Clearable(Text(64, 'the caller ID name; null clears it'))),
  authentication: Type.Optional(Type.Union([Type.Literal('dynamic'), Type.Literal('ip')], {
    description: '`dynamic`: the device registers with `username` and `password`; `ip`: MOR sends its calls to `host` and `port`'
  })),
  username: Type.Optional(Type.String({ minLength: 1, maxLength: 80, pattern: '^[A-Za-z0-9._@+-]+$', description: 'the SIP/IAX2 user name the device registers with' })),
  password: Type.Optional(Type.String({ minLength: 1, maxLength: 80, pattern: TEXT, writeOnly: true, description: 'the SIP/IAX2 password (MOR refuses one that is too short). Write-only: never shown in any answer' })),
  host: Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9.:_-]+$', description: 'the address MOR sends calls to (`authentication: ip`), or `dynamic`' })),
  port: Type.Optional(Type.Integer({ format: 'int32', minimum: 1, maximum: 65535, description: 'the port MOR sends calls to' })),
  callLimit: Type.Optional(Type.Integer({ format: 'int32', minimum: 0, maximum: 100000, description: 'simultaneous calls the device may make; 0: no limit' })),
  inboundCallLimit: Type.Optional(Type.Integer({ format: 'int32', minimum: 0, maximum: 100000, description: 'simultaneous calls the device may receive; 0: no limit' })),
  extension: Type.Optional(Digits(32, 'the extension that rings the device')),
  pin: Type.Optional(Clearable(pin('null or empty: the device has no PIN.'))),
  hidden: Type.Optional(Type.Boolean({ description: 'whether MOR hides the device from lists' })),
  language: Type.Optional(Type.String({ minLength: 2, maxLength: 16, pattern: '^[a-z]{2,3}([_-][A-Za-z0-9]{2,8})?$', description: 'the language of the device\'s voice prompts, e.g. `en` or `pt_BR`' })),
  comment: Type.Optional(Clearable(Text(1024, 'an internal comment (MOR X12 and later); null clears it'))),
  transport: Type.Optional(Type.String({ maxLength: 64, pattern: '^(udp|tcp|tls|ws|wss)(,(udp|tcp|tls|ws|wss))*$', description: 'SIP transports, e.g. `udp` or `udp,tcp` (MOR X13 and later)' }))
}, {
  $id: 'DevicePatch',
  additionalProperties: false,
  minProperties: 1,
  description: 'A JSON merge patch (RFC 7396) of a device: the fields to change, each as MOR\'s device_update takes it. A field left out stays as it is; ' +
    'null clears a text field. An unknown field is refused, so a misspelt one is never silently ignored.',
  examples: [{ description: 'Front desk', callerIdName: 'Reception', callerIdNumber: '3725550100' }]
})
export type DevicePatch = Static<typeof DevicePatchSchema>

export const DeviceCreatedSchema = Type.Object({
  id: Type.Union([Type.Integer({ format: 'int32', minimum: 0, maximum: MAX_USER_ID }), Type.Null()], { description: 'the new device\'s id; null when MOR did not say (MOR revisions of 2011)' }),
  userId: Type.Integer({ format: 'int32', minimum: 0, maximum: MAX_USER_ID, description: 'the user the device was created for' })
}, {
  $id: 'DeviceCreated',
  additionalProperties: false,
  description: 'A device MOR created whose details the gateway cannot show: MOR did not say which device it made (`id` null: read the user\'s devices), ' +
    'or its details could not be read back just after (read them with `GET /v1/devices/{id}`).',
  examples: [{ id: null, userId: 3 }]
})
export type DeviceCreated = Static<typeof DeviceCreatedSchema>
