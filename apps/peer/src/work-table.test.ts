import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { EMPTY_WORK, HELD_PER_SLOT, WorkTransitionError, freeSlots, keysIn, slotsInUse, workStep, type WorkEvent, type WorkTable } from './work-table.js'

// The model: per key, whether its agent still works; what a slot promises, stated without the table.
interface Model { agents: Set<string>, publishing: Set<string>, slots: number }
interface Real { table: WorkTable }

const KEYS = ['o/r#1', 'o/r#2', 'o/r#3', 'o/r#4']

class Cmd implements fc.Command<Model, Real> {
  constructor (readonly event: WorkEvent) {}
  check (): boolean { return true }
  run (m: Model, r: Real): void {
    const { key } = this.event
    const known = m.agents.has(key) || m.publishing.has(key)
    // The node starts work only with a free slot and never twice on one key.
    const allowed = this.event.type === 'started' ? !known : known
    if (!allowed) {
      expect(() => workStep(r.table, this.event)).toThrow(WorkTransitionError)
      return
    }
    if (this.event.type === 'started' && (m.agents.size >= m.slots || m.agents.size + m.publishing.size >= HELD_PER_SLOT * m.slots)) return
    r.table = workStep(r.table, this.event)
    switch (this.event.type) {
      case 'started': m.agents.add(key); break
      case 'agent-ended': if (m.agents.delete(key)) m.publishing.add(key); break
      case 'ended': m.agents.delete(key); m.publishing.delete(key); break
    }
    // Invariants: a slot counts agent work; a publishing task is still this node's, and the node
    // holds at most HELD_PER_SLOT × slots tasks (a backlog of results stops its claims).
    expect(slotsInUse(r.table)).toBe(m.agents.size)
    const held = m.agents.size + m.publishing.size
    expect(freeSlots(r.table, m.slots)).toBe(Math.max(0, Math.min(m.slots - m.agents.size, HELD_PER_SLOT * m.slots - held)))
    expect(held).toBeLessThanOrEqual(HELD_PER_SLOT * m.slots)
    expect(new Set(keysIn(r.table, 'running'))).toEqual(m.agents)
    expect(new Set(keysIn(r.table, 'publishing'))).toEqual(m.publishing)
    expect(r.table.size).toBe(m.agents.size + m.publishing.size)
  }

  toString (): string { return `${this.event.type}(${this.event.key})` }
}

describe('work table', () => {
  it('a slot counts running agents; publishing tasks stay in the table until they end (model)', () => {
    const key = fc.constantFrom(...KEYS)
    const commands = fc.commands([
      key.map((k) => new Cmd({ type: 'started', key: k })),
      key.map((k) => new Cmd({ type: 'agent-ended', key: k })),
      key.map((k) => new Cmd({ type: 'ended', key: k }))
    ], { maxCommands: 60 })
    fc.assert(fc.property(fc.integer({ min: 1, max: 3 }), commands, (slots, cmds) => {
      fc.modelRun(() => ({ model: { agents: new Set<string>(), publishing: new Set<string>(), slots }, real: { table: EMPTY_WORK } }), cmds)
    }), { numRuns: 300 })
  })

  it('a one-slot node is free again when its agent ends, while the task publishes', () => {
    let t = workStep(EMPTY_WORK, { type: 'started', key: 'a' })
    expect(freeSlots(t, 1)).toBe(0)
    t = workStep(t, { type: 'agent-ended', key: 'a' })
    expect(freeSlots(t, 1)).toBe(1)
    expect(() => workStep(t, { type: 'started', key: 'a' })).toThrow(/from publishing on started/)
    t = workStep(t, { type: 'started', key: 'b' })
    expect(freeSlots(t, 1)).toBe(0)
    expect(keysIn(t, 'publishing')).toEqual(['a'])
    expect(workStep(t, { type: 'agent-ended', key: 'a' })).toBe(t)
    t = workStep(t, { type: 'ended', key: 'a' })
    expect([...t]).toEqual([['b', 'running']])
  })

  it('a node whose results wait to publish stops claiming at two tasks held per slot', () => {
    let t = workStep(EMPTY_WORK, { type: 'started', key: 'a' })
    t = workStep(t, { type: 'agent-ended', key: 'a' })
    t = workStep(t, { type: 'started', key: 'b' })
    t = workStep(t, { type: 'agent-ended', key: 'b' })
    // Two results publishing on a one-slot node: no agent works, yet no slot is free.
    expect(slotsInUse(t)).toBe(0)
    expect(freeSlots(t, 1)).toBe(0)
    expect(freeSlots(t, 2)).toBe(2)
    t = workStep(t, { type: 'ended', key: 'a' })
    expect(freeSlots(t, 1)).toBe(1)
  })

  it('transitions are pure: the table given is not changed', () => {
    const t = workStep(EMPTY_WORK, { type: 'started', key: 'a' })
    workStep(t, { type: 'agent-ended', key: 'a' })
    workStep(t, { type: 'ended', key: 'a' })
    expect([...t]).toEqual([['a', 'running']])
    expect(EMPTY_WORK.size).toBe(0)
  })
})
