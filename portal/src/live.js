// Live updates from the API's events feed: one loop per page reads
// GET /api/events?search=after=LAST (the events newer than the last one
// seen) every LIVE_MS while the page is visible and hands each batch to
// the lists, which re-read only the rows the events name (docs/portal.md
// "Live updates"). The API has no long-poll, so this is the cheapest
// follow: one small request that is empty when nothing happened.
import { api, listPath } from "./api.js";

export const LIVE_MS = 1000;
const subscribers = new Set();
let last = null;   // the newest event id seen (null: not asked yet)
let timer = null;

async function tick() {
  if (document.hidden) return;
  try {
    if (last === null) {
      const d = await api("GET", listPath("events", { max: 1 }));
      last = d.events.length ? d.events[0].id : 0;
      return;
    }
    const d = await api("GET", listPath("events", { search: `after=${last}`, max: 100 }));
    if (!d.events.length) return;
    last = Math.max(last, ...d.events.map((e) => e.id));
    for (const fn of subscribers) fn(d.events);
  } catch (e) { /* the lists show the API's errors; the feed tries again */ }
}

// fn(events) for every batch of new events while subscribed; returns the
// unsubscribe.
export function subscribe(fn) {
  subscribers.add(fn);
  if (!timer) { tick(); timer = setInterval(tick, LIVE_MS); }
  return () => {
    subscribers.delete(fn);
    if (!subscribers.size) { clearInterval(timer); timer = null; last = null; }
  };
}
