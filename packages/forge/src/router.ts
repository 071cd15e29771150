/**
 * A minimal path router: `/repos/:owner/:repo/issues/:number`, with `:rest+` matching across
 * slashes. Where several patterns match a path, the most specific answers — the one with the
 * most literal segments, then the fewest catch-alls — so the order routes are added in does not
 * matter (`/issues/comments` wins over `/issues/:number` either way).
 */

export interface Route<H> {
  method: string
  pattern: string
  regex: RegExp
  names: string[]
  handler: H
  /** Literal segments, then catch-all parameters: what makes one match more specific. */
  literals: number
  catchAlls: number
}

export class Router<H> {
  private readonly routes: Array<Route<H>> = []

  add (method: string, pattern: string, handler: H): this {
    const names: string[] = []
    let literals = 0
    let catchAlls = 0
    const source = pattern.split('/').map((part) => {
      const m = /^:(\w+)(\+)?$/.exec(part)
      if (m == null) {
        if (part !== '') literals++
        return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      }
      names.push(m[1] ?? '')
      if (m[2] === '+') catchAlls++
      return m[2] === '+' ? '(.+)' : '([^/]+)'
    }).join('/')
    this.routes.push({ method, pattern, regex: new RegExp(`^${source}/?$`), names, handler, literals, catchAlls })
    return this
  }

  /** The handler and parameters for a request; `methodNotAllowed` when the path exists under another method. */
  match (method: string, path: string): { handler: H, params: Record<string, string>, pattern: string } | { methodNotAllowed: boolean } {
    let pathMatched = false
    let best: { route: Route<H>, m: RegExpExecArray } | undefined
    for (const r of this.routes) {
      const m = r.regex.exec(path)
      if (m == null) continue
      pathMatched = true
      if (r.method !== method) continue
      if (best === undefined || r.literals > best.route.literals || (r.literals === best.route.literals && r.catchAlls < best.route.catchAlls)) best = { route: r, m }
    }
    if (best === undefined) return { methodNotAllowed: pathMatched }
    const params: Record<string, string> = {}
    const { route, m } = best
    route.names.forEach((n, i) => { params[n] = decodeURIComponent(m[i + 1] ?? '') })
    return { handler: route.handler, params, pattern: route.pattern }
  }
}
