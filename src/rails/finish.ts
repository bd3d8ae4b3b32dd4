// The last step of Rails' POST and GET readers: check_param_encoding refuses a value that is not
// UTF-8 (400), then deep munging drops nils from arrays and turns an upload into an UploadedFile.
// Output hashes have no prototype, so `__proto__` and `constructor` are plain keys.
import { fail } from './failure.js'
import type { RailsParams, RailsValue } from './values.js'
import type { Node, Params } from './query-parser.js'
import { hasInvalidBytes } from './text.js'

/** Parsed parameters as Rails hands them to a controller. */
export function finish (params: Params): RailsParams {
  const out: RailsParams = Object.create(null)
  for (const [key, value] of params.map) out[key] = finishValue(value)
  return out
}

function finishValue (node: Node): RailsValue {
  if (node === null || typeof node === 'number' || typeof node === 'boolean') return node
  if (typeof node === 'string') {
    if (hasInvalidBytes(node)) fail('invalid', 'a parameter value is not UTF-8')
    return node
  }
  if (Array.isArray(node)) {
    const list: RailsValue[] = []
    for (const item of node) if (item !== null) list.push(finishValue(item))
    return list
  }
  if ('upload' in node) {
    const file: RailsParams = Object.create(null)
    file.filename = node.filename
    file.type = node.type
    return file
  }
  return finish(node)
}
