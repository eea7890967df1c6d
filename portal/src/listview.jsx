// One paged, searchable, live list of a collection: the API's search,
// max/page and total. Live: the events feed (live.js) names the objects
// that changed; rows on screen are re-read one by one (GET /api/COLL/ID),
// an event about another object of the kind (a new one, a removal)
// re-reads the page. A slower re-read (`poll` ms) catches what changes
// without an event (a monitor's status, a job's progress).
import { useEffect, useRef, useState } from "preact/hooks";
import { api, listPath } from "./api.js";
import { t } from "./i18n.js";
import { subscribe } from "./live.js";
import { Alert, Pager, SearchBox, usePoll } from "./ui.jsx";

// The events' object_type of each collection.
export const TYPE_OF = {
  vms: "vm", hosts: "host", clusters: "cluster", datacenters: "datacenter", storagedomains: "storagedomain",
  networks: "network", templates: "template", vmpools: "vmpool", disks: "disk", users: "user", jobs: "job",
};

// columns: [{title, render(item) -> text or vnode}]; a text is API data
// (class vireo-data); actions(item) -> vnode
export function ListView({ collection, title, columns, actions, toolbar, hint, max = 20, refreshKey = 0, poll = 5000 }) {
  const [search, setSearch] = useState("");
  const [page, setPage] = useState(1);
  const [data, setData] = useState(null);
  const [error, setError] = useState("");
  const [live, setLive] = useState(0); // rows and pages re-read because of events
  const shown = useRef(null);
  shown.current = data;
  const reread = usePoll(async (current) => {
    try {
      const d = await api("GET", listPath(collection, { search, page, max }));
      if (!current()) return;
      setData(d);
      setError("");
    } catch (e) {
      if (current()) setError(e.message);
    }
  }, [collection, search, page, refreshKey], poll);
  useEffect(() => subscribe(async (events) => {
    const type = TYPE_OF[collection];
    const mine = collection === "events" ? events : events.filter((e) => e.object_type === type);
    if (!mine.length) return;
    const rows = (shown.current && shown.current[collection]) || [];
    const ids = new Set(mine.map((e) => e.object_id));
    const onScreen = rows.filter((r) => ids.has(r.id));
    if (collection === "events" || onScreen.length < ids.size) {
      setLive((n) => n + 1);
      reread(); // something not on this page: maybe new, maybe gone
      return;
    }
    try {
      const fresh = await Promise.all(onScreen.map((r) => api("GET", `/api/${collection}/${r.id}`)));
      const byId = Object.fromEntries(fresh.map((r) => [r.id, r]));
      setData((d) => d && { ...d, [collection]: d[collection].map((r) => byId[r.id] || r) });
      setLive((n) => n + 1);
    } catch (e) {
      reread(); // removed meanwhile: the page tells
    }
  }), [collection]);
  const items = data ? data[collection] || [] : [];
  const cell = (v) => (typeof v === "string" || typeof v === "number" ? <span class="vireo-data">{v}</span> : v);
  return (
    <section class="pf-v6-c-page__main-section" aria-label={title} data-list={collection} data-live={live}>
      <div class="pf-v6-c-toolbar">
        <div class="pf-v6-c-toolbar__content">
          <div class="pf-v6-c-toolbar__content-section">
            <SearchBox id={`search-${collection}`} value={search} placeholder={hint}
                       onSearch={(s) => { setSearch(s); setPage(1); }} />
            {toolbar && <div class="pf-v6-c-toolbar__item">{toolbar}</div>}
            <div class="pf-v6-c-toolbar__item pf-m-pagination">
              <Pager page={page} max={max} total={data ? data.total : 0} onPage={setPage} />
            </div>
          </div>
        </div>
      </div>
      {error && <Alert title={error} class="vireo-list-error" />}
      <table class="pf-v6-c-table pf-m-compact pf-m-grid-md" role="grid" aria-label={title}>
        <thead class="pf-v6-c-table__thead">
          <tr class="pf-v6-c-table__tr">
            {columns.map((c) => <th class="pf-v6-c-table__th" scope="col">{c.title}</th>)}
            {actions && <th class="pf-v6-c-table__th" scope="col"><span class="pf-v6-screen-reader">{t("list.actions")}</span></th>}
          </tr>
        </thead>
        <tbody class="pf-v6-c-table__tbody">
          {items.map((it) => (
            <tr class="pf-v6-c-table__tr" key={it.id} data-id={it.id} data-name={it.name || it.alias}>
              {columns.map((c) => <td class="pf-v6-c-table__td" data-label={c.title}>{cell(c.render(it))}</td>)}
              {actions && <td class="pf-v6-c-table__td pf-v6-c-table__action">{actions(it)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
      {data && items.length === 0 && <p class="vireo-empty">{t("list.empty")}</p>}
    </section>
  );
}
