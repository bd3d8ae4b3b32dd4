// The simulator's calls and payments: MOR's XML for user_calls_get and payments_get, made from the
// user's id and the period asked, so the same call always has the same answer. Calls fall on a
// fixed grid (every 6 hours; every 10 minutes for the large users 100..199, a month of which is a
// large answer), each in the user's own timezone, as MOR writes them.
import { LARGE_LAST_ID, LARGE_USER_ID, type SimUser } from './data.js'
import type { Outcome, SimData } from './device-writes.js'
import type { SimParams } from './request.js'
import { escapeXml } from './xml.js'
import { profileOf } from './profiles.js'

const element = (name: string, value: string | number) => `<${name}>${escapeXml(String(value))}</${name}>`
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

/** Each seeded user's timezone as MOR names it (the others are at +00:00). */
const ZONES: Record<number, { name: string, minutes: number }> = { 2: { name: 'GMT +02:00', minutes: 120 }, 5: { name: 'GMT -05:30', minutes: -330 } }
const zoneOf = (userId: number) => ZONES[userId] ?? { name: 'GMT +00:00', minutes: 0 }

const DISPOSITIONS = ['ANSWERED(16)', 'ANSWERED(16)', 'NO ANSWER(19)', 'BUSY(17)', 'FAILED(34)'] as const
const CALL_TYPE: Record<string, string> = { 'ANSWERED(16)': 'answered', 'NO ANSWER(19)': 'no answer', 'BUSY(17)': 'busy', 'FAILED(34)': 'failed' }
const DESTINATIONS = [{ prefix: '3706', name: 'Lithuania mobile' }, { prefix: '4420', name: 'United Kingdom London' }] as const

/** MOR's local `YYYY-MM-DD HH:MM:SS` of a Unix time in a zone `minutes` east of UTC. */
export const localTime = (unix: number, minutes: number) => new Date((unix + minutes * 60) * 1000).toISOString().slice(0, 19).replace('T', ' ')

export interface SimCall { at: number, n: number, disposition: string, billsec: number, dst: string, destination: string, src: string, clid: string, deviceId: number | undefined }

/** The user's calls from `start` to `end` (Unix seconds, both included), before MOR's filters. */
export function callsOf (user: SimUser, start: number, end: number): SimCall[] {
  const step = user.id >= LARGE_USER_ID && user.id <= LARGE_LAST_ID ? 600 : 6 * 3600
  const calls: SimCall[] = []
  for (let at = Math.ceil(start / step) * step; at <= end; at += step) {
    const n = at / step
    const disposition = DISPOSITIONS[n % DISPOSITIONS.length] as string
    const to = DESTINATIONS[n % DESTINATIONS.length] as (typeof DESTINATIONS)[number]
    const device = user.devices.length === 0 ? undefined : user.devices[n % user.devices.length]
    calls.push({
      at,
      n,
      disposition,
      billsec: disposition.startsWith('ANSWERED') ? 30 + (n % 300) : 0,
      dst: `${to.prefix}${String(n % 10_000_000).padStart(7, '0')}`,
      destination: to.name,
      src: device?.username ?? String(user.id),
      clid: device?.callerid ?? '',
      deviceId: device?.device_id
    })
  }
  return calls
}

const RATE = 0.05

function callXml (call: SimCall, zoneMinutes: number, zoneName: string): string {
  return '    <call>' + [
    element('calldate2', localTime(call.at, zoneMinutes)), element('timezone', zoneName), element('src', call.src), element('dst', call.dst),
    element('clid', call.clid), element('destination', call.destination), element('prefix', call.dst.slice(0, 4)), element('dispod', call.disposition),
    element('nice_billsec', call.billsec), element('user_rate', RATE.toFixed(4)), element('user_price', (call.billsec / 60 * RATE).toFixed(4)),
    element('server_id', 1), element('uniqueid', `${call.at}.${call.n % 1000}`)
  ].join('') + '</call>\n'
}

const UNIX = /^[0-9]{1,10}$/

/** user_calls_get: the period (today when not sent, as MOR defaults it), then MOR's filters. */
export function userCallsXml (userId: string, params: SimParams, data: SimData): Outcome {
  const user = data.user(userId)
  if (user === undefined) return { error: 'User was not found' }
  const today = Math.floor(Date.now() / 86_400_000) * 86_400
  const startText = params.get('period_start') ?? ''
  const endText = params.get('period_end') ?? ''
  const start = UNIX.test(startText) ? Number(startText) : today
  const end = UNIX.test(endText) ? Number(endText) : today + 86_399
  const type = params.get('s_call_type') ?? 'all'
  const device = params.get('s_device') ?? 'all'
  const prefix = params.get('s_destination') ?? ''
  const calls = callsOf(user, start, end).filter((call) =>
    (type === 'all' || CALL_TYPE[call.disposition] === type) && (device === 'all' || String(call.deviceId) === device) && call.dst.startsWith(prefix))
  const zone = zoneOf(user.id)
  const currency = profileOf(user).currency
  const list = calls.length === 0 ? '  <calls></calls>\n' : `  <calls>\n${calls.map((call) => callXml(call, zone.minutes, zone.name)).join('')}  </calls>\n`
  return `${DECLARATION}<page>\n  ${element('userid', user.id)}${element('username', user.username)}${element('total_calls', calls.length)}${element('currency', currency)}\n` +
    `  <calls_stat><period>${element('period_start', localTime(start, zone.minutes))}${element('period_end', localTime(end, zone.minutes))}</period></calls_stat>\n${list}</page>\n`
}

const PAYMENT_TYPES = ['manual', 'paypal', 'webmoney'] as const

/** payments_get for one user (s_user_id): a few payments, the first of each user complete in every field. */
export function paymentsXml (userId: string, _params: SimParams, data: SimData): Outcome {
  const user = data.user(userId)
  if (user === undefined) return { error: 'User was not found' }
  const profile = profileOf(user)
  const count = 2 + (user.id % 3)
  let items = ''
  for (let i = 0; i < count; i++) {
    const amount = 10 * (i + 1)
    const completed = i % 2 === 0
    const day = `2026-${String(1 + i).padStart(2, '0')}-${String(2 + i).padStart(2, '0')}`
    items += '    <payment>' + [
      element('user', user.username), element('payer', profile.email), element('transaction_id', `TX${user.id}-${i}`),
      element('date', `${day} 09:15:00`), element('confirm_date', completed ? `${day} 09:16:00` : ''), element('type', PAYMENT_TYPES[i % PAYMENT_TYPES.length] as string),
      element('amount', amount.toFixed(4)), element('fee', (i === 0 ? 0.6 : 0).toFixed(4)), element('amount_with_tax', (amount * 1.21).toFixed(4)),
      element('currency', profile.currency), element('completed', completed ? 1 : 0), element('confirmed_by_admin', completed ? 1 : 0)
    ].join('') + '</payment>\n'
  }
  return `${DECLARATION}<page>\n  ${element('pagename', 'Payments')}\n  <payments>\n${items}  </payments>\n</page>\n`
}
