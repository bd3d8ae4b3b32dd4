// Two answers compared header for header carry whole seconds (Age, the Cache-Status TTL, max-age,
// RateLimit-Reset), and each of those ticks at its own instant, so two answers made milliseconds
// apart now and then straddle a tick and differ by one. Such a pair is made again; a real
// difference shows in every attempt.
import { isDeepStrictEqual } from 'node:util'

/** A lane answer and the route's, with the headers each test compares. */
export interface AnswerPair { laneHeaders: Record<string, unknown>, routeHeaders: Record<string, unknown> }

/** Makes the pair until its compared headers are equal, at most `attempts` times; the last pair made. */
export async function withinOneTick<T extends AnswerPair> (make: () => Promise<T>, attempts = 3): Promise<T> {
  let made = await make()
  for (let attempt = 1; attempt < attempts && !isDeepStrictEqual(made.laneHeaders, made.routeHeaders); attempt++) made = await make()
  return made
}
