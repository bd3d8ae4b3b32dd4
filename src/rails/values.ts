// What Rails hands a controller in `params`, as the gateway holds it: the shape params.ts produces
// and finish.ts converts Rack's nodes into.

/** A parameter value as Rails holds it in `params` (JSON bodies keep numbers, booleans and null). */
export type RailsValue = string | number | boolean | null | RailsValue[] | { [name: string]: RailsValue }
export type RailsParams = { [name: string]: RailsValue }
