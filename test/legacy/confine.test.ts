import { describe, expect, it } from 'vitest'
import { refusePath } from '../../src/legacy/confine.js'

const PREFIX = '/billing/api'

describe('refusePath', () => {
  it.each(['/billing/api/devices_get', '/billing/api/device_list', '/billing/api/user_details_get', '/billing/api/v1.2/x-y~z'])('forwards %s', (path) => {
    expect(refusePath(path, PREFIX)).toBeUndefined()
  })

  it.each(['/billing/api', '/billing/api/'])('refuses %s, which names no API method', (path) => {
    expect(refusePath(path, PREFIX)).toBe(path === '/billing/api' ? 'the path is outside the MOR API' : 'no MOR API method in the path')
  })

  it.each(['/billing/x', '/billing/apix/y', '/other/api/x', 'http://h/billing/api/x', '*'])('refuses %s as outside the MOR API', (path) => {
    expect(refusePath(path, PREFIX)).toBe('the path is outside the MOR API')
  })

  it.each([
    '/billing/api/..', '/billing/api/../x', '/billing/api/./x', '/billing/api/x/.', '/billing/api//x', '/billing/api/x/',
    '/billing/api/%2e%2e/x', '/billing/api/a%2fb', '/billing/api/%252e', '/billing/api/a\\b', '/billing/api/.hidden',
    '/billing/api/a;b', '/billing/api/a b', '/billing/api/é', '/billing/api/a../b', '/billing/api/x..y', '/billing/api/v1/a..'
  ])('refuses %s as unsafe', (path) => {
    expect(refusePath(path, PREFIX)).toBe('the path may hold only letters, digits, "_", "-", "~" and "." in non-empty segments, and no ".."')
  })
})
