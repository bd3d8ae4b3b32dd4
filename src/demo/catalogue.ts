// The simulator's answers to the catalogue's read methods (src/catalogue/): MOR's XML for users_get
// and user_details_get from the users' profiles (profiles.ts), user_calls_get and payments_get
// from activity.ts. Each
// answer carries MOR's credentials too (a user's uniquehash), as MOR sends them: the gateway must
// drop them. test/catalogue/ translates these answers with the catalogue and checks every field.
import { LARGE_LAST_ID, LARGE_USER_ID, SEEDED_USERS, type SimUser } from './data.js'
import type { Outcome, SimData } from './device-writes.js'
import type { SimParams } from './request.js'
import { deviceDetailsXml, devicesXml, escapeXml } from './xml.js'
import { DEVICE_DETAILS_GET, DEVICES_GET } from '../catalogue/devices.js'
import { profileOf, uniqueHashOf } from './profiles.js'
import { paymentsXml, userCallsXml } from './activity.js'

export { profileOf, uniqueHashOf, type SimProfile } from './profiles.js'

const element = (name: string, value: string | number) => `<${name}>${escapeXml(String(value))}</${name}>`
const flag = (value: boolean) => (value ? '1' : '0')
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

/** The users users_get lists: the seeded ones (MOR's admin, 0, among them) and the large ones. */
function listedUsers (data: SimData): SimUser[] {
  const users: SimUser[] = []
  for (const seeded of SEEDED_USERS) users.push(data.user(String(seeded.id)) ?? seeded)
  for (let id = LARGE_USER_ID; id <= LARGE_LAST_ID; id++) users.push({ id, username: `bulk${id}`, devices: [] })
  return users
}

function userXml (user: SimUser): string {
  const p = profileOf(user)
  return '      <user>' + [
    element('id', user.id), element('username', user.username), element('first_name', p.firstName), element('last_name', p.lastName),
    element('balance', p.balance), element('blocked', flag(p.blocked)), element('lcr_id', p.lcrId), element('tariff_id', p.tariffId),
    element('owner_id', p.ownerId), element('usertype', p.usertype), element('hidden', flag(p.hidden)), element('uniquehash', uniqueHashOf(user.id))
  ].join('') + '</user>\n'
}

export function usersGetXml (_subject: string, _params: SimParams, data: SimData): Outcome {
  return `${DECLARATION}<page>\n  <status>\n    <users>\n${listedUsers(data).map(userXml).join('')}    </users>\n  </status>\n</page>\n`
}

export function userDetailsXml (userId: string, _params: SimParams, data: SimData): Outcome {
  const user = data.user(userId)
  if (user === undefined) return { error: 'User was not found' }
  const p = profileOf(user)
  const balanceText = `${Number(p.balance).toFixed(2)} ${p.currency}`
  return `${DECLARATION}<page>\n  ${element('pagename', 'User details')}\n  ${element('language', p.language)}\n  ${element('userid', user.id)}\n  <details>\n` +
    `    <main_detail>${[
      element('account', p.account), element('balance', balanceText), element('balance_number', p.balance), element('balance_currency', p.currency),
      element('credit', p.credit), element('daily_balance_limit', '0.0'), element('blocked', flag(p.blocked)), element('hidden', flag(p.hidden)),
      element('tariff_id', p.tariffId)
    ].join('')}</main_detail>\n` +
    `    <other_details>${[
      element('username', user.username), element('first_name', p.firstName), element('surname', p.lastName), element('company_name', p.company),
      element('personalid', `P${user.id}`), element('agreement_number', String(user.id).padStart(7, '0')), element('agreement_date', p.agreementDate),
      element('taxation_country', p.country), element('vat_reg_number', `LT${100_000 + user.id}`), element('vat_percent', p.vatPercent),
      element('uniquehash', uniqueHashOf(user.id))
    ].join('')}</other_details>\n` +
    `    <registration>${[
      element('reg_address', `${user.id} Market St`), element('reg_postcode', `LT-0${1000 + (user.id % 9000)}`), element('reg_city', p.city),
      element('reg_country', p.country), element('reg_state', p.state), element('reg_phone', p.phone), element('reg_mobile', p.phone),
      element('reg_fax', p.fax), element('reg_email', p.email)
    ].join('')}</registration>\n  </details>\n</page>\n`
}

/** How the simulator answers a catalogue method: the answer, and what MOR does besides. */
export interface SimRead {
  run: (subject: string, params: SimParams, data: SimData) => Outcome
  /** Where the call statistics count it (methods.ts); the catalogue's own count, by default. */
  tally?: 'byUser' | 'byDevice'
  /** MOR's error for an empty subject, when it checks that before the hash. */
  emptyError?: string
}

/** Each catalogue resource's simulated answer, by the resource's name. */
export const SIM_READS: Readonly<Record<string, SimRead>> = {
  devices: {
    run: (userId, _params, data) => {
      const user = data.user(userId)
      return user ? devicesXml(user.devices) : { error: DEVICES_GET.notFound[0] ?? '' }
    },
    tally: 'byUser',
    emptyError: 'user_id is empty'
  },
  device: {
    run: (deviceId, _params, data) => {
      const owned = data.device(deviceId)
      return owned ? deviceDetailsXml(owned) : { error: DEVICE_DETAILS_GET.notFound[0] ?? '' }
    },
    tally: 'byDevice'
  },
  users: { run: usersGetXml },
  user: { run: userDetailsXml },
  calls: { run: userCallsXml },
  payments: { run: paymentsXml }
}
