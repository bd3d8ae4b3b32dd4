// What a catalogue entry says about one of MOR's read methods, and what follows from it. An entry
// is a description, not code paths: the MOR call (its names, parameters and hash order), where
// the answer sits in the XML and how each field maps, whose answer it is (for scopes), how long it
// is cached, the API route and its query, and the simulator's answer. The route, the hit lane, the
// OpenAPI operation, the translation, the simulator and the contract tests all read it
// (docs/catalogue.md: how to add one).
import { Type, type TObject, type TSchema } from 'typebox'
import type { CacheEntry, Lifetimes } from '../cache/entry.js'
import type { Subject } from '../cache/devices-cache.js'
import type { ItemIndex } from '../paging/items.js'
import type { OperationId } from '../schemas/problem-answers.js'
import { Nullable } from '../schemas/nullable.js'
import { CURSOR_PATTERN, MAX_CURSOR_LENGTH } from '../schemas/device-list.js'
import { object, type Field, type Path } from './fields.js'
import { queryReader, type QueryReader, type QueryValues } from './query.js'
import { DeviceNotFoundError, UserNotFoundError } from '../mor/errors.js'
import type { Viewed } from '../cache/answer.js'

/** What one request asks of a resource: the id in its path (if any) and its query's values. */
export interface Ask { id: number | undefined, query: QueryValues }

/** The items of a list answer: where they sit, how one reads, and which the API leaves out. */
export interface ListSpec {
  /** The JSON key of the array. */
  key: string
  /** Where the list element sits below <page>, in each shape MOR revisions send. */
  at: readonly Path[]
  /** The element name of one item (always read as a list, one or many). */
  tag: string
  /** One item's fields. */
  item: Readonly<Record<string, Field>>
  /** The id field of each item (users_get's user id): what a scope keeps items by; none: items are only paged. */
  id?: string
  /** Items the API never lists (MOR's admin user 0 in users_get), by their read value. */
  drop?: (item: Record<string, unknown>) => boolean
  /** The most items an answer may hold; a longer list is not a MOR answer. */
  maxItems: number
}

/** MOR's side of a resource: the method, and its call. */
export interface MorMethod {
  /** The method's name today, then the old names MOR still answers to (the simulator answers all). */
  name: string
  oldNames: readonly string[]
  /** The parameters MOR hashes, in MOR's order: hash = sha1(the values of those sent + secret). */
  hashed: readonly string[]
  /** The parameter naming the user a call is about (the simulator counts calls by it), if any. */
  subject?: string
  /** MOR's error texts that mean the user asked about does not exist. */
  notFound: readonly string[]
  /** MOR's error texts that mean an empty list (users_get's `No Users found`). */
  empty?: readonly string[]
  /**
   * Elements MOR sends in this answer that are credentials. No field reads them (a contract test
   * checks), and the simulator sends them, so the leak tests see them dropped.
   */
  credentials: readonly string[]
}

/** What an entry's own reading of MOR's <page> gives: the API's JSON, a list's index, the owner it names. */
export interface ReadAnswer { json: string, items: ItemIndex | undefined, owner?: number | null }

/** Why a request's view of a cached answer is refused: a 400 in these words, or a 409 stale cursor. */
export type ViewRefusal = { refused: 'bad-query', detail: string } | { refused: 'stale-cursor' }

/** A second path to a resource for a caller whose scope is one user: that user is the path's id. */
export interface MineRoute { path: string, operationId: OperationId, summary: string, description: string }

export interface ResourceSpec {
  /** The resource's name: its cache keys and cursors are namespaced by it. */
  name: string
  mor: MorMethod
  route: {
    path: string
    operationId: OperationId
    summary: string
    description: string
    /** The path's id parameter, when the path has one (a user id, a device id). */
    idParam?: 'userId' | 'deviceId'
    /** The contract's tag for the operation (the group Swagger UI shows it in). */
    apiTag: 'users' | 'devices'
    /** The same answer at a path of its own for a caller whose scope is one user (/v1/me/devices). */
    mine?: MineRoute
  }
  /** The query the route takes (documented and validated from this one schema). */
  query?: TObject
  /** The query's refusals in the resource's own words, by parameter (else each parameter's description says). */
  queryRefusals?: Readonly<Record<string, string>>
  /**
   * Whose answer it is, checked against the caller's scope:
   * - 'path': the user the path names, before anything else (a 403, the same whether or not the
   *   user exists);
   * - 'items': each item's (its `list.id`): a scoped caller sees the items it may read (users_get);
   * - 'answer': the owner MOR names in the answer (device details' `userId`): a caller outside it
   *   gets the not-found answer, kept indistinguishable from a device that does not exist.
   */
  whose: 'path' | 'items' | 'answer'
  /** What MOR's not-found texts mean: the device asked about does not exist; else the user. */
  missing?: 'device'
  /**
   * Cached as the devices cache's subject (a user's device list, one device), whose entries
   * writes, the invalidation bus and the passthrough's device-to-owner map move; else by `key`.
   */
  cachedAs?: (ask: Ask) => Subject
  /** A refusal (400) of what the query asks, beyond what each parameter's schema says (a period too long). */
  refuse?: (ask: Ask) => string | undefined
  /** What the gateway sends MOR, besides u, p and hash. */
  params: (ask: Ask, now: number) => Record<string, string>
  /**
   * The cache key within the resource's: everything that changes MOR's answer (the resource's name
   * and the upstream and API user are in the key's prefix). A function of the ask alone, so the
   * hit lane can remember it for a query it has seen.
   */
  key: (ask: Ask) => string
  /** How long an answer stays fresh and may be served stale, from the gateway's defaults; those themselves when not said. */
  life?: (ask: Ask, now: number, defaults: Lifetimes) => Lifetimes
  /** The answer's own fields besides its list (read from <page>). */
  head: Readonly<Record<string, Field>>
  list?: ListSpec
  /** Paging a list: limit and cursor (a list without them comes whole). */
  paged?: boolean
  /** Elements read as lists, one or many, besides the list's items (device details' <codec>). */
  arrays?: readonly string[]
  /**
   * The entry's own reading of <page>, when its fields alone do not say it: what is a device's
   * alone (an id and a type every listed device must have, details that must name the device
   * asked for). Pure: it runs in the translation workers too.
   */
  read?: (page: Record<string, unknown>, ask: Ask) => ReadAnswer
  /** The entry's own view of a cached answer (a device list's filters and cursors); else catalogue/view.ts's. */
  view?: (entry: CacheEntry, ask: Ask, path: string, search: string) => Viewed | ViewRefusal
  /**
   * The answer's schemas when they are not built from the fields: the 200 answer as the
   * operation names it (the device lists' DeviceList or DevicePage), its components and one item.
   */
  schemas?: { answer: TObject, item?: TObject, response?: TSchema, components?: readonly TObject[] }
  /** The answer's component name in the contract, and an example of it. */
  schemaId: string
  description: string
  example: Record<string, unknown>
}

