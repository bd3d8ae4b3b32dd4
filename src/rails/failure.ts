// How a parse step fails, as the Ruby exception class would: each stage of Rails' parameter reading
// rescues some kinds and not others (Rack::MethodOverride swallows most, `request.parameters`
// drops a body that ends early), so the kind travels as data on one error type.

/**
 * - `invalid`: Rack::Utils::InvalidParameterError (bad %-encoding, text that is not UTF-8).
 * - `type`: Rack::Utils::ParameterTypeError (`a=1&a[b]=2`).
 * - `limit`: Rack::QueryParser::QueryLimitError (depth, key space, size, count).
 * - `eof`: EOFError from the multipart parser (a body that ends early or is malformed).
 * - `json`: ActionDispatch::Http::Parameters::ParseError.
 * - `fatal`: anything else Rails lets through as a 4xx/5xx (an invalid Content-Type, part limits, ...).
 */
export type FailureKind = 'invalid' | 'type' | 'limit' | 'eof' | 'json' | 'fatal'

export class ParamsFailure extends Error {
  constructor (readonly kind: FailureKind, message: string) {
    super(message)
    this.name = 'ParamsFailure'
  }
}

export const fail = (kind: FailureKind, reason: string): never => {
  throw new ParamsFailure(kind, reason)
}
