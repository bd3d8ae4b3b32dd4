// A vitest reporter for CI, where a failed test is run once more (.ci/run passes --retry=1):
// names every test that needed that second run, so a flaky test is seen and mended, not hidden by
// its pass. With RETRIED_FILE set, the lines are also appended there (.ci/run prints them again
// beside its final count).
import { appendFileSync } from 'node:fs'
import type { Reporter, TestCase } from 'vitest/node'

export default class RetriedReporter implements Reporter {
  private readonly retried: string[] = []

  onTestCaseResult (testCase: TestCase): void {
    const retries = testCase.diagnostic()?.retryCount ?? 0
    if (retries > 0) this.retried.push(`RETRIED x${retries} (${testCase.result().state}): ${testCase.module.moduleId} > ${testCase.fullName}`)
  }

  onTestRunEnd (): void {
    for (const line of this.retried) console.log(line)
    const file = process.env.RETRIED_FILE
    if (file !== undefined && this.retried.length > 0) appendFileSync(file, this.retried.map((line) => `${line}\n`).join(''))
  }
}
