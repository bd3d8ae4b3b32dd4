// Every catalogue resource, checked from its description alone (a new entry is covered without a
// new test): the simulator's answers translate to JSON that its answer schema and the committed
// OpenAPI component both take; the mapper and the simulator agree on every element; MOR's
// credentials never reach the JSON; the route is documented as the entry says.
import { gzipSync } from 'node:zlib'
import { isDeepStrictEqual } from 'node:util'
import { Compile } from 'typebox/compile'
import { describe, expect, it } from 'vitest'
import { CATALOGUE } from '../../src/catalogue/catalogue.js'
import type { TranslatedResource } from '../../src/catalogue/translate.js'
import type { Resource } from '../../src/catalogue/resource.js'
import { CONTRACT } from '../helpers/contract.js'
import { componentValidator, contractRefs, errorsOf, exampleQuery, inlineRefs, leaves, pathsRead, simXml, subjectsOf, translateFor } from './sim-reads.js'

const json = (answer: TranslatedResource) => {
  if (answer.kind !== 'answer') throw new Error(`not an answer: ${JSON.stringify(answer)}`)
  return JSON.parse(answer.json) as Record<string, unknown>
}

/** The leaf fields of an answer's head, and of each of its list's items. */
function leafSets (resource: Resource, answer: Record<string, unknown>): { head: Array<[string, unknown]>, items: Array<Array<[string, unknown]>> } {
  const head = leaves(resource.answer, answer).filter(([path]) => path !== resource.list?.key && path !== 'nextCursor')
  const { item, list } = resource
  if (list === undefined || item === undefined) return { head, items: [] }
  return { head, items: (answer[list.key] as unknown[]).map((one) => leaves(item, one)) }
}

/** The null leaves of the instance with fewest: empty when one instance has every field. */
function fewestNulls (instances: Array<Array<[string, unknown]>>): string[] | undefined {
  let fewest: string[] | undefined
  for (const set of instances) {
    const nulls = set.filter(([, value]) => value === null).map(([path]) => path)
    if (fewest === undefined || nulls.length < fewest.length) fewest = nulls
  }
  return fewest
}

/** The values of the credential elements in MOR's XML (e.g. each user's uniquehash). */
function credentialValues (resource: Resource, xml: string): string[] {
  const values: string[] = []
  for (const name of resource.mor.credentials) {
    for (const match of xml.matchAll(new RegExp(`<${name}>([^<]+)</${name}>`, 'g'))) values.push(match[1] as string)
  }
  return values
}

for (const resource of CATALOGUE) {
  describe(`${resource.name} (${resource.mor.name}, ${resource.route.path})`, () => {
    const check = Compile(inlineRefs(resource.answer))
    const component = componentValidator(resource.schemaId)

    it('translates the simulator\'s answer for each subject, plain or gzipped, to JSON both its schema and the contract take', async () => {
      expect(component, `openapi.json has no component ${resource.schemaId}: run npm run openapi`).toBeDefined()
      for (const subject of subjectsOf(resource)) {
        const xml = Buffer.from(simXml(resource, subject))
        const plain = await translateFor(resource, xml, undefined, subject)
        expect(await translateFor(resource, gzipSync(xml), 'gzip', subject), subject).toStrictEqual(plain)
        expect(await translateFor(resource, gzipSync(xml), undefined, subject), subject).toStrictEqual(plain)
        const answer = json(plain)
        expect(check.Check(answer), `${subject}: ${JSON.stringify([...check.Errors(answer)].slice(0, 3))}`).toBe(true)
        expect(component?.(answer), `${subject}: ${component === undefined ? '' : errorsOf(component)}`).toBe(true)
      }
    })

    it('reads every field from the simulator\'s answer for at least one seeded subject (mapper and simulator agree)', async () => {
      const heads: Array<Array<[string, unknown]>> = []
      const items: Array<Array<[string, unknown]>> = []
      for (const subject of subjectsOf(resource)) {
        const sets = leafSets(resource, json(await translateFor(resource, Buffer.from(simXml(resource, subject)), undefined, subject)))
        heads.push(sets.head)
        items.push(...sets.items)
      }
      expect(fewestNulls(heads), 'the answer\'s fields left null for every seeded subject').toStrictEqual([])
      if (resource.list !== undefined) expect(fewestNulls(items), 'the item fields left null in every item').toStrictEqual([])
    })

    it('reads no element MOR marks as a credential', () => {
      const read = [...pathsRead(resource.readHead), ...(resource.readItem === undefined ? [] : pathsRead(resource.readItem))]
      expect(read.length).toBeGreaterThan(0)
      const credentials = new Set(resource.mor.credentials)
      expect(read.filter((path) => path.split('.').some((name) => credentials.has(name)))).toStrictEqual([])
    })

    it('never puts the credentials the simulator sent into the JSON', async () => {
      let dropped = 0
      for (const subject of subjectsOf(resource)) {
        const xml = simXml(resource, subject)
        const sent = credentialValues(resource, xml)
        dropped += sent.length
        const translated = await translateFor(resource, Buffer.from(xml), undefined, subject)
        const text = translated.kind === 'answer' ? translated.json : ''
        expect(sent.filter((value) => text.includes(value)), subject).toStrictEqual([])
        for (const name of resource.mor.credentials) expect(text).not.toContain(`"${name}"`)
      }
      // A method without credentials has nothing to drop; one with them must be shown dropping them.
      if (resource.mor.credentials.length > 0) expect(dropped, 'the simulator sends no credential to drop').toBeGreaterThan(0)
    })

    it('indexes each item of a translated list at its byte offsets', async () => {
      if (resource.list === undefined) return
      for (const subject of subjectsOf(resource)) {
        const translated = await translateFor(resource, Buffer.from(simXml(resource, subject)), undefined, subject)
        if (translated.kind !== 'answer' || translated.items === undefined) throw new Error(`${subject}: no indexed list`)
        const body = Buffer.from(translated.json)
        const { starts } = translated.items
        const cut = Array.from({ length: starts.length - 1 }, (_, i) => JSON.parse(body.subarray(starts[i], (starts[i + 1] as number) - 1).toString()) as unknown)
        expect(cut, subject).toStrictEqual(json(translated)[resource.list.key])
      }
    })

    it('takes the query the tests ask with (its required parameters\' examples)', () => {
      expect(resource.reader.read(new URLSearchParams(exampleQuery(resource)).toString())).toStrictEqual({ ok: true, values: exampleQuery(resource) })
    })

    it('has an example its schema and the contract take', () => {
      expect(check.Check(resource.example), JSON.stringify([...check.Errors(resource.example)].slice(0, 3))).toBe(true)
      expect(component?.(resource.example)).toBe(true)
    })

    it('is documented in the committed contract as the entry says: operation, path and 200 answer', () => {
      const path = resource.route.path.replace(/:([A-Za-z]+)/g, '{$1}')
      const get = (CONTRACT.paths[path] as Record<string, { operationId?: string, responses: Record<string, { content?: Record<string, { schema: unknown }> }> }> | undefined)?.get
      expect(get?.operationId, `GET ${path}`).toBe(resource.route.operationId)
      expect(get?.responses['200']?.content?.['application/json']?.schema).toStrictEqual(contractRefs(resource.response))
    })

    it('has the committed component its answer schema gives (else openapi.json is stale)', () => {
      const { $id: _id, ...described } = contractRefs(resource.answer) as Record<string, unknown>
      expect(isDeepStrictEqual(described, CONTRACT.components.schemas[resource.schemaId]), 'run npm run openapi').toBe(true)
    })
  })
}
