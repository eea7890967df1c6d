// One paged, searchable, live list of a collection: the API's search,
// max/page and total, re-read every two seconds.
import { useState } from "preact/hooks";
import { api, listPath } from "./api.js";
import { Alert, Pager, SearchBox, usePoll } from "./ui.jsx";

// columns: [{title, render(item) -> text or vnode}]; actions(item) -> vnode
export function ListView({ collection, title, columns, actions, toolbar, hint, max = 20, refreshKey = 0 }) {
  const [search, setSearch] = useState("");
  const [page, setPage] = useState(1);
  const [data, setData] = useState(null);
  const [error, setError] = useState("");
  usePoll(async (current) => {
    try {
      const d = await api("GET", listPath(collection, { search, page, max }));
      if (!current()) return;
      setData(d);
      setError("");
    } catch (e) {
      if (current()) setError(e.message);
    }
  }, [collection, search, page, refreshKey]);
  const items = data ? data[collection] || [] : [];
  return (
    <section class="pf-v6-c-page__main-section" aria-label={title} data-list={collection}>
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
            {actions && <th class="pf-v6-c-table__th" scope="col"><span class="pf-v6-screen-reader">Actions</span></th>}
          </tr>
        </thead>
        <tbody class="pf-v6-c-table__tbody">
          {items.map((it) => (
            <tr class="pf-v6-c-table__tr" key={it.id} data-id={it.id} data-name={it.name}>
              {columns.map((c) => <td class="pf-v6-c-table__td" data-label={c.title}>{c.render(it)}</td>)}
              {actions && <td class="pf-v6-c-table__td pf-v6-c-table__action">{actions(it)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
      {data && items.length === 0 && <p class="vireo-empty">No {title.toLowerCase()} match.</p>}
    </section>
  );
}
