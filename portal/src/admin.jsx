// The Administration Portal: data centers, clusters, hosts, VMs and events
// as tabs of live lists; a create-VM dialog; VM start and stop.
import { useEffect, useState } from "preact/hooks";
import { api, listPath } from "./api.js";
import { ListView } from "./listview.jsx";
import { Alert, Button, Modal, Select, StatusLabel, TextInput, cx } from "./ui.jsx";

const TABS = [
  ["vms", "Virtual machines"], ["hosts", "Hosts"], ["clusters", "Clusters"],
  ["datacenters", "Data centers"], ["events", "Events"],
];

const name = (it) => <span class="vireo-name">{it.name}</span>;
const desc = (it) => <span class="vireo-desc">{it.description || ""}</span>;
const status = (it) => <StatusLabel status={it.status} />;
const time = (t) => (t ? new Date(t * 1000).toLocaleString() : "");

function CreateVm({ onClose, onCreated }) {
  const [f, setF] = useState({ name: "", cluster_id: "", memory_mib: "256", vcpus: "1", description: "" });
  const [clusters, setClusters] = useState([]);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api("GET", listPath("clusters", { max: 1000 })).then((d) => {
      setClusters(d.clusters);
      if (d.clusters.length) setF((x) => ({ ...x, cluster_id: x.cluster_id || d.clusters[0].id }));
    }, (e) => setError(e.message));
  }, []);
  const set = (k) => (v) => setF((x) => ({ ...x, [k]: v }));
  const submit = async (e) => {
    e && e.preventDefault();
    setBusy(true);
    setError("");
    const body = { name: f.name, cluster_id: f.cluster_id, memory_mib: Number(f.memory_mib), vcpus: Number(f.vcpus) };
    if (f.description) body.description = f.description;
    try {
      const vm = await api("POST", "/api/vms", body);
      onCreated(vm);
    } catch (err) {
      setError(err.message); // the API's own words
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal id="create-vm" title="New virtual machine" onClose={onClose} footer={[
      <Button variant="primary" id="create-vm-submit" disabled={busy} onClick={submit}>Create</Button>,
      <Button variant="link" onClick={onClose}>Cancel</Button>,
    ]}>
      <form class="pf-v6-c-form" onSubmit={submit} novalidate>
        {error && <Alert title={error} id="create-vm-error" />}
        <TextInput id="vm-name" label="Name" required value={f.name} onInput={set("name")} />
        <Select id="vm-cluster" label="Cluster" required value={f.cluster_id} onChange={set("cluster_id")}
                options={clusters.map((c) => ({ value: c.id, label: c.name }))} />
        <TextInput id="vm-memory" label="Memory (MiB)" type="number" required value={f.memory_mib} onInput={set("memory_mib")} />
        <TextInput id="vm-vcpus" label="vCPUs" type="number" value={f.vcpus} onInput={set("vcpus")} />
        <TextInput id="vm-description" label="Description" value={f.description} onInput={set("description")} />
        <button type="submit" hidden />
      </form>
    </Modal>
  );
}

// Start and stop answer 202 with a job; the list's next read shows the
// status moving. Errors (no host, no permission) are the API's messages.
export function VmActions({ vm, onMessage }) {
  const act = async (action) => {
    try {
      const r = await api("POST", `/api/vms/${vm.id}/${action}`);
      onMessage({ variant: "info", text: `${action} of ${vm.name}: job ${r.job.id}` });
    } catch (e) {
      onMessage({ variant: "danger", text: e.message });
    }
  };
  const down = vm.status === "down";
  return (
    <div class="vireo-actions">
      <Button small variant="secondary" disabled={!down} data-action="start"
              onClick={() => act("start")}>Start</Button>
      <Button small variant="secondary" disabled={down} data-action="stop" onClick={() => act("stop")}>Stop</Button>
    </div>
  );
}

export function AdminPortal() {
  const [tab, setTab] = useState(() => (location.hash || "#vms").slice(1));
  const [creating, setCreating] = useState(false);
  const [message, setMessage] = useState(null);
  const [refresh, setRefresh] = useState(0);
  useEffect(() => {
    const h = () => setTab((location.hash || "#vms").slice(1));
    addEventListener("hashchange", h);
    return () => removeEventListener("hashchange", h);
  }, []);
  const views = {
    vms: <ListView collection="vms" title="Virtual machines" refreshKey={refresh}
                   hint="name=web* and status=up"
                   columns={[{ title: "Name", render: name }, { title: "Status", render: status },
                             { title: "Host", render: (v) => v.host || "" },
                             { title: "Memory (MiB)", render: (v) => String(v.memory_mib) },
                             { title: "vCPUs", render: (v) => String(v.vcpus) },
                             { title: "Description", render: desc }]}
                   actions={(vm) => <VmActions vm={vm} onMessage={setMessage} />}
                   toolbar={<Button variant="primary" id="new-vm" onClick={() => setCreating(true)}>New VM</Button>} />,
    hosts: <ListView collection="hosts" title="Hosts" hint="name=host* and status=up"
                     columns={[{ title: "Name", render: name }, { title: "Address", render: (h) => h.address },
                               { title: "Status", render: status },
                               { title: "Detail", render: (h) => h.status_detail || "" }, { title: "Description", render: desc }]} />,
    clusters: <ListView collection="clusters" title="Clusters" hint="name=prod*"
                        columns={[{ title: "Name", render: name }, { title: "CPU type", render: (c) => c.cpu_type },
                                  { title: "Description", render: desc }]} />,
    datacenters: <ListView collection="datacenters" title="Data centers" hint="name=dc*"
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
      {creating && <CreateVm onClose={() => setCreating(false)}
                             onCreated={(vm) => { setCreating(false); setRefresh((x) => x + 1);
                                                  setMessage({ variant: "success", text: `VM ${vm.name} created` }); }} />}
    </div>
  );
}
