// Shared by the tests: the scripted agent, and finding its processes in /proc.
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const SCRIPTED_AGENT = fileURLToPath(new URL('./fixtures/scripted-agent.sh', import.meta.url))

let counter = 0
/** A mark unique to this test process and call, for the scripted agent's sleeps. */
export function newMark (): string {
  counter++
  return `${process.pid}${counter}`
}

/** Processes whose command line contains `mark`. */
export function processesWith (mark: string): string[] {
  const found: string[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ')
      if (cmd.includes(mark) && !cmd.includes('scripted-agent.sh')) found.push(`${entry}: ${cmd}`)
    } catch { /* gone */ }
  }
  return found
}

/** Waits until no process holds `mark` (or the time is up) and returns what is left. */
export async function leftOver (mark: string, waitMs = 2000): Promise<string[]> {
  const end = Date.now() + waitMs
  for (;;) {
    const left = processesWith(mark)
    if (left.length === 0 || Date.now() > end) return left
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
