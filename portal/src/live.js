// Live updates from the API's events feed: one loop per page long-polls
// GET /api/events?search=after=LAST&wait=WAIT_S (the events newer than the
// last one seen; the engine holds the answer until one the user may see
// arrives, or answers empty after WAIT_S) and hands each batch to the
// lists, which re-read only the rows the events name (docs/portal.md
// "Live updates"). The loop asks again at once after each answer, waits
// RETRY_MS after an error, and pauses while the page is hidden.
import { api, listPath } from "./api.js";

export const WAIT_S = 25;
export const RETRY_MS = 1000;
const subscribers = new Set();
let last = null;     // the newest event id seen (null: not asked yet)
let running = false; // one loop per page, whatever subscribes and leaves

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function shown() {
  return new Promise((resolve) => {
    const on = () => {
      if (document.hidden) return;
      document.removeEventListener("visibilitychange", on);
      resolve();
    };
    document.addEventListener("visibilitychange", on);
  });
}

// The loop outlives a list that leaves while its request is held (tabs
// come and go): a new loop per list would leave held requests behind, and
// a browser opens only six connections to a host.
async function follow() {
  running = true;
  while (subscribers.size) {
    if (document.hidden) { await shown(); continue; }
    try {
      if (last === null) {
        const d = await api("GET", listPath("events", { max: 1 }));
        last = d.events.length ? d.events[0].id : 0;
        continue;
      }
      const d = await api("GET", `${listPath("events", { search: `after=${last}`, max: 100 })}&wait=${WAIT_S}`);
      if (!d.events.length) continue;
      last = Math.max(last, ...d.events.map((e) => e.id));
      for (const fn of subscribers) fn(d.events);
    } catch (e) {
      await sleep(RETRY_MS); // the lists show the API's errors; the feed tries again
    }
  }
  running = false;
  last = null;
}

// fn(events) for every batch of new events while subscribed; returns the
// unsubscribe.
export function subscribe(fn) {
  subscribers.add(fn);
  if (!running) follow();
  return () => { subscribers.delete(fn); };
}
