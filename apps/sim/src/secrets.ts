/**
 * The token scan: every token the run made shares one random prefix, so a single substring
 * search finds a token (or part of one) in any text. Pure.
 */
export function createSecretScan (prefix: string): { check: (where: string, text: string) => void, found: () => string[] } {
  const found = new Set<string>()
  return {
    check (where, text) {
      if (text.includes(prefix)) found.add(where)
    },
    found: () => [...found]
  }
}
