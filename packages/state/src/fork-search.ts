/**
 * The first position in `[0, hi]` where two hash chains differ, given that they differ at
 * `hi`: each entry hashes the one before it, so equal entries at a position mean equal chains
 * up to it, and the positions where they agree form a prefix. `same(seq)` compares one
 * position (one request to a remote); it is called at most `ceil(log2(hi + 1))` times.
 */
export async function firstDifference (hi: number, same: (seq: number) => Promise<boolean>): Promise<number> {
  let lo = 0
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2)
    if (await same(mid)) lo = mid + 1
    else hi = mid
  }
  return hi
}
