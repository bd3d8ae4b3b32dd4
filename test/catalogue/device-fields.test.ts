// The device fields the catalogue describes (catalogue/device-fields.ts): the device schemas are
// built from them and the device mappers read with them, so here they are held to what MOR's
// device methods say (catalogue/devices.ts): no credential read, every element read known.
import { describe, expect, it } from 'vitest'
import { DETAILS_ELEMENTS, DETAILS_FIELDS, DEVICE_FIELDS } from '../../src/catalogue/device-fields.js'
import { DEVICE_DETAILS_GET, DEVICES_GET } from '../../src/catalogue/devices.js'
import { object } from '../../src/catalogue/fields.js'
import { DeviceDetailsSchema } from '../../src/schemas/device-details.js'
import { DeviceSchema } from '../../src/schemas/device.js'
import { pathsRead } from './sim-reads.js'

const elementsRead = (fields: Parameters<typeof object>[0]) => [...pathsRead(object(fields).read)].map((path) => path.split('.')[0] as string)

describe('device fields', () => {
  it('read no element MOR marks as a credential in devices_get or device_details_get', () => {
    const list = elementsRead(DEVICE_FIELDS)
    const details = elementsRead(DETAILS_FIELDS)
    expect(list.length).toBeGreaterThan(5)
    expect(details.length).toBeGreaterThan(20)
    expect(list.filter((name) => DEVICES_GET.credentials.includes(name))).toStrictEqual([])
    expect(details.filter((name) => DEVICE_DETAILS_GET.credentials.includes(name))).toStrictEqual([])
  })

  it('read only elements the details mapper knows a device\'s details by, and every one of them but the id', () => {
    const read = new Set(elementsRead(DETAILS_FIELDS))
    expect([...read].filter((name) => !DETAILS_ELEMENTS.includes(name))).toStrictEqual([])
    expect(DETAILS_ELEMENTS.filter((name) => !read.has(name))).toStrictEqual(['id'])
  })

  it('are the device schemas\' properties, in order, after the essential id (and a list device\'s type)', () => {
    expect(Object.keys(DeviceSchema.properties)).toStrictEqual(['id', 'type', ...Object.keys(DEVICE_FIELDS)])
    expect(Object.keys(DeviceDetailsSchema.properties)).toStrictEqual(['id', ...Object.keys(DETAILS_FIELDS)])
    for (const [name, field] of Object.entries(DETAILS_FIELDS)) expect(DeviceDetailsSchema.properties[name as keyof typeof DETAILS_FIELDS]).toBe(field.schema)
  })
})
