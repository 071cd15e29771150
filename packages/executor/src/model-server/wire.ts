// Small helpers shared by the API codecs: tolerant access to parsed JSON.

export interface Usage { inputTokens: number, outputTokens: number }

export function asRecord (value: unknown): Record<string, unknown> {
  return value != null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : {}
}

export function asArray (value: unknown): unknown[] {
  return Array.isArray(value) ? value : []
}

/** Every string inside a JSON value, joined: enough to find what a prompt says. */
export function collectText (value: unknown, out: string[] = []): string {
  if (typeof value === 'string') out.push(value)
  else if (Array.isArray(value)) for (const v of value) collectText(v, out)
  else if (value != null && typeof value === 'object') for (const v of Object.values(value)) collectText(v, out)
  return out.join('\n')
}
