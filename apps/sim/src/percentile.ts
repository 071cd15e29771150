/** Nearest-rank percentile of a sample (undefined when empty). Pure. */
export function percentile (values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.ceil((Math.min(100, Math.max(0, p)) / 100) * sorted.length)
  return sorted[Math.max(0, rank - 1)]
}

export interface Distribution {
  p50: number | null
  p99: number | null
  max: number | null
  count: number
}

export function distribution (values: readonly number[]): Distribution {
  return {
    p50: percentile(values, 50) ?? null,
    p99: percentile(values, 99) ?? null,
    max: values.length === 0 ? null : Math.max(...values),
    count: values.length
  }
}
