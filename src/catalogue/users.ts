// MOR's users as the catalogue describes them: the users the API user may see (users_get) and one
// user's profile and account (user_details_get). The element names, hash orders and error texts
// are MOR's (../shared/mor-api-notes.md, "Other read methods").
import { Type } from 'typebox'
import { Nullable } from '../schemas/nullable.js'
import { choice, date, decimal, decimalText, flag, integer, money, nested, text, textAt, type Field } from './fields.js'
import { PAGING_QUERY } from './query.js'
import { defineResource } from './resource.js'

const NAME = 255

const USER_TYPES = { admin: 'admin', reseller: 'reseller', accountant: 'accountant', user: 'user', partner: 'partner' } as const

/** The users a caller may list: MOR's order, its admin (user 0) never among them. */
export const usersList = defineResource({
  name: 'users',
  mor: {
    name: 'users_get',
    oldNames: [],
    // u is hashed here, unlike any device method: sha1(u + p (when sent) + secret).
    hashed: ['u', 'p'],
    notFound: [],
    empty: ['No Users found'],
    credentials: ['password', 'uniquehash', 'api_key']
  },
  route: {
    path: '/v1/users',
    operationId: 'listUsers',
    apiTag: 'users',
    summary: 'List the MOR users this caller may read',
    description: 'The users MOR\'s `users_get` shows the gateway, less those outside the caller\'s scope and MOR\'s admin (user 0), in MOR\'s order. ' +
      'Page with `limit`, then `cursor` set to the answer\'s `nextCursor` (also in the `Link` header). Cached like device lists; ' +
      'the balance is in MOR\'s default currency, which this method does not name (`GET /v1/users/{userId}` does).'
  },
  query: Type.Object(PAGING_QUERY, { additionalProperties: false }),
  paged: true,
  whose: 'items',
  params: () => ({}),
  key: () => '',
  head: {},
  list: {
    key: 'users',
    at: [['users'], ['status', 'users']],
    tag: 'user',
    id: 'id',
    maxItems: 1_000_000,
    drop: (user) => user.id === 0,
    item: {
      id: integer('id', { description: 'MOR user id' }),
      username: text('username', NAME),
      firstName: text('first_name', NAME),
      lastName: text('last_name', NAME),
      userType: choice('usertype', USER_TYPES, { description: 'MOR\'s usertype' }),
      balance: money('balance', null, { description: 'in MOR\'s default currency (currency null: users_get does not name it)' }),
      blocked: flag('blocked'),
      hidden: flag('hidden', { description: 'null on MOR revisions that do not send it' }),
      ownerId: integer('owner_id', { description: 'the reseller (or admin, 0) the user belongs to' }),
      tariffId: integer('tariff_id'),
      lcrId: integer('lcr_id')
    }
  },
  schemaId: 'UserList',
  description: 'Users this caller may read, all or one page',
  example: {
    users: [{ id: 2, username: 'alice', firstName: 'Alice', lastName: 'Smith', userType: 'user', balance: { amount: '12.5000', currency: null }, blocked: false, hidden: false, ownerId: 0, tariffId: 1, lcrId: 1 }],
    nextCursor: null
  }
})

const MAIN = ['details', 'main_detail'] as const
const OTHER = ['details', 'other_details'] as const
const REG = ['details', 'registration'] as const
const main = (name: string) => [...MAIN, name]
const other = (name: string) => [...OTHER, name]

/** MOR's credit: a number, or `Unlimited`. */
const creditUnlimited: Field = {
  schema: Nullable(Type.Boolean({ description: 'true when MOR says the credit is unlimited (credit is then null)' })),
  read: (node) => {
    const value = textAt(node, main('credit'))
    return value === undefined ? null : /^unlimited$/i.test(value.trim()) ? true : decimalText(value) !== null ? false : null
  }
}

/** One user's profile, account and registration details. */
export const userDetails = defineResource({
  name: 'user',
  mor: {
    name: 'user_details_get',
    oldNames: ['user_details'],
    hashed: ['user_id', 'username'],
    subject: 'user_id',
    notFound: ['User was not found', 'User not found'],
    credentials: ['password', 'uniquehash', 'api_key', 'pin']
  },
  route: {
    path: '/v1/users/:userId',
    operationId: 'getUser',
    apiTag: 'users',
    idParam: 'userId',
    summary: 'Get a MOR user\'s profile and account',
    description: 'One user\'s profile, account kind, balance and credit, and registration details from MOR\'s `user_details_get`: ' +
      'cached, coalesced and served stale like device lists. Money is an exact decimal string with its currency; an unlimited credit ' +
      'is `credit: null` with `creditUnlimited: true`. Send `Cache-Control: no-cache` to revalidate with MOR, `If-None-Match` to get a 304.'
  },
  whose: 'path',
  params: (ask) => ({ user_id: String(ask.id) }),
  key: (ask) => String(ask.id),
  head: {
    id: integer('userid', { description: 'MOR user id' }),
    username: text(other('username'), NAME),
    firstName: text(other('first_name'), NAME),
    lastName: text(other('surname'), NAME),
    companyName: text(other('company_name'), NAME),
    language: text('language', 16, { description: 'the user\'s interface language, as MOR names it' }),
    account: choice(main('account'), { prepaid: 'prepaid', postpaid: 'postpaid' }),
    balance: money(main('balance_number'), main('balance_currency')),
    credit: money(main('credit'), main('balance_currency'), { description: 'null when unlimited (see creditUnlimited) or not sent' }),
    creditUnlimited,
    dailyBalanceLimit: decimal(main('daily_balance_limit'), { description: 'null on MOR revisions that do not send it' }),
    blocked: flag(main('blocked')),
    hidden: flag(main('hidden')),
    tariffId: integer(main('tariff_id')),
    agreement: nested(OTHER, {
      number: text('agreement_number', NAME),
      date: date('agreement_date')
    }),
    tax: nested(OTHER, {
      country: text('taxation_country', NAME),
      vatNumber: text('vat_reg_number', NAME),
      vatPercent: decimal('vat_percent')
    }),
    registration: nested(REG, {
      address: text('reg_address', NAME),
      postcode: text('reg_postcode', 32),
      city: text('reg_city', NAME),
      state: text('reg_state', NAME),
      country: text('reg_country', NAME),
      phone: text('reg_phone', 64),
      mobile: text('reg_mobile', 64),
      fax: text('reg_fax', 64),
      email: text('reg_email', NAME)
    })
  },
  schemaId: 'User',
  description: 'A MOR user\'s profile and account',
  example: {
    id: 2,
    username: 'alice',
    firstName: 'Alice',
    lastName: 'Smith',
    companyName: 'Smith Trading',
    language: 'en',
    account: 'prepaid',
    balance: { amount: '12.5000', currency: 'EUR' },
    credit: null,
    creditUnlimited: true,
    dailyBalanceLimit: null,
    blocked: false,
    hidden: false,
    tariffId: 1,
    agreement: { number: '0000002', date: '2024-03-01' },
    tax: { country: 'Lithuania', vatNumber: 'LT100001', vatPercent: '21.0' },
    registration: { address: '1 Market St', postcode: 'LT-01100', city: 'Vilnius', state: null, country: 'Lithuania', phone: '+37052000002', mobile: null, fax: null, email: 'alice@example.com' }
  }
})
