// Charts of a host's or VM's CPU, memory and network over the last hour,
// from the engine's in-memory history (GET /api/hosts|vms/ID/statistics/
// history; docs/rest-api.md "Statistics history"), drawn as inline SVG:
// no chart library, no inline style (the CSP allows none), every value a
// text node or an attribute.
import { useState } from "preact/hooks";
import { api } from "./api.js";
import { fmtBytes, fmtNumber, fmtTime, t } from "./i18n.js";
import { Alert, usePoll } from "./ui.jsx";

const W = 320, H = 110, PAD = 4, SPAN_S = 3600;

// One chart: series [{key, values [[time, v]], cls}], y from 0 to max.
function LineChart({ id, title, series, max, format, now }) {
  const top = Math.max(max || 0, ...series.flatMap((s) => s.values.map((p) => p[1])), 1e-9);
  const x = (tm) => PAD + ((tm - (now - SPAN_S)) / SPAN_S) * (W - 2 * PAD);
  const y = (v) => H - PAD - (v / top) * (H - 2 * PAD);
  const latest = series.map((s) => (s.values.length ? s.values[s.values.length - 1][1] : null));
  return (
    <figure class="vireo-chart" data-chart={id}>
      <figcaption class="vireo-chart-title">
        {title}
        {series.map((s, i) => latest[i] !== null && (
          <span class={`vireo-chart-value ${s.cls}`} data-latest={latest[i]}>{s.label} {format(latest[i])}</span>
        ))}
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} class="vireo-chart-svg" role="img" aria-label={title}>
        <rect x="0" y="0" width={W} height={H} class="vireo-chart-bg" />
        {[0.25, 0.5, 0.75].map((f) => <line x1={PAD} x2={W - PAD} y1={y(top * f)} y2={y(top * f)} class="vireo-chart-grid" />)}
        {series.map((s) => s.values.length > 1
          ? <polyline points={s.values.map(([tm, v]) => `${x(tm).toFixed(1)},${y(v).toFixed(1)}`).join(" ")}
                      class={`vireo-chart-line ${s.cls}`} data-points={s.values.length} />
          : s.values.map(([tm, v]) => <circle cx={x(tm)} cy={y(v)} r="2" class={`vireo-chart-dot ${s.cls}`} data-points="1" />))}
        <text x={W - PAD} y={PAD + 10} text-anchor="end" class="vireo-chart-axis">{format(top)}</text>
      </svg>
    </figure>
  );
}

export function Charts({ collection, id }) {
  const [hist, setHist] = useState(null);
  const [error, setError] = useState("");
  usePoll(async (current) => {
    try {
      const d = await api("GET", `/api/${collection}/${id}/statistics/history`);
      if (current()) { setHist(d); setError(""); }
    } catch (e) {
      if (current()) setError(e.message);
    }
  }, [collection, id], 10000);
  if (error) return <Alert title={error} id="stats-error" />;
  if (!hist) return null;
  const s = hist.samples;
  const now = s.length ? Math.max(s[s.length - 1].time, Date.now() / 1000) : Date.now() / 1000;
  const pick = (k) => s.filter((p) => p[k] !== null && p[k] !== undefined).map((p) => [p.time, p[k]]);
  const pct = (v) => t("stats.percent", { value: fmtNumber(v, { maximumFractionDigits: 1 }) });
  const rate = (v) => t("stats.rate", { value: fmtBytes(v) });
  const memMax = Math.max(0, ...s.map((p) => p.memory_total_bytes || 0));
  return (
    <div class="vireo-charts" data-samples={s.length}>
      <p class="vireo-chart-note">
        {s.length ? t("stats.range", { count: s.length, from: fmtTime(s[0].time, { timeStyle: "short" }),
                                       to: fmtTime(s[s.length - 1].time, { timeStyle: "short" }) })
          : t("stats.none")}
      </p>
      <LineChart id="cpu" title={t("stats.cpu")} now={now} max={100} format={pct}
                 series={[{ label: "", cls: "vireo-s1", values: pick("cpu_percent") }]} />
      <LineChart id="memory" title={t("stats.memory")} now={now} max={memMax} format={fmtBytes}
                 series={[{ label: "", cls: "vireo-s1", values: pick("memory_used_bytes") }]} />
      <LineChart id="network" title={t("stats.network")} now={now} format={rate}
                 series={[{ label: t("stats.rx"), cls: "vireo-s1", values: pick("net_rx_bytes_per_s") },
                          { label: t("stats.tx"), cls: "vireo-s2", values: pick("net_tx_bytes_per_s") }]} />
    </div>
  );
}
