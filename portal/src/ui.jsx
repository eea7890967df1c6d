// Small PatternFly building blocks (markup after PatternFly 6's HTML).
// Every value from the API is rendered as a text node or attribute value
// by Preact, never as HTML, so a name like <img onerror=...> stays text.
import { useEffect, useRef, useState } from "preact/hooks";
import { fmtNumber, t, tValue } from "./i18n.js";

export const cx = (...c) => c.filter(Boolean).join(" ");

export function Button({ variant = "secondary", small, children, ...rest }) {
  return (
    <button type="button" class={cx("pf-v6-c-button", `pf-m-${variant}`, small && "pf-m-small")} {...rest}>
      <span class="pf-v6-c-button__text">{children}</span>
    </button>
  );
}

export function Alert({ variant = "danger", title, children, ...rest }) {
  return (
    <div class={cx("pf-v6-c-alert", `pf-m-${variant}`, "pf-m-inline")} role="alert" {...rest}>
      <p class="pf-v6-c-alert__title"><span class="pf-v6-screen-reader">{t(`alert.${variant}`)}</span>{title}</p>
      {children && <div class="pf-v6-c-alert__description">{children}</div>}
    </div>
  );
}

const STATUS_COLOR = {
  up: "green", poweringup: "blue", waitforlaunch: "blue", poweringdown: "orange", paused: "orange",
  down: "grey", nonresponsive: "red", nonoperational: "red", connecting: "blue", maintenance: "orange",
  preparingformaintenance: "orange", notresponding: "red", migratingfrom: "blue", unknown: "grey",
  savingstate: "blue", suspended: "grey", kdumping: "orange",
  error: "red", warning: "orange", normal: "blue",
};

export function StatusLabel({ status }) {
  const s = String(status || "unknown");
  return (
    <span class={cx("pf-v6-c-label", "pf-m-compact", `pf-m-${STATUS_COLOR[s.toLowerCase()] || "grey"}`)}
          data-status={s}>
      <span class="pf-v6-c-label__content"><span class="pf-v6-c-label__text">{tValue("status", s)}</span></span>
    </span>
  );
}

export function TextInput({ id, label, value, onInput, type = "text", required, ...rest }) {
  return (
    <div class="pf-v6-c-form__group">
      <div class="pf-v6-c-form__group-label">
        <label class="pf-v6-c-form__label" for={id}>
          <span class="pf-v6-c-form__label-text">{label}</span>
          {required && <span class="pf-v6-c-form__label-required" aria-hidden="true">&#42;</span>}
        </label>
      </div>
      <div class="pf-v6-c-form__group-control">
        <span class="pf-v6-c-form-control">
          <input id={id} name={id} type={type} value={value} required={required}
                 onInput={(e) => onInput(e.currentTarget.value)} {...rest} />
        </span>
      </div>
    </div>
  );
}

export function Select({ id, label, value, onChange, options, required }) {
  return (
    <div class="pf-v6-c-form__group">
      <div class="pf-v6-c-form__group-label">
        <label class="pf-v6-c-form__label" for={id}><span class="pf-v6-c-form__label-text">{label}</span>
          {required && <span class="pf-v6-c-form__label-required" aria-hidden="true">&#42;</span>}</label>
      </div>
      <div class="pf-v6-c-form__group-control">
        <span class="pf-v6-c-form-control">
          <select id={id} name={id} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
            {options.map((o) => <option value={o.value} class={o.data ? "vireo-data" : undefined}>{o.label}</option>)}
          </select>
        </span>
      </div>
    </div>
  );
}

export function Modal({ title, onClose, children, footer, id, wide }) {
  const ref = useRef(null);
  useEffect(() => {
    const first = ref.current && ref.current.querySelector("input,select,button");
    if (first) first.focus();
    const key = (e) => { if (e.key === "Escape") onClose(); };
    document.addEventListener("keydown", key);
    return () => document.removeEventListener("keydown", key);
  }, []);
  return (
    <div class="pf-v6-c-backdrop">
      <div class="pf-v6-l-bullseye">
        <div class={"pf-v6-c-modal-box " + (wide ? "pf-m-lg" : "pf-m-sm")} role="dialog" aria-modal="true" aria-labelledby={`${id}-title`}
             id={id} ref={ref}>
          <header class="pf-v6-c-modal-box__header">
            <h1 class="pf-v6-c-modal-box__title" id={`${id}-title`}>{title}</h1>
          </header>
          {/* focusable: a long body scrolls, and the keyboard must reach it */}
          <div class="pf-v6-c-modal-box__body" tabindex={wide ? "0" : undefined}>{children}</div>
          <footer class="pf-v6-c-modal-box__footer">{footer}</footer>
        </div>
      </div>
    </div>
  );
}

// Polls fn every `ms` while the page is visible; returns a trigger to run
// it now. Live status without a reload: the lists re-read the API. fn gets
// current(): false once deps changed, so an answer to an old query (a
// previous search or page) that arrives late is dropped.
export function usePoll(fn, deps, ms = 2000) {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let stop = false;
    const current = () => !stop;
    fn(current);
    const t = setInterval(() => { if (!stop && !document.hidden) fn(current); }, ms);
    return () => { stop = true; clearInterval(t); };
  }, [...deps, tick]);
  return () => setTick((x) => x + 1);
}

