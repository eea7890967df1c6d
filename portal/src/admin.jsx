// The Administration Portal: data centers, clusters, hosts, VMs and events
// as tabs of live lists; a create-VM dialog; VM start and stop.
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "./api.js";
import { CreateDialog } from "./dialogs.jsx";
import { ListView } from "./listview.jsx";
import { Alert, Button, Modal, StatusLabel, cx } from "./ui.jsx";

const TABS = [
  ["vms", "Virtual machines"], ["hosts", "Hosts"], ["clusters", "Clusters"],
  ["datacenters", "Data centers"], ["events", "Events"],
];

const name = (it) => <span class="vireo-name">{it.name}</span>;
const desc = (it) => <span class="vireo-desc">{it.description || ""}</span>;
const status = (it) => <StatusLabel status={it.status} />;
const time = (t) => (t ? new Date(t * 1000).toLocaleString() : "");

// Start and stop answer 202 with a job; the list's next read shows the
// status moving. Errors (no host, no permission) are the API's messages.
export function VmActions({ vm, onMessage }) {
  const act = async (action) => {
    let job;
    try {
      job = (await api("POST", `/api/vms/${vm.id}/${action}`)).job;
    } catch (e) {
      onMessage({ variant: "danger", text: e.message });
      return;
    }
    // Follow the job until it ends: its status, progress and, when it
    // failed, the engine's reason.
    const say = (j) => onMessage({
      variant: j.status === "failed" ? "danger" : j.status === "finished" ? "success" : "info",
      text: `${action} of ${vm.name}: job ${j.status}` + (j.status === "running" ? ` (${j.progress || 0}%)` : "")
        + (j.detail ? ` — ${j.detail}` : ""),
    });
    say({ status: "pending" });
    for (let i = 0; i < 600; i++) {
      try {
        const j = await api("GET", `/api/jobs/${job.id}`);
        say(j);
        if (!["pending", "running"].includes(j.status)) return;
      } catch (e) {
        onMessage({ variant: "danger", text: e.message });
        return;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  const [console, setConsole] = useState(false);
  const down = vm.status === "down";
  return (
    <div class="vireo-actions">
      <Button small variant="secondary" disabled={!down} data-action="start"
              onClick={() => act("start")}>Start</Button>
      <Button small variant="secondary" disabled={down} data-action="stop" onClick={() => act("stop")}>Stop</Button>
      <Button small variant="secondary" disabled={down} data-console={vm.name}
              onClick={() => setConsole(true)}>Console</Button>
      {console && <ConsoleModal vm={vm} onClose={() => setConsole(false)} />}
    </div>
  );
}

// The consoles live in /portal/console.js (noVNC is most of it), fetched
// the first time a console opens: the portal's first load stays small.
const CONSOLE_MODULE = "/portal/console.js";

function ConsoleModal({ vm, onClose }) {
  const box = useRef(null);
  const [error, setError] = useState("");
  useEffect(() => {
    let unmount = null;
    let gone = false;
    import(CONSOLE_MODULE).then((m) => { if (!gone) unmount = m.mount(box.current, { vm, api }); })
      .catch((e) => setError("the console cannot be loaded: " + e.message));
    return () => { gone = true; if (unmount) unmount(); };
  }, [vm.id]);
  return (
    <Modal title={`Console of ${vm.name}`} id="console" onClose={onClose} wide
           footer={<Button variant="link" data-console-close onClick={onClose}>Close</Button>}>
      {error && <Alert title={error} />}
      <div ref={box} />
    </Modal>
  );
}

export function AdminPortal() {
  const [tab, setTab] = useState(() => (location.hash || "#vms").slice(1));
  const [creating, setCreating] = useState(null); // a collection
  const [message, setMessage] = useState(null);
  const [refresh, setRefresh] = useState(0);
  useEffect(() => {
    const h = () => setTab((location.hash || "#vms").slice(1));
    addEventListener("hashchange", h);
    return () => removeEventListener("hashchange", h);
  }, []);
  const newButton = (coll, label) => (
    <Button variant="primary" id={`new-${coll}`} onClick={() => setCreating(coll)}>{label}</Button>
  );
  const views = {
    vms: <ListView collection="vms" title="Virtual machines" refreshKey={refresh}
                   hint="name=web* and status=up"
                   columns={[{ title: "Name", render: name }, { title: "Status", render: status },
                             { title: "Host", render: (v) => v.host || "" },
                             { title: "Memory (MiB)", render: (v) => String(v.memory_mib) },
                             { title: "vCPUs", render: (v) => String(v.vcpus) },
                             { title: "Description", render: desc }]}
                   actions={(vm) => <VmActions vm={vm} onMessage={setMessage} />}
                   toolbar={newButton("vms", "New VM")} />,
    hosts: <ListView collection="hosts" title="Hosts" hint="name=host* and status=up" refreshKey={refresh}
                     toolbar={newButton("hosts", "New host")}
                     columns={[{ title: "Name", render: name }, { title: "Address", render: (h) => h.address },
                               { title: "Status", render: status },
                               { title: "Detail", render: (h) => h.status_detail || "" }, { title: "Description", render: desc }]} />,
    clusters: <ListView collection="clusters" title="Clusters" hint="name=prod*" refreshKey={refresh}
                        toolbar={newButton("clusters", "New cluster")}
                        columns={[{ title: "Name", render: name }, { title: "CPU type", render: (c) => c.cpu_type },
                                  { title: "Description", render: desc }]} />,
    datacenters: <ListView collection="datacenters" title="Data centers" hint="name=dc*" refreshKey={refresh}
                           toolbar={newButton("datacenters", "New data center")}
                           columns={[{ title: "Name", render: name },
                                     { title: "Storage", render: (d) => d.storage_status || "" },
                                     { title: "Description", render: desc }]} />,
    events: <ListView collection="events" title="Events" hint="severity=error" max={50}
                      columns={[{ title: "Time", render: (e) => time(e.time) },
                                { title: "Severity", render: (e) => <StatusLabel status={e.severity} /> },
                                { title: "User", render: (e) => e.user || "" },
                                { title: "Message", render: (e) => <span class="vireo-message">{e.message}</span> }]} />,
  };
  const current = views[tab] ? tab : "vms";
  return (
    <div>
      <h1 class="pf-v6-screen-reader">Administration Portal: {TABS.find(([k]) => k === current)[1]}</h1>
      <div class="pf-v6-c-tabs pf-m-page-insets" role="region" aria-label="Administration Portal">
        <ul class="pf-v6-c-tabs__list" role="tablist">
          {TABS.map(([k, label]) => (
            <li class={cx("pf-v6-c-tabs__item", k === current && "pf-m-current")} role="presentation">
              <a class="pf-v6-c-tabs__link" role="tab" href={`#${k}`} id={`tab-${k}`}
                 aria-selected={k === current ? "true" : "false"}>
                <span class="pf-v6-c-tabs__item-text">{label}</span>
              </a>
            </li>
          ))}
        </ul>
      </div>
      {message && (
        <div class="pf-v6-c-page__main-section">
          <Alert variant={message.variant} title={message.text} id="action-message" />
        </div>
      )}
      {views[current]}
      {creating && <CreateDialog collection={creating} onClose={() => setCreating(null)}
                                 onCreated={(o) => { setCreating(null); setRefresh((x) => x + 1);
                                                     setMessage({ variant: "success", text: `${o.name} created` }); }} />}
    </div>
  );
}
