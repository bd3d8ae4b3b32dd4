// A user's payments, as the catalogue describes MOR's payments_get (filtered by s_user_id): each
// payment's date, type, amounts (exact, with their currency), whether it completed, and its
// transaction id.
import { flag, money, text, time } from './fields.js'
import { PAGING_QUERY } from './query.js'
import { defineResource } from './resource.js'
import { Type } from 'typebox'

export const userPayments = defineResource({
  name: 'payments',
  mor: {
    name: 'payments_get',
    oldNames: ['payments_list'],
    // s_amount_min is sent unhashed by MOR's own clients; the gateway sends only s_user_id.
    hashed: ['s_user_id', 's_from', 's_till', 's_transaction', 's_completed', 's_username', 's_first_name', 's_last_name', 's_paymenttype', 's_amount_max', 's_currency'],
    subject: 's_user_id',
    notFound: ['User was not found', 'User not found'],
    credentials: []
  },
  route: {
    path: '/v1/users/:userId/payments',
    operationId: 'listUserPayments',
    apiTag: 'users',
    idParam: 'userId',
    summary: 'List a MOR user\'s payments',
    description: 'A user\'s payments from MOR\'s `payments_get`, in MOR\'s order: amounts are exact decimal strings with their currency. ' +
      'Page with `limit`, then `cursor` set to the answer\'s `nextCursor`. Cached like device lists.'
  },
  query: Type.Object(PAGING_QUERY, { additionalProperties: false }),
  paged: true,
  whose: 'path',
  params: (ask) => ({ s_user_id: String(ask.id) }),
  key: (ask) => String(ask.id),
  head: {},
  list: {
    key: 'payments',
    at: [['payments']],
    tag: 'payment',
    maxItems: 1_000_000,
    item: {
      date: time('date', undefined, { description: 'when the payment was made (MOR\'s time, read as UTC)' }),
      confirmedAt: time('confirm_date', undefined, { description: 'when it was confirmed, if it was' }),
      type: text('type', 64, { description: 'how it was paid, as MOR names it (manual, paypal, ...)' }),
      amount: money('amount', 'currency'),
      fee: money('fee', 'currency'),
      amountWithTax: money('amount_with_tax', 'currency'),
      completed: flag('completed'),
      confirmedByAdmin: flag('confirmed_by_admin'),
      transactionId: text('transaction_id', 255),
      payer: text('payer', 255, { description: 'who paid, as MOR records it (an e-mail address for PayPal)' })
    }
  },
  schemaId: 'PaymentList',
  description: 'A user\'s payments, all or one page',
  example: {
    payments: [{
      date: '2026-11-02T09:15:00Z',
      confirmedAt: '2026-11-02T09:16:00Z',
      type: 'paypal',
      amount: { amount: '20.0000', currency: 'EUR' },
      fee: { amount: '0.6000', currency: 'EUR' },
      amountWithTax: { amount: '24.2000', currency: 'EUR' },
      completed: true,
      confirmedByAdmin: true,
      transactionId: '9XK12345AB678901C',
      payer: 'alice@example.com'
    }],
    nextCursor: null
  }
})