export function SearchBox({ id, value, onSearch, placeholder }) {
  const [text, setText] = useState(value);
  return (
    <form class="pf-v6-c-toolbar__item" role="search" onSubmit={(e) => { e.preventDefault(); onSearch(text.trim()); }}>
      <div class="pf-v6-c-text-input-group">
        <div class="pf-v6-c-text-input-group__main">
          <span class="pf-v6-c-text-input-group__text">
            <input class="pf-v6-c-text-input-group__text-input" id={id} type="search" value={text}
                   aria-label={t("list.search")} placeholder={placeholder}
                   onInput={(e) => setText(e.currentTarget.value)} />
          </span>
        </div>
      </div>
    </form>
  );
}

export function Pager({ page, max, total, onPage }) {
  const first = total ? (page - 1) * max + 1 : 0;
  const last = Math.min(total, page * max);
  return (
    <div class="pf-v6-c-pagination pf-m-compact">
      <span class="vireo-range">{t("pager.range", { first, last })} <b class="vireo-total" data-total={total}>{fmtNumber(total)}</b>{t("pager.after-total")}</span>
      <nav class="pf-v6-c-pagination__nav" aria-label={t("pager.nav")}>
        <div class="pf-v6-c-pagination__nav-control">
          <Button variant="plain" aria-label={t("pager.prev")} data-page="prev" disabled={page <= 1}
                  onClick={() => onPage(page - 1)}>‹</Button>
        </div>
        <div class="pf-v6-c-pagination__nav-control">
          <Button variant="plain" aria-label={t("pager.next")} data-page="next" disabled={last >= total}
                  onClick={() => onPage(page + 1)}>›</Button>
        </div>
      </nav>
    </div>
  );
}

// A job's progress (PatternFly's progress bar): percent done, its status
// in words. The width is set through the CSSOM, which the CSP allows.
export function Progress({ value, status, label, id }) {
  const v = Math.max(0, Math.min(100, Number(value) || 0));
  const done = status === "finished" ? "pf-m-success" : status === "failed" || status === "cancelled" ? "pf-m-danger" : "";
  return (
    <div class={cx("pf-v6-c-progress", "pf-m-sm", done)} id={id} data-progress={v} data-job-status={status}>
      <div class="pf-v6-c-progress__description">{label}</div>
      <div class="pf-v6-c-progress__status" aria-hidden="true">
        <span class="pf-v6-c-progress__measure">{t("progress.percent", { value: v })}</span>
      </div>
      <div class="pf-v6-c-progress__bar" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow={v}
           aria-label={label || t("progress.label")}>
        <div class="pf-v6-c-progress__indicator" style={{ width: `${v}%` }} />
      </div>
    </div>
  );
}
