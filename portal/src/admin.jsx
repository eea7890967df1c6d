// The Administration Portal: the tree's collections as tabs of live
// lists; create, edit and remove dialogs; VM and host actions following
// their jobs with progress bars; statistics charts of hosts and VMs.
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "./api.js";
import { Charts } from "./charts.jsx";
import { ActionDialog, CreateDialog, EditDialog, RemoveDialog } from "./dialogs.jsx";
import { fmtBytes, fmtNumber, fmtTime, t, tValue } from "./i18n.js";
import { GuestInfo } from "./guest.jsx";
import { followJob } from "./jobs.js";
import { ListView } from "./listview.jsx";
import { groupsTab } from "./groups.jsx";
import { peopleHooks } from "./permissions.jsx";
import { rolesTab } from "./roles.jsx";
import { Alert, Button, Modal, Progress, Select, StatusLabel, cx } from "./ui.jsx";

const TABS = ["vms", "hosts", "clusters", "datacenters", "storagedomains", "networks", "templates", "vmpools",
  "disks", "users", "groups", "roles", "jobs", "events"];

const name = (it) => <span class="vireo-name vireo-data">{it.name || it.alias}</span>;
const desc = (it) => <span class="vireo-desc vireo-data">{it.description || ""}</span>;
const status = (it) => <StatusLabel status={it.status} />;
// Words of the portal (not API data) in cells: vnodes, so the list does
// not mark them as data.
const word = (text) => <span>{text}</span>;
const yesNo = (b) => word(t(b ? "value.yes" : "value.no"));
const col = (title, render) => ({ title: t(title), render });

// One message line of the page: an action's outcome, or its job while it
// runs (with a progress bar).
export function ActionMessage({ message }) {
  if (!message) return null;
  return (
    <Alert variant={message.variant} title={message.text} id="action-message">
      {message.job && <Progress id="action-progress" value={message.job.progress} status={message.job.status}
                                label={tValue("jobstatus", message.job.status)} />}
    </Alert>
  );
}

// The message of a job's state: what it does, its status, the engine's
// detail, and the job itself (its progress bar).
export const jobMessage = (label, j) => ({
  variant: j.status === "failed" ? "danger" : j.status === "finished" ? "success" : "info",
  text: t("job.line", { what: label, status: tValue("jobstatus", j.status) }) + (j.detail ? ` — ${j.detail}` : ""),
  job: j,
});

// Follow an accepted job to its end, each state a message.
export const followAction = (jobId, label, onMessage) =>
  followJob(jobId, (j) => onMessage(jobMessage(label, j)), (e) => onMessage({ variant: "danger", text: e.message }));

// Run an action that answers 202 with a job and follow the job to its end.
export async function runAction(path, body, label, onMessage) {
  let job;
  try {
    job = (await api("POST", path, body)).job;
  } catch (e) {
    onMessage({ variant: "danger", text: e.message });
    return;
  }
  await followAction(job.id, label, onMessage);
}

// Start, stop and the console; in the Administration Portal also migrate,
// statistics, edit and remove.
export function VmActions({ vm, onMessage, onEdit, onRemove, admin, children }) {
  const act = (action) => runAction(`/api/vms/${vm.id}/${action}`, undefined,
    t(`action.${action}`, { name: vm.name }), onMessage);
  const [dialog, setDialog] = useState(null);
  const down = vm.status === "down";
  return (
    <div class="vireo-actions">
      <Button small variant="secondary" disabled={!down} data-action="start" onClick={() => act("start")}>{t("button.start")}</Button>
      <Button small variant="secondary" disabled={down} data-action="stop" onClick={() => act("stop")}>{t("button.stop")}</Button>
      <Button small variant="secondary" disabled={down} data-console={vm.name}
              onClick={() => setDialog("console")}>{t("button.console")}</Button>
      {admin && [
        <Button small variant="secondary" disabled={vm.status !== "up"} data-action="migrate"
                onClick={() => setDialog("migrate")}>{t("button.migrate")}</Button>,
        <Button small variant="secondary" data-action="stats" onClick={() => setDialog("stats")}>{t("button.stats")}</Button>,
        <Button small variant="secondary" data-action="edit" onClick={() => onEdit(vm)}>{t("button.edit")}</Button>,
        <Button small variant="secondary" data-action="remove" onClick={() => onRemove(vm)}>{t("button.remove")}</Button>,
      ]}
      {children /* the VM Portal's snapshots and disks */}
      {dialog === "console" && <ConsoleModal vm={vm} onClose={() => setDialog(null)} />}
      {dialog === "migrate" && <MigrateDialog vm={vm} onClose={() => setDialog(null)} onMessage={onMessage} />}
      {dialog === "stats" && <StatsModal collection="vms" item={vm} onClose={() => setDialog(null)} />}
    </div>
  );
}

