// Cursors: opaque to clients, but plain data to the gateway. A cursor names the list it was made
// for (the user, and the version of the list: its ETag, which changes exactly when the content
// does), the filters it pages through, and where the next page starts. Nothing in it is secret
// or trusted: a forged cursor can only ask for a page of a list the caller may already read, and
// every field is checked before use.

export interface CursorState {
  /**
   * What kind of list: a user's devices (`devices`, whose filter is a device type list), or a
   * catalogue list (`list`, whose filter names the resource and its query). Part of the cursor's
   * text, so no filter of one kind can read as one of the other.
   */
  kind: 'devices' | 'list'
  userId: number
  /** The list's strong ETag, without quotes. */
  version: string
  /** Position in the whole (unfiltered) list where the next page starts looking. */
  position: number
  /** filterKey() of the query it was issued for. */
  filter: string
}

const FORMAT = /^([12])\.(0|[1-9][0-9]{0,9})\.([A-Za-z0-9_-]{1,64})\.(0|[1-9][0-9]{0,9})\.([a-z0-9_+,-]*\|(?:true|false)?)$/
const KIND_MARK = { devices: '1', list: '2' } as const

export function encodeCursor (state: CursorState): string {
  return Buffer.from(`${KIND_MARK[state.kind]}.${state.userId}.${state.version}.${state.position}.${state.filter}`).toString('base64url')
}

/** The cursor's state, or undefined when it is not one this gateway issued. */
export function decodeCursor (cursor: string): CursorState | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined
  const match = FORMAT.exec(Buffer.from(cursor, 'base64url').toString('latin1'))
  if (!match) return undefined
  return { kind: match[1] === '1' ? 'devices' : 'list', userId: Number(match[2]), version: match[3] as string, position: Number(match[4]), filter: match[5] as string }
}
