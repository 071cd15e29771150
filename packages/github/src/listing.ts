import type { ClaimComment } from './claim.js'
import type { GitHubClient } from './client.js'
import { ListingError } from './errors.js'
import { nextPage, type RepoRef } from './util.js'

export type CommentData = ClaimComment & { html_url?: string }

/** A complete read of an issue's comments, with what the next read needs to be conditional. */
export interface CommentsRead {
  comments: CommentData[]
  /** The server's clock at the first page's answer. */
  serverTime: number | undefined
  /** Each page's `ETag` and items, for the next read's conditional requests. */
  pages: Array<{ etag: string | undefined, items: CommentData[] }>
}

export interface ListInit {
  client: GitHubClient
  ref: RepoRef
  issue: number
  scope: string
  signal?: AbortSignal | undefined
  /** The previous read: its pages are asked for with `If-None-Match` (a `304` is free). */
  previous?: CommentsRead | undefined
  /** Pages read at most; past it the read fails (closed). Default 30 (3,000 comments). */
  maxPages?: number
  /** Tries when the list moved under the read (an item shifted across a page boundary). Default 3. */
  tries?: number
}

const ROUTE = 'GET /repos/{owner}/{repo}/issues/{issue_number}/comments' as const

/**
 * Reads every comment of an issue, failing closed: page-number paging skips an item when a
 * lower one is deleted between two page reads, so after reading more than one page the earlier
 * pages are asked for again, conditionally (free `304`s when unchanged); if any changed, the read
 * starts over. Hitting `maxPages`, or a list that keeps moving, throws `ListingError`.
 */
export async function listIssueComments (init: ListInit): Promise<CommentsRead> {
  const maxPages = init.maxPages ?? 30
  const tries = init.tries ?? 3
  let previous = init.previous
  for (let t = 0; t < tries; t++) {
    const pages: CommentsRead['pages'] = []
    let serverTime: number | undefined
    let page: number | undefined = 1
    while (page !== undefined) {
      if (page > maxPages) throw new ListingError(init.issue, 'cap', maxPages)
      const got = await readPage(init, page, previous?.pages[page - 1])
      serverTime ??= got.serverTime
      pages.push({ etag: got.etag, items: got.items })
      page = got.next
    }
    let moved = false
    for (let i = 0; i < pages.length - 1 && !moved; i++) {
      const again = await readPage(init, i + 1, pages[i])
      moved = again.changed
    }
    const read = { comments: pages.flatMap((p) => p.items), serverTime, pages }
    if (!moved) return read
    previous = read
  }
  throw new ListingError(init.issue, 'moving', tries)
}

async function readPage (init: ListInit, page: number, known: { etag: string | undefined, items: CommentData[] } | undefined): Promise<{ items: CommentData[], etag: string | undefined, serverTime: number | undefined, next: number | undefined, changed: boolean }> {
  const res = await init.client.request(ROUTE, { ...init.ref, issue_number: init.issue, per_page: 100, page }, {
    scope: init.scope, signal: init.signal, ...(known?.etag !== undefined ? { etag: known.etag } : {})
  })
  if (res.notModified && known !== undefined) {
    // An unchanged full page is followed by another; an unchanged short one is the last.
    return { items: known.items, etag: known.etag, serverTime: res.serverTime, next: nextPage(res.link) ?? (known.items.length >= 100 ? page + 1 : undefined), changed: false }
  }
  return { items: res.data as CommentData[], etag: res.etag, serverTime: res.serverTime, next: nextPage(res.link), changed: true }
}
