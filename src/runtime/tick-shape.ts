// Keeps one entry of Node's nextTick queue alive for the life of the process, so that V8 keeps
// the hidden classes every later entry is built with.
//
// Why: entries are short-lived object literals, and a full GC that finds none alive drops their
// hidden classes; after a few, process.nextTick's stores stay on V8's slow runtime path. The
// gateway's heap has full GCs under load, so it paid this on every request. The measurements and
// the reasoning: docs/decisions/nextTick-hidden-classes.md.
// The async hook is on for a single nextTick call, here, at startup.
import { createHook } from 'node:async_hooks'

function keepOneTickEntry (): object | undefined {
  let kept: object | undefined
  const hook = createHook({
    init (_asyncId, type, _triggerAsyncId, resource) {
      if (type === 'TickObject') kept ??= resource
    }
  }).enable()
  try {
    process.nextTick(() => {})
  } finally {
    hook.disable()
  }
  return kept
}

/** The kept entry (undefined if this Node version queues ticks another way; nothing is lost then). */
export const keptTickEntry = keepOneTickEntry()
