// Polls until a condition holds: for state that changes on its own (Redis reconnecting, a
// circuit half-opening, a child process logging), bounded so a test never hangs.
export async function waitFor (check: () => boolean | Promise<boolean>, { timeoutMs = 5000, what = 'condition' } = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
