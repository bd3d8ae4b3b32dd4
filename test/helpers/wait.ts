// Polls until a condition holds: for state that changes on its own (Redis reconnecting, a
// circuit half-opening, a child process logging), bounded so a test never hangs. The bound is on
// the monotonic clock, so a test that fakes Date (helpers/clock.ts) keeps it.
export async function waitFor (check: () => boolean | Promise<boolean>, { timeoutMs = 5000, what = 'condition' } = {}): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
