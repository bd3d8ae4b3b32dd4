// MOR's times: a local `YYYY-MM-DD HH:MM:SS` and, beside it, a zone like `GMT +02:00`
// (user_calls_get's calldate2 and timezone). The API gives RFC 3339 UTC, or null.
import { describe, expect, it } from 'vitest'
import { time, utcTime } from '../../src/catalogue/fields.js'

describe('utcTime', () => {
  it('shifts a local time by MOR\'s zone to UTC', () => {
    expect(utcTime('2026-03-01 01:00:00', 'GMT +02:00')).toBe('2026-02-28T23:00:00Z')
    expect(utcTime('2026-01-01 00:00:00', 'GMT -05:30')).toBe('2026-01-01T05:30:00Z')
    expect(utcTime('2026-06-15 12:00:00', '+0300')).toBe('2026-06-15T09:00:00Z')
    expect(utcTime('2026-06-15 12:00:00', 'GMT+03:00')).toBe('2026-06-15T09:00:00Z')
    expect(utcTime('2026-06-15 12:00:00', '  GMT +00:00  ')).toBe('2026-06-15T12:00:00Z')
  })

  it('reads UTC, GMT, Z, an empty zone and no zone as UTC', () => {
    for (const zone of ['UTC', 'GMT', 'gmt', 'Z', '', ' ', undefined]) {
      expect(utcTime('2026-06-15 12:34:56', zone), String(zone)).toBe('2026-06-15T12:34:56Z')
    }
  })

  it('takes MOR\'s ISO spelling with a T too', () => {
    expect(utcTime('2026-06-15T12:34:56', undefined)).toBe('2026-06-15T12:34:56Z')
  })

  it('takes the widest real zones, +14:00 and -12:00, and crosses a year', () => {
    expect(utcTime('2027-01-01 00:00:00', 'GMT +14:00')).toBe('2026-12-31T10:00:00Z')
    expect(utcTime('2026-12-31 23:00:00', 'GMT -12:00')).toBe('2027-01-01T11:00:00Z')
  })

  it('reads a date that does not exist as null', () => {
    for (const local of ['2026-02-31 10:00:00', '2026-02-29 10:00:00', '2026-13-01 00:00:00', '2026-04-31 00:00:00', '2026-00-01 00:00:00']) {
      expect(utcTime(local, undefined), local).toBeNull()
    }
    expect(utcTime('2024-02-29 10:00:00', undefined)).toBe('2024-02-29T10:00:00Z')
  })

  it('reads a time of day that does not exist as null', () => {
    for (const local of ['2026-01-01 24:00:00', '2026-01-01 23:60:00', '2026-01-01 23:59:60', '2026-01-01 99:99:99']) {
      expect(utcTime(local, undefined), local).toBeNull()
    }
  })

  it('reads other shapes of time as null', () => {
    for (const local of ['2026-01-01', '2026-01-01 10:00', '2026-01-01 10:00:00.123', '2026-01-01 10:00:00Z', '1767225600', ' 2026-01-01 10:00:00x', '']) {
      expect(utcTime(local, undefined), local).toBeNull()
    }
  })

  it('reads a zone it cannot read, or beyond 14 hours, as null rather than guess', () => {
    for (const zone of ['EST', 'GMT +2', 'GMT +02:00:00', 'GMT ++02:00', 'GMT +14:30', 'GMT -15:00', '+02:00 GMT', 'Europe/Vilnius']) {
      expect(utcTime('2026-06-15 12:00:00', zone), zone).toBeNull()
    }
  })

  it('reads a zone whose minutes are not minutes as null', () => {
    // +02:75 is not a zone; read as 2 h 75 min it shifts the time by 3 h 15 min.
    expect(utcTime('2026-06-15 12:00:00', 'GMT +02:75')).toBeNull()
    expect(utcTime('2026-06-15 12:00:00', '+0260')).toBeNull()
  })

  it('reads a time a zone pushes past year 9999 as null, not as an expanded year', () => {
    // RFC 3339 (and the schema's 20 characters) has four-digit years; toISOString gives +010000-...
    expect(utcTime('9999-12-31 23:59:59', 'GMT -05:00')).toBeNull()
  })

  it('keeps a year a zone pulls back from 0100 within four digits', () => {
    expect(utcTime('0100-01-01 00:00:00', 'GMT +14:00')).toBe('0099-12-31T10:00:00Z')
  })
})

describe('time', () => {
  it('reads the time and its zone from two elements', () => {
    expect(time('calldate2', 'timezone').read({ calldate2: '2026-03-01 01:00:00', timezone: 'GMT +02:00' })).toBe('2026-02-28T23:00:00Z')
  })

  it('reads a time without its zone element as UTC, and one without a zone field as UTC too', () => {
    expect(time('calldate2', 'timezone').read({ calldate2: '2026-03-01 01:00:00' })).toBe('2026-03-01T01:00:00Z')
    expect(time('calldate2', undefined).read({ calldate2: '2026-03-01 01:00:00', timezone: 'GMT +02:00' })).toBe('2026-03-01T01:00:00Z')
  })

  it('reads an absent, empty or repeated time as null', () => {
    const field = time('t', 'z')
    for (const t of [undefined, '', ['2026-03-01 01:00:00', '2026-03-01 01:00:00']]) {
      expect(field.read(t === undefined ? {} : { t, z: 'UTC' })).toBeNull()
    }
  })

  it('reads a time whose zone element is repeated as null, as it does an unreadable zone', () => {
    // Read as UTC, 01:00 at GMT +02:00 would come out two hours late.
    expect(time('t', 'z').read({ t: '2026-03-01 01:00:00', z: ['GMT +02:00', 'GMT +02:00'] })).toBeNull()
  })
})
