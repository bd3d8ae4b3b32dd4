// Small lists of users for the item and cut tests: names with multi-byte characters and JSON
// escapes, so a byte offset and a character offset differ.
const NAMES = ['Zoë', 'Dávid "Ö"', '☎ \\ desk', 'emoji 😀', 'line\u2028sep', '<b>&amp;</b>', 'plain']

export const user = (id: number) => ({ id, username: NAMES[id % NAMES.length] as string, balance: { amount: `${id}.50`, currency: null } })
export const users = (n: number) => Array.from({ length: n }, (_, i) => user(i + 1))
export const idOf = (item: Record<string, unknown>) => item.id as number
