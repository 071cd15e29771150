// Parsing one line of a CLI's JSON-lines output without ever throwing.

export function parseJsonLine (line: string): Record<string, unknown> | undefined {
  const text = line.trim()
  if (!text.startsWith('{')) return undefined
  try {
    const value: unknown = JSON.parse(text)
    return value != null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : undefined
  } catch {
    return undefined
  }
}

export function rec (value: unknown): Record<string, unknown> {
  return value != null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : {}
}

export function arr (value: unknown): unknown[] {
  return Array.isArray(value) ? value : []
}

export function str (value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

export function num (value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

/** The reason a run stopped early, read from an error text. */
export function reasonFromText (text: string): 'turn_limit' | 'token_limit' | 'budget' | 'denied' | undefined {
  if (/max(imum)?[ _-]?(session[ _-]?)?turns?/i.test(text)) return 'turn_limit'
  if (/budget|spend limit|cost limit/i.test(text)) return 'budget'
  if (/context (window|length)|token limit|max[ _-]?tokens|too many tokens/i.test(text)) return 'token_limit'
  if (/permission|denied|not allowed|rejected by the user/i.test(text)) return 'denied'
  return undefined
}