function MigrateDialog({ vm, onClose, onMessage }) {
  const [hosts, setHosts] = useState([]);
  const [host, setHost] = useState("");
  useEffect(() => {
    api("GET", `/api/clusters/${vm.cluster_id}/hosts?max=1000`).then(
      (d) => setHosts(d.hosts.filter((h) => h.id !== vm.host_id)), () => setHosts([]));
  }, []);
  const go = () => {
    onClose();
    runAction(`/api/vms/${vm.id}/migrate`, host ? { host } : {}, t("action.migrate", { name: vm.name }), onMessage);
  };
  return (
    <Modal id="migrate-vm" title={t("migrate.title")} onClose={onClose} footer={[
      <Button variant="primary" id="migrate-vm-submit" onClick={go}>{t("button.migrate")}</Button>,
      <Button variant="link" onClick={onClose}>{t("button.cancel")}</Button>,
    ]}>
      <p>{t("migrate.which")} <b class="vireo-name vireo-data">{vm.name}</b></p>
      <Select id="migrate-host" label={t("field.host")} value={host} onChange={setHost}
              options={[{ value: "", label: t("migrate.auto") }].concat(hosts.map((h) => ({ value: h.id, label: h.name, data: true })))} />
    </Modal>
  );
}

// Maintenance (a job: the VMs leave), activate (at once), statistics,
// edit and remove.
function HostActions({ host, onMessage, onEdit, onRemove }) {
  const [stats, setStats] = useState(false);
  const maint = ["maintenance", "preparingformaintenance"].includes(host.status);
  const activate = async () => {
    try {
      await api("POST", `/api/hosts/${host.id}/activate`);
      onMessage({ variant: "success", text: t("action.activated", { name: host.name }) });
    } catch (e) {
      onMessage({ variant: "danger", text: e.message });
    }
  };
  return (
    <div class="vireo-actions">
      {maint
        ? <Button small variant="secondary" data-action="activate" onClick={activate}>{t("button.activate")}</Button>
        : <Button small variant="secondary" data-action="maintenance"
                  onClick={() => runAction(`/api/hosts/${host.id}/deactivate`, undefined,
                    t("action.maintenance", { name: host.name }), onMessage)}>{t("button.maintenance")}</Button>}
      <Button small variant="secondary" data-action="stats" onClick={() => setStats(true)}>{t("button.stats")}</Button>
      <Button small variant="secondary" data-action="edit" onClick={() => onEdit(host)}>{t("button.edit")}</Button>
      <Button small variant="secondary" data-action="remove" onClick={() => onRemove(host)}>{t("button.remove")}</Button>
      {stats && <StatsModal collection="hosts" item={host} onClose={() => setStats(false)} />}
    </div>
  );
}

function EditRemove({ item, onEdit, onRemove }) {
  return (
    <div class="vireo-actions">
      <Button small variant="secondary" data-action="edit" onClick={() => onEdit(item)}>{t("button.edit")}</Button>
      <Button small variant="secondary" data-action="remove" onClick={() => onRemove(item)}>{t("button.remove")}</Button>
    </div>
  );
}