/** A resource with what follows from its description. */
export interface Resource extends ResourceSpec {
  life: (ask: Ask, now: number, defaults: Lifetimes) => Lifetimes
  /** The JSON schema of a 200 answer. */
  answer: TObject
  /** The JSON schema of one list item, when the answer is a list. */
  item: TObject | undefined
  query: TObject
  reader: QueryReader
  /** The 200 answer's schema as the operation names it, and the components it names. */
  response: TSchema
  components: readonly TObject[]
  /** MOR's "not found" for what `ask` asks: the device (`missing: 'device'`), else the user. */
  notFound: (ask: Ask) => Error
  /** The answer's head, read from <page>. */
  readHead: (page: Record<string, unknown>) => Record<string, unknown>
  readItem: ((node: Record<string, unknown>, page?: Record<string, unknown>) => Record<string, unknown>) | undefined
}

const NEXT_CURSOR = Nullable(Type.String({
  maxLength: MAX_CURSOR_LENGTH,
  pattern: CURSOR_PATTERN,
  description: 'Send as `cursor` (with the same other parameters) for the next page; null when nothing follows'
}))

/** Throws for a description the pipeline could not serve as it says. */
function checkSpec (spec: ResourceSpec): void {
  const fail = (why: string) => { throw new Error(`catalogue entry ${spec.name}: ${why}`) }
  // The owner is a fact of the cached entry: without both, every scoped caller would get a 404.
  if (spec.whose === 'answer' && (spec.read === undefined || spec.cachedAs === undefined)) fail('whose: \'answer\' needs a read that names the owner and a cachedAs')
  if (spec.whose === 'items' && spec.list?.id === undefined) fail('whose: \'items\' needs a list with an id')
  if (spec.whose === 'path' && spec.route.idParam !== 'userId') fail('whose: \'path\' needs a userId in the path')
  if (spec.route.mine !== undefined && spec.route.idParam !== 'userId') fail('route.mine stands for a userId in the path')
  // An entry that reads <page> itself reads MOR's empty answers too: it has no empty texts of its own.
  if (spec.read !== undefined && spec.mor.empty !== undefined) fail('read and mor.empty together')
}

export function defineResource (spec: ResourceSpec): Resource {
  checkSpec(spec)
  const head = object(spec.head)
  const item = spec.list === undefined ? undefined : object(spec.list.item)
  const properties = { ...(head.schema as TObject).properties }
  if (spec.list !== undefined && item !== undefined) {
    properties[spec.list.key] = Type.Array(item.schema, { maxItems: spec.list.maxItems })
    properties.nextCursor = NEXT_CURSOR
  }
  const answer = spec.schemas?.answer ?? Type.Object(properties, { $id: spec.schemaId, additionalProperties: false, description: spec.description, examples: [spec.example] })
  const query = spec.query ?? Type.Object({}, { additionalProperties: false })
  return {
    ...spec,
    life: spec.life ?? ((_ask, _now, defaults) => defaults),
    answer,
    item: spec.schemas?.item ?? item?.schema as TObject | undefined,
    query,
    reader: queryReader(query, spec.queryRefusals),
    response: spec.schemas?.response ?? Type.Unsafe({ $ref: `${spec.schemaId}#` }),
    components: spec.schemas?.components ?? [answer],
    notFound: (ask) => (spec.missing === 'device' ? new DeviceNotFoundError(ask.id ?? 0) : new UserNotFoundError(ask.id ?? 0)),
    readHead: (page) => head.read(page, page) as Record<string, unknown>,
    readItem: item?.read as Resource['readItem']
  }
}
