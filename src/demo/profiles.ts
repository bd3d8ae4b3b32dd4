// Each simulated user's profile: names, account, balance and contact details, seeded for the demo's
// users and made from the id for the others, so every answer about a user agrees with the others.
import type { SimUser } from './data.js'

export interface SimProfile {
  firstName: string
  lastName: string
  company: string
  usertype: string
  account: 'Prepaid' | 'Postpaid'
  /** A decimal in the user's currency, as MOR stores it. */
  balance: string
  currency: string
  /** A number, or `Unlimited`. */
  credit: string
  blocked: boolean
  hidden: boolean
  ownerId: number
  tariffId: number
  lcrId: number
  email: string
  city: string
  country: string
  state: string
  phone: string
  /** Empty: MOR's empty element (most users have no fax). */
  fax: string
  language: string
  agreementDate: string
  vatPercent: string
}

const SEEDED_PROFILES: Record<number, Partial<SimProfile>> = {
  0: { firstName: 'System', lastName: 'Admin', usertype: 'admin', account: 'Postpaid', credit: 'Unlimited' },
  2: { firstName: 'Alice', lastName: 'Smith', company: 'Smith Trading', balance: '12.5000', currency: 'EUR', credit: 'Unlimited', city: 'Vilnius', country: 'Lithuania', state: 'Vilniaus', fax: '+37052000099', email: 'alice@example.com', agreementDate: '2024-03-01' },
  3: { firstName: 'Bob', lastName: 'Jones', company: 'Bob & Sons <Ltd>', fax: '+441130000003', account: 'Postpaid', balance: '-3.2000', currency: 'USD', credit: '100.0000', city: 'Leeds', country: 'United Kingdom', email: 'bob@example.com' },
  4: { firstName: 'Carol', lastName: 'Ng', blocked: true, balance: '0.0000', currency: 'EUR', credit: '0' },
  5: { firstName: 'Dávid', lastName: 'Öz', usertype: 'reseller', hidden: true, balance: '1234567.8912', currency: 'HUF', credit: '50' }
}

/** A user's profile: the seeded one's, or a plausible one made from the id. */
export function profileOf (user: SimUser): SimProfile {
  const seeded = SEEDED_PROFILES[user.id] ?? {}
  return {
    firstName: `User${user.id}`,
    lastName: 'Bulk',
    company: `Company ${user.id}`,
    usertype: 'user',
    account: 'Prepaid',
    balance: `${user.id % 100}.${String(user.id % 10_000).padStart(4, '0')}`,
    currency: 'EUR',
    credit: '0',
    blocked: false,
    hidden: false,
    ownerId: 0,
    tariffId: 1 + (user.id % 3),
    lcrId: 1,
    email: `${user.username}@example.com`,
    city: 'Kaunas',
    country: 'Lithuania',
    state: 'Kauno',
    phone: `+3705200${String(user.id).padStart(4, '0')}`,
    fax: '',
    language: 'en',
    agreementDate: '2025-01-15',
    vatPercent: '21.0',
    ...seeded
  }
}

/** A user's uniquehash: a credential MOR sends in its user answers, which the gateway must drop. */
export const uniqueHashOf = (userId: number) => `uh${String(1_000_000_007 * (userId + 3)).slice(0, 10)}`