// A storage domain's way through its status machine (docs/rest-api.md
// "Storage domains and disks"): attach (a data center chosen, a job),
// maintenance (the master's role may move first: a job), activate,
// detach (a job); edit and remove. What the status does not allow is not
// offered; what the API still refuses shows its reason.
function SdActions({ sd, onMessage, onEdit, onRemove }) {
  const [attach, setAttach] = useState(false);
  const say = (e) => onMessage({ variant: "danger", text: e.message });
  const post = async (action, label) => {
    try {
      const r = await api("POST", `/api/storagedomains/${sd.id}/${action}`);
      if (r && r.job) followAction(r.job.id, label, onMessage);
      else onMessage({ variant: "success", text: label });
    } catch (e) {
      say(e);
    }
  };
  const s = sd.status;
  return (
    <div class="vireo-actions">
      {s === "unattached" && <Button small variant="secondary" data-action="attach" onClick={() => setAttach(true)}>
        {t("button.attach")}</Button>}
      {s === "active" && <Button small variant="secondary" data-action="maintenance"
        onClick={() => post("maintenance", t("action.maintenance", { name: sd.name }))}>{t("button.maintenance")}</Button>}
      {["maintenance", "inactive"].includes(s) && [
        <Button small variant="secondary" data-action="activate"
                onClick={() => post("activate", t("action.activated", { name: sd.name }))}>{t("button.activate")}</Button>,
        <Button small variant="secondary" data-action="detach"
                onClick={() => runAction(`/api/storagedomains/${sd.id}/detach`, undefined,
                  t("action.detach", { name: sd.name }), onMessage)}>{t("button.detach")}</Button>]}
      <Button small variant="secondary" data-action="edit" onClick={() => onEdit(sd)}>{t("button.edit")}</Button>
      <Button small variant="secondary" data-action="remove" onClick={() => onRemove(sd)}>{t("button.remove")}</Button>
      {attach && <ActionDialog collection="storagedomains" action="attach" item={sd} onClose={() => setAttach(false)}
        onStarted={(r) => { setAttach(false); followAction(r.job.id, t("action.attach", { name: sd.name }), onMessage); }} />}
    </div>
  );
}

function StatsModal({ collection, item, onClose }) {
  return (
    <Modal id="stats" title={t(`stats.title.${collection}`)} onClose={onClose} wide
           footer={<Button variant="link" data-stats-close onClick={onClose}>{t("button.close")}</Button>}>
      <p><b class="vireo-name vireo-data">{item.name}</b></p>
      <Charts collection={collection} id={item.id} />
    </Modal>
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
    import(CONSOLE_MODULE).then((m) => { if (!gone) unmount = m.mount(box.current, { vm, api, t }); })
      .catch((e) => setError(t("console.cannot-load", { reason: e.message })));
    return () => { gone = true; if (unmount) unmount(); };
  }, [vm.id]);
  return (
    <Modal title={t("console.title")} id="console" onClose={onClose} wide
           footer={<Button variant="link" data-console-close onClick={onClose}>{t("button.close")}</Button>}>
      <p><b class="vireo-name vireo-data">{vm.name}</b></p>
      {error && <Alert title={error} />}
      <div ref={box} />
    </Modal>
  );
}

function JobCancel({ job, onMessage }) {
  if (!["pending", "running"].includes(job.status)) return null;
  const cancel = async () => {
    try {
      await api("POST", `/api/jobs/${job.id}/cancel`);
    } catch (e) {
      onMessage({ variant: "danger", text: e.message });
    }
  };
  return <Button small variant="secondary" data-action="cancel" onClick={cancel}>{t("button.cancel-job")}</Button>;
}

