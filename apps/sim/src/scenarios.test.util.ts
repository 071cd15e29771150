/** Short versions of the scenario files for the test command: few peers and issues, short leases, fast timings. */
import { join } from 'node:path'
import { loadScenario, applyOverrides, type Overrides, type Scenario } from './scenario.js'

export const SCENARIOS = join(import.meta.dirname, '..', 'scenarios')

/**
 * Like apps/peer's in-process test timings: seconds, not minutes. The lease leaves room for a
 * loaded 2-core machine (with 8 s, claim v2's fencing saw publish steps overrun their margin).
 */
export const FAST: Overrides = {
  lease: { leaseMs: 15_000, renewEveryMs: 3000, settleMs: 200 },
  forge: { secondaryRetryAfterS: 2 },
  timings: { presenceMs: 300, warmUpMs: 800, tickMs: 100, watchIntervalMs: 400, forkPollMs: 50, standbyStepMs: 800, suspectAfterMs: 1500, deadAfterMs: 3000 }
}

export async function shortScenario (name: string, overrides: Overrides = {}): Promise<Scenario> {
  const s = await loadScenario(join(SCENARIOS, `${name}.yaml`))
  return applyOverrides(s, { peers: 3, issues: 3, durationMs: 90_000, ...FAST, ...overrides })
}
