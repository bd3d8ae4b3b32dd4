// translateResource on what MOR sends besides a good answer: its error shapes (bare, in <page>,
// in <page><status>, inside the XML API Extension's HTML), and XML no MOR answer is (a DOCTYPE, a
// truncated document). Then users_get's own rules: `No Users found` is an empty list, and the
// admin (user 0) and an item without an id are left out.
import { gzipSync } from 'node:zlib'
import { Compile } from 'typebox/compile'
import { describe, expect, it } from 'vitest'
import { CATALOGUE } from '../../src/catalogue/catalogue.js'
import { usersList } from '../../src/catalogue/users.js'
import { errorXml, withHtmlWrapper } from '../../src/demo/xml.js'
import { uniqueHashOf } from '../../src/demo/catalogue.js'
import { componentValidator, simXml, subjectsOf, translateFor } from './sim-reads.js'

const translate = (resource = usersList, xml: string, encoding?: string) =>
  translateFor(resource, encoding === 'gzip' ? gzipSync(xml) : Buffer.from(xml), encoding)
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

for (const resource of CATALOGUE) {
  describe(`${resource.mor.name}'s errors and broken answers`, () => {
    const message = 'Access Denied'
    const shapes: Record<string, string> = {
      'bare <error>': errorXml(message, 'bare'),
      '<page><status><error>': errorXml(message, 'page'),
      '<page><error>': `${DECLARATION}<page>\n  <error>${message}</error>\n</page>\n`,
      'HTML-wrapped bare <error>': withHtmlWrapper(errorXml(message, 'bare')),
      'HTML-wrapped <page><status><error>': withHtmlWrapper(errorXml(message, 'page'))
    }
    for (const [shape, xml] of Object.entries(shapes)) {
      it(`gives MOR's message from a ${shape}, plain or gzipped`, async () => {
        expect(await translate(resource, xml)).toStrictEqual({ kind: 'error', message })
        expect(await translate(resource, xml, 'gzip')).toStrictEqual({ kind: 'error', message })
      })
    }

    it('keeps an escaped message as MOR wrote it', async () => {
      expect(await translate(resource, errorXml('Bad <login> & "hash"', 'bare'))).toStrictEqual({ kind: 'error', message: 'Bad <login> & "hash"' })
    })

    it('translates the simulator\'s answer inside the HTML wrapper as it does the bare one', async () => {
      const xml = simXml(resource, subjectsOf(resource).at(-1) as string)
      expect(await translate(resource, withHtmlWrapper(xml))).toStrictEqual(await translate(resource, xml))
    })

    it('refuses XML with a DOCTYPE, even a harmless one', async () => {
      const xml = simXml(resource, subjectsOf(resource).at(-1) as string).replace(DECLARATION, `${DECLARATION}<!DOCTYPE page>\n`)
      expect(await translate(resource, xml)).toStrictEqual({ kind: 'bad-response', detail: 'XML with a DOCTYPE declaration is refused' })
    })

    it('refuses a truncated answer rather than read a shorter one', async () => {
      const xml = simXml(resource, subjectsOf(resource).at(-1) as string)
      for (const cut of [0.3, 0.6, 0.95]) {
        expect(await translate(resource, xml.slice(0, Math.floor(xml.length * cut))), String(cut)).toStrictEqual({ kind: 'bad-response', detail: 'malformed XML' })
      }
    })

    it('refuses XML that is neither a <page> nor an <error>', async () => {
      expect(await translate(resource, `${DECLARATION}<html><body><h1>502 Bad Gateway</h1></body></html>`)).toMatchObject({ kind: 'bad-response' })
    })
  })
}

const usersXml = (users: string) => `${DECLARATION}<page>\n  <status>\n    <users>\n${users}    </users>\n  </status>\n</page>\n`
const userXml = (fields: string) => `      <user>${fields}<uniquehash>${uniqueHashOf(9)}</uniquehash></user>\n`
const EMPTY = { kind: 'answer', json: '{"users":[],"nextCursor":null}', items: { starts: new Uint32Array([10]), ids: new Uint32Array(0) } }

describe('users_get', () => {
  it('reads MOR\'s `No Users found`, in each shape, as an empty list', async () => {
    for (const xml of [errorXml('No Users found', 'bare'), errorXml('No Users found', 'page'), withHtmlWrapper(errorXml('No Users found', 'bare'))]) {
      expect(await translate(usersList, xml)).toStrictEqual(EMPTY)
    }
  })

  it('reads an empty <users/>, in either place MOR puts it, as an empty list', async () => {
    expect(await translate(usersList, usersXml(''))).toStrictEqual(EMPTY)
    expect(await translate(usersList, `${DECLARATION}<page><status><users/></status></page>`)).toStrictEqual(EMPTY)
    expect(await translate(usersList, `${DECLARATION}<page><users></users></page>`)).toStrictEqual(EMPTY)
  })

  it('refuses an answer without a users list', async () => {
    expect(await translate(usersList, `${DECLARATION}<page><status><ok/></status></page>`)).toStrictEqual({ kind: 'bad-response', detail: 'no <user> list in <page>' })
  })

  it('leaves out the admin (user 0) and an item without a readable id, and keeps one user as a list of one', async () => {
    const xml = usersXml(
      userXml('<id>0</id><username>admin</username><usertype>admin</usertype>') +
      userXml('<username>ghost</username>') +
      userXml('<id>x1</id><username>bad</username>') +
      userXml('<id>7</id><username>zoë</username><usertype>User</usertype><balance>-3.20</balance><blocked>0</blocked>')
    )
    const answer = await translate(usersList, xml)
    expect(answer.kind === 'answer' ? JSON.parse(answer.json) : answer).toStrictEqual({
      users: [{ id: 7, username: 'zoë', firstName: null, lastName: null, userType: 'user', balance: { amount: '-3.20', currency: null }, blocked: false, hidden: null, ownerId: null, tariffId: null, lcrId: null }],
      nextCursor: null
    })
    expect(answer.kind === 'answer' ? Array.from(answer.items?.ids ?? []) : []).toStrictEqual([7])
  })
  it('gives an answer its schema and the contract take when MOR sends a usertype it does not know, or none', async () => {
    const answer = await translate(usersList, usersXml(userXml('<id>8</id><usertype>simple_user</usertype>') + userXml('<id>9</id>')))
    const body = answer.kind === 'answer' ? JSON.parse(answer.json) as { users: Array<{ userType: unknown }> } : undefined
    expect(body?.users.map((u) => u.userType)).toStrictEqual([null, null])
    expect(Compile(usersList.answer).Check(body)).toBe(true)
    expect(componentValidator(usersList.schemaId)?.(body)).toBe(true)
  })
})