export function AdminPortal() {
  const [tab, setTab] = useState(() => (location.hash || "#vms").slice(1));
  const [dialog, setDialog] = useState(null); // {kind: create|edit|remove, collection, item}
  const [message, setMessage] = useState(null);
  const [refresh, setRefresh] = useState(0);
  useEffect(() => {
    const h = () => setTab((location.hash || "#vms").slice(1));
    addEventListener("hashchange", h);
    return () => removeEventListener("hashchange", h);
  }, []);
  const newButton = (coll) => (
    <Button variant="primary" id={`new-${coll}`} onClick={() => setDialog({ kind: "create", collection: coll })}>
      {t(`new.${coll}`)}</Button>
  );
  const edit = (coll) => (item) => setDialog({ kind: "edit", collection: coll, item });
  const remove = (coll) => (item) => setDialog({ kind: "remove", collection: coll, item });
  const done = (text) => { setDialog(null); setRefresh((x) => x + 1); setMessage({ variant: "success", text }); };
  // A create or removal answered with a job (storage domains, disks, templates): followed to its end.
  const doneOrJob = (reply, text, label) => {
    if (!reply || !reply.job) return done(text);
    setDialog(null);
    setRefresh((x) => x + 1);
    followAction(reply.job.id, label, setMessage);
  };
  const er = (coll) => (it) => <EditRemove item={it} onEdit={edit(coll)} onRemove={remove(coll)} />;
  const list = (coll, props) => <ListView key={coll} collection={coll} title={t(`tab.${coll}`)} refreshKey={refresh} {...props}
                                            {...peopleHooks(coll, props)} />;
  const views = {
    vms: () => list("vms", {
      hint: "name=web* and status=up", toolbar: newButton("vms"),
      columns: [col("col.name", name), col("col.status", status), col("col.host", (v) => v.host || ""),
        col("col.memory", (v) => fmtNumber(v.memory_mib)), col("col.vcpus", (v) => fmtNumber(v.vcpus)),
        col("col.guest", (v) => <GuestInfo vm={v} />), col("col.description", desc)],
      actions: (vm) => <VmActions vm={vm} admin onMessage={setMessage} onEdit={edit("vms")} onRemove={remove("vms")} /> }),
    hosts: () => list("hosts", {
      hint: "name=host* and status=up", toolbar: newButton("hosts"),
      columns: [col("col.name", name), col("col.address", (h) => h.address), col("col.status", status),
        col("col.detail", (h) => h.status_detail || ""), col("col.description", desc)],
      actions: (h) => <HostActions host={h} onMessage={setMessage} onEdit={edit("hosts")} onRemove={remove("hosts")} /> }),
    clusters: () => list("clusters", {
      hint: "name=prod*", toolbar: newButton("clusters"), actions: er("clusters"),
      columns: [col("col.name", name), col("col.cpu_type", (c) => c.cpu_type), col("col.description", desc)] }),
    datacenters: () => list("datacenters", {
      hint: "name=dc*", toolbar: newButton("datacenters"), actions: er("datacenters"),
      columns: [col("col.name", name), col("col.storage", (d) => (d.storage_status ? word(tValue("status", d.storage_status)) : "")),
        col("col.description", desc)] }),
    storagedomains: () => list("storagedomains", {
      hint: "name=data* and status=active", toolbar: newButton("storagedomains"),
      actions: (sd) => <SdActions sd={sd} onMessage={setMessage} onEdit={edit("storagedomains")}
                                  onRemove={remove("storagedomains")} />,
      columns: [col("col.name", name), col("col.status", status), col("col.type", (s) => word(tValue("sdtype", s.type))),
        col("col.storage_type", (s) => s.storage_type), col("col.free", (s) => fmtBytes(s.available_bytes)),
        col("col.size", (s) => fmtBytes(s.total_bytes)), col("col.description", desc)] }),
    networks: () => list("networks", {
      hint: "name=vireomgmt", toolbar: newButton("networks"), actions: er("networks"),
      columns: [col("col.name", name), col("col.vlan", (n) => (n.vlan ? fmtNumber(n.vlan) : word(t("value.untagged")))),
        col("col.mtu", (n) => fmtNumber(n.mtu)), col("col.vm_network", (n) => yesNo(n.vm)),
        col("col.description", desc)] }),
    templates: () => list("templates", {
      hint: "name=rhel*", toolbar: newButton("templates"), actions: er("templates"),
      columns: [col("col.name", name), col("col.status", status), col("col.version", (x) => fmtNumber(x.version_number || 1)),
        col("col.memory", (x) => (x.memory_mib ? fmtNumber(x.memory_mib) : "")),
        col("col.vcpus", (x) => (x.vcpus ? fmtNumber(x.vcpus) : "")), col("col.description", desc)] }),
    vmpools: () => list("vmpools", {
      hint: "name=desk*", toolbar: newButton("vmpools"), actions: er("vmpools"),
      columns: [col("col.name", name), col("col.pool_size", (p) => fmtNumber(p.size)),
        col("col.vm_count", (p) => fmtNumber(p.vm_count || 0)), col("col.allocated", (p) => fmtNumber(p.allocated || 0)),
        col("col.description", desc)] }),
    disks: () => list("disks", {
      hint: "alias=data*", toolbar: newButton("disks"), actions: er("disks"),
      columns: [col("col.alias", name), col("col.status", status), col("col.size", (d) => fmtBytes(d.provisioned_size)),
        col("col.actual_size", (d) => fmtBytes(d.actual_size)), col("col.description", desc)] }),
    users: () => list("users", {
      hint: "name=bob*",
      columns: [col("col.name", name), col("col.domain", (u) => u.domain || ""), col("col.enabled", (u) => yesNo(u.enabled)),
        col("col.description", desc)] }),
    groups: () => list("groups", groupsTab(col, done)),
    roles: () => list("roles", rolesTab(col, done)),
    jobs: () => list("jobs", {
      hint: "status=running", poll: 2000,
      columns: [col("col.time", (j) => word(fmtTime(j.updated_at || j.created_at))),
        col("col.job", (j) => <span class="vireo-data">{j.description || j.action}</span>),
        col("col.status", (j) => <StatusLabel status={j.status} />),
        col("col.progress", (j) => <Progress value={j.status === "finished" ? 100 : j.progress} status={j.status}
                                             label={tValue("jobstatus", j.status)} />),
        col("col.user", (j) => j.user || ""), col("col.detail", (j) => j.detail || "")],
      actions: (j) => <JobCancel job={j} onMessage={setMessage} /> }),
    events: () => list("events", {
      hint: "severity=error", max: 50,
      columns: [col("col.time", (e) => word(fmtTime(e.time))), col("col.severity", (e) => <StatusLabel status={e.severity} />),
        col("col.user", (e) => e.user || ""),
        col("col.message", (e) => <span class="vireo-message vireo-data">{e.message}</span>)] }),
  };
  const current = views[tab] ? tab : "vms";
  return (
    <div>
      <h1 class="pf-v6-screen-reader">{t("admin.heading", { tab: t(`tab.${current}`) })}</h1>
      <div class="pf-v6-c-tabs pf-m-page-insets vireo-tabs" role="region" aria-label={t("admin.title")}>
        <ul class="pf-v6-c-tabs__list" role="tablist">
          {TABS.map((k) => (
            <li class={cx("pf-v6-c-tabs__item", k === current && "pf-m-current")} role="presentation">
              <a class="pf-v6-c-tabs__link" role="tab" href={`#${k}`} id={`tab-${k}`}
                 aria-selected={k === current ? "true" : "false"}>
                <span class="pf-v6-c-tabs__item-text">{t(`tab.${k}`)}</span>
              </a>
            </li>
          ))}
        </ul>
      </div>
      {message && <div class="pf-v6-c-page__main-section"><ActionMessage message={message} /></div>}
      {views[current]()}
      {dialog && dialog.kind === "create" && <CreateDialog collection={dialog.collection} onClose={() => setDialog(null)}
        onCreated={(o, body) => doneOrJob(o, t("message.created", { name: o.name || o.alias }),
          t("action.create", { name: body.name || body.alias }))} />}
      {dialog && dialog.kind === "edit" && <EditDialog collection={dialog.collection} item={dialog.item}
        onClose={() => setDialog(null)} onSaved={(o) => done(t("message.saved", { name: (o && o.name) || dialog.item.name }))} />}
      {dialog && dialog.kind === "remove" && <RemoveDialog collection={dialog.collection} item={dialog.item}
        onClose={() => setDialog(null)} onRemoved={(o, reply) => doneOrJob(reply, t("message.removed", { name: o.name || o.alias }),
          t("action.remove", { name: o.name || o.alias }))} />}
    </div>
  );
}
