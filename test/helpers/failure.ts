// The error a call fails with; a call that succeeds fails the test instead.
export async function failure (call: Promise<unknown>): Promise<Error> {
  try {
    await call
  } catch (err) {
    return err as Error
  }
  throw new Error('the call did not fail')
}
