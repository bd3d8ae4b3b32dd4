// Two answers compared header for header carry whole seconds (Age, the Cache-Status TTL, max-age,
// RateLimit-Reset), and each of those ticks at its own instant, so two answers made milliseconds
// apart now and then straddle a tick and differ by one. Such a pair is made again; a real
// difference shows in every attempt.

/** Makes the pair until `same` holds for it, at most `attempts` times; the last pair made. */
export async function withinOneTick<T> (make: () => Promise<T>, same: (made: T) => boolean, attempts = 3): Promise<T> {
  let made = await make()
  for (let attempt = 1; attempt < attempts && !same(made); attempt++) made = await make()
  return made
}
