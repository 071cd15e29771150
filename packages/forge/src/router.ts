/** A minimal path router: `/repos/:owner/:repo/issues/:number`, with `:rest+` matching across slashes. */

export interface Route<H> {
  method: string
  pattern: string
  regex: RegExp
  names: string[]
  handler: H
}

export class Router<H> {
  private readonly routes: Array<Route<H>> = []

  add (method: string, pattern: string, handler: H): this {
    const names: string[] = []
    const source = pattern.split('/').map((part) => {
      const m = /^:(\w+)(\+)?$/.exec(part)
      if (m == null) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      names.push(m[1] ?? '')
      return m[2] === '+' ? '(.+)' : '([^/]+)'
    }).join('/')
    this.routes.push({ method, pattern, regex: new RegExp(`^${source}/?$`), names, handler })
    return this
  }

  /** The handler and parameters for a request; `methodNotAllowed` when the path exists under another method. */
  match (method: string, path: string): { handler: H, params: Record<string, string>, pattern: string } | { methodNotAllowed: boolean } {
    let pathMatched = false
    for (const r of this.routes) {
      const m = r.regex.exec(path)
      if (m == null) continue
      pathMatched = true
      if (r.method !== method) continue
      const params: Record<string, string> = {}
      r.names.forEach((n, i) => { params[n] = decodeURIComponent(m[i + 1] ?? '') })
      return { handler: r.handler, params, pattern: r.pattern }
    }
    return { methodNotAllowed: pathMatched }
  }
}
