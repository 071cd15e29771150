/**
 * Webhook deliveries, GitHub style: a JSON POST per event with `X-GitHub-Event`,
 * `X-GitHub-Delivery` and `X-Hub-Signature-256` (HMAC-SHA256 of the body with the hook's
 * secret). Deliveries can be dropped or duplicated on purpose (see `FaultConfig`).
 */
import { createHmac, randomUUID } from 'node:crypto'

export interface WebhookInit {
  url: string
  /** Secret for `X-Hub-Signature-256`; unsigned when absent. */
  secret?: string
  /** Event names to deliver (`issues`, `issue_comment`, `pull_request`, `push`, `fork`, `create`, `delete`); `['*']` for all. */
  events?: string[]
}

export interface Delivery {
  id: string
  hookId: number
  event: string
  url: string
  /** HTTP status of the receiver's answer, or 0 when it could not be reached; null while in flight. */
  status: number | null
  /** True when the fault injector dropped it (nothing was sent). */
  dropped: boolean
  /** How many times it was sent (2 for an injected duplicate). */
  attempts: number
}

export function sign (secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

interface Hook extends WebhookInit {
  id: number
  repo: string
}

export class Webhooks {
  private readonly hooks: Hook[] = []
  private nextId = 1
  readonly deliveries: Delivery[] = []
  private readonly inFlight = new Set<Promise<void>>()

  constructor (private readonly fate: () => 'drop' | 'duplicate' | 'deliver') {}

  add (repoKey: string, init: WebhookInit): number {
    const id = this.nextId++
    this.hooks.push({ ...init, id, repo: repoKey })
    return id
  }

  remove (id: number): void {
    const i = this.hooks.findIndex((h) => h.id === id)
    if (i >= 0) this.hooks.splice(i, 1)
  }

  /** Is any hook listening to this event of this repository? */
  wants (repoKey: string, event: string): boolean {
    return this.hooks.some((h) => h.repo === repoKey && ((h.events ?? ['*']).includes('*') || (h.events ?? []).includes(event)))
  }

  /**
   * Queue deliveries of one event to every matching hook of the repository. Never throws.
   * `payload` may be a function: it is only built when some hook wants the event.
   */
  emit (repoKey: string, event: string, payload: Record<string, unknown> | (() => Record<string, unknown>)): void {
    if (!this.wants(repoKey, event)) return
    const body = JSON.stringify(typeof payload === 'function' ? payload() : payload)
    for (const hook of this.hooks) {
      if (hook.repo !== repoKey) continue
      const events = hook.events ?? ['*']
      if (!events.includes('*') && !events.includes(event)) continue
      const d: Delivery = { id: randomUUID(), hookId: hook.id, event, url: hook.url, status: null, dropped: false, attempts: 0 }
      this.deliveries.push(d)
      const fate = this.fate()
      if (fate === 'drop') { d.dropped = true; continue }
      const times = fate === 'duplicate' ? 2 : 1
      const p = (async () => {
        for (let n = 0; n < times; n++) {
          d.attempts++
          try {
            const res = await fetch(hook.url, {
              method: 'POST',
              headers: {
                'content-type': 'application/json',
                'user-agent': 'GitHub-Hookshot/bzzz-forge',
                'x-github-event': event,
                'x-github-delivery': d.id,
                'x-github-hook-id': String(hook.id),
                ...(hook.secret != null ? { 'x-hub-signature-256': sign(hook.secret, body) } : {})
              },
              body,
              signal: AbortSignal.timeout(10_000)
            })
            d.status = res.status
            await res.arrayBuffer().catch(() => {})
          } catch {
            d.status = 0
          }
        }
      })()
      this.inFlight.add(p)
      void p.finally(() => this.inFlight.delete(p))
    }
  }

  /** Resolves when every delivery in flight has finished. */
  async settled (): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight])
  }
}
