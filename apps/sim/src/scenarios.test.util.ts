/** Short versions of the scenario files for the test command: few peers and issues, short leases, fast timings. */
import { join } from 'node:path'
import { loadScenario, applyOverrides, type Overrides, type Scenario } from './scenario.js'

export const SCENARIOS = join(import.meta.dirname, '..', 'scenarios')

/** Like apps/peer's in-process test timings: seconds, not minutes, on a loaded 2-core machine. */
export const FAST: Overrides = {
  lease: { leaseMs: 8000, renewEveryMs: 2000, settleMs: 200 },
  forge: { secondaryRetryAfterS: 2 },
  timings: { presenceMs: 300, warmUpMs: 800, tickMs: 100, watchIntervalMs: 400, forkPollMs: 50, standbyStepMs: 800, suspectAfterMs: 1500, deadAfterMs: 3000 }
}

export async function shortScenario (name: string, overrides: Overrides = {}): Promise<Scenario> {
  const s = await loadScenario(join(SCENARIOS, `${name}.yaml`))
  return applyOverrides(s, { peers: 3, issues: 3, durationMs: 60_000, ...FAST, ...overrides })
}
