// The VM Portal's power-user side: a VM made from a template
// (POST /api/templates/ID/createvm, then PUT of the memory and vCPUs the
// user changed from the template's) and a VM's snapshots (list, take,
// restore, remove) and disks (list, add, remove). Only the public API: what the user may do is the API's
// decision, and its refusals are shown in its own words.
import { useEffect, useState } from "preact/hooks";
import { api, listPath } from "./api.js";
import { followAction, jobMessage } from "./admin.jsx";
import { fmtBytes, fmtNumber, fmtTime, t, tValue } from "./i18n.js";
import { followJob } from "./jobs.js";
import { Alert, Button, Modal, Progress, Select, StatusLabel, TextInput, usePoll } from "./ui.jsx";

const all = (collection, search) => api("GET", listPath(collection, { max: 1000, search }))
  .then((d) => d[collection]);

// The clusters where the user may make VMs: the API's own answer
// (GET /api/users/me, may.create_vm: a role with create_vm on the cluster
// or above it, theirs or a group's), so the button is offered exactly.
export const createVmClusters = () => api("GET", "/api/users/me").then((me) => me.may.create_vm);

// The text of key with the VM's name in it marked as the API's data.
const named = (key, name) => t(key, { name: "\u0000" }).split("\u0000")
  .flatMap((part, i) => (i ? [<span class="vireo-name vireo-data">{name}</span>, part] : [part]));

const job = (r) => (r && r.job ? r.job.id : r && r.job_id);

export function NewVmDialog({ clusters, onClose, onMessage, onCreated }) {
  const [templates, setTemplates] = useState([]);
  const [v, setV] = useState({ name: "", template: "", cluster: "", memory: "", vcpus: "", description: "" });
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const set = (k) => (x) => setV((o) => ({ ...o, [k]: x }));
  // A template chosen: its cluster, memory and vCPUs are the defaults.
  const pick = (id, list = templates) => {
    const tm = list.find((x) => x.id === id);
    if (tm) setV((o) => ({ ...o, template: id, cluster: tm.cluster_id || o.cluster,
                           memory: String(tm.memory_mib ?? ""), vcpus: String(tm.vcpus ?? "") }));
  };
  useEffect(() => {
    all("templates").then((tl) => {
      const usable = tl.filter((x) => x.status === "ok");
      setTemplates(usable);
      if (clusters.length) setV((o) => ({ ...o, cluster: clusters[0].id }));
      if (usable.length) pick(usable[0].id, usable);
    }, (e) => setError(e.message));
  }, []);
  const submit = async (e) => {
    e && e.preventDefault();
    setBusy(true);
    setError("");
    const body = { name: v.name };
    if (v.cluster) body.cluster_id = v.cluster; // else the template's
    if (v.description) body.description = v.description;
    let r;
    try {
      r = await api("POST", `/api/templates/${v.template || "none"}/createvm`, body);
    } catch (err) {
      setError(err.message); // the API's own words
      setBusy(false);
      return;
    }
    onClose();
    const label = t("newvm.action", { name: v.name });
    const j = await followAction(job(r), label, onMessage);
    onCreated();
    const tm = templates.find((x) => x.id === v.template) || {};
    const change = {};
    if (v.memory !== String(tm.memory_mib)) change.memory_mib = Number(v.memory);
    if (v.vcpus !== String(tm.vcpus)) change.vcpus = Number(v.vcpus);
    if (!j || j.status !== "finished" || !Object.keys(change).length) return;
    try {
      await api("PUT", `/api/vms/${j.object_id}`, change);
      onMessage({ variant: "success", text: t("newvm.sized", { name: v.name }) });
      onCreated();
    } catch (err) {
      onMessage({ variant: "danger", text: err.message });
    }
  };
  const opts = (l) => l.map((x) => ({ value: x.id, label: x.name, data: true }));
  return (
    <Modal id="new-vm" title={t("newvm.title")} onClose={onClose} footer={[
      <Button variant="primary" id="new-vm-submit" disabled={busy} onClick={submit}>{t("button.create")}</Button>,
      <Button variant="link" onClick={onClose}>{t("button.cancel")}</Button>,
    ]}>
      <form class="pf-v6-c-form" onSubmit={submit} novalidate>
        {error && <Alert title={error} id="new-vm-error" />}
        <TextInput id="newvm-name" label={t("field.name")} required value={v.name} onInput={set("name")} />
        <Select id="newvm-template" label={t("field.template")} required value={v.template}
                onChange={(id) => pick(id)} options={opts(templates)} />
        <Select id="newvm-cluster" label={t("field.cluster")} value={v.cluster} onChange={set("cluster")}
                options={opts(clusters)} />
        <TextInput id="newvm-memory" label={t("field.memory_mib")} type="number" value={v.memory} onInput={set("memory")} />
        <TextInput id="newvm-vcpus" label={t("field.vcpus")} type="number" value={v.vcpus} onInput={set("vcpus")} />
        <TextInput id="newvm-description" label={t("field.description")} value={v.description}
                   onInput={set("description")} />
        <button type="submit" hidden />
      </form>
    </Modal>
  );
}

// A dialog's requests that answer with a job (or not): the API's refusal
// or the job followed to its end as the dialog's message; the list is
// re-read after each. Returns [message, setMessage, run(method, path,
// body, label) → the job's end state, or the answer when no job].
function useJobs(reread) {
  const [msg, setMsg] = useState(null);
  const run = async (method, path, body, label) => {
    let r;
    try {
      r = await api(method, path, body);
    } catch (e) {
      setMsg({ variant: "danger", text: e.message });
      return null;
    }
    reread();
    if (!job(r)) {
      setMsg({ variant: "success", text: t("job.done", { what: label }) });
      return r || {};
    }
    const j = await followJob(job(r), (x) => setMsg(jobMessage(label, x)), (e) => setMsg({ variant: "danger", text: e.message }));
    reread();
    return j;
  };
  return [msg, setMsg, run];
}

const td = (x) => <td class="pf-v6-c-table__td">{x}</td>;

export function Table({ list, label, heads, children }) {
  return (
    <table class="pf-v6-c-table pf-m-compact" data-list={list} aria-label={label}>
      <thead class="pf-v6-c-table__thead"><tr class="pf-v6-c-table__tr">
        {heads.map((k) => <th class="pf-v6-c-table__th" scope="col">{t(k)}</th>)}
      </tr></thead>
      <tbody class="pf-v6-c-table__tbody">{children}</tbody>
    </table>
  );
}

function JobAlert({ id, msg }) {
  if (!msg) return null;
  return (
    <Alert variant={msg.variant} title={msg.text} id={id}>
      {msg.job && <Progress value={msg.job.progress} status={msg.job.status} label={tValue("jobstatus", msg.job.status)} />}
    </Alert>
  );
}

// A VM's list of things in a dialog: the message of the last request or
// job, a form whose button adds one, and the table (or the words for none).
function ManageDialog({ id, title, onClose, msgId, msg, onSubmit, submitId, submitLabel, fields, items, none, label,
                        heads, row }) {
  return (
    <Modal id={id} wide title={title} onClose={onClose} footer={[
      <Button variant="link" {...{ [`data-${id}-close`]: true }} onClick={onClose}>{t("button.close")}</Button>,
    ]}>
      <JobAlert id={msgId} msg={msg} />
      <form class="pf-v6-c-form" onSubmit={onSubmit} novalidate>
        {fields}
        <div class="pf-v6-c-form__group pf-m-action">
          <Button variant="primary" id={submitId} onClick={onSubmit}>{submitLabel}</Button>
        </div>
      </form>
      {items && !items.length && <p class="vireo-empty">{none}</p>}
      {items && items.length > 0 && <Table list={id} label={label} heads={heads}>{items.map(row)}</Table>}
    </Modal>
  );
}

// A VM's snapshots: the list (re-read every 2 s), a description and
// "Take snapshot", and per snapshot Restore (preview and commit at once,
// on a stopped VM) and Remove; each a job followed in the dialog.
export function SnapshotsDialog({ vm, onClose }) {
  const [snaps, setSnaps] = useState(null);
  const [desc, setDesc] = useState("");
  const reread = usePoll(async (current) => {
    try {
      const d = await api("GET", `/api/vms/${vm.id}/snapshots?max=100`);
      if (current()) setSnaps(d.snapshots);
    } catch (e) {
      if (current()) setMsg({ variant: "danger", text: e.message });
    }
  }, [vm.id]);
  const [msg, setMsg, run] = useJobs(reread);
  const take = (e) => {
    e && e.preventDefault();
    run("POST", `/api/vms/${vm.id}/snapshots`, { description: desc }, t("snapshot.take", { name: vm.name }));
  };
  const row = (s) => (
    <tr class="pf-v6-c-table__tr" key={s.id} data-id={s.id} data-description={s.description || ""}>
      {td(<span class="vireo-desc vireo-data">{s.description || ""}</span>)}
      {td(fmtTime(s.created_at))}
      {td(tValue("snaptype", s.type))}
      {td(<StatusLabel status={s.status} />)}
      {td(<div class="vireo-actions">
        <Button small data-action="restore" disabled={s.type !== "regular"}
                onClick={() => run("POST", `/api/snapshots/${s.id}/restore`, {},
                                   t("snapshot.restore", { name: vm.name }))}>{t("button.restore")}</Button>
        <Button small data-action="remove" disabled={s.type !== "regular"}
                onClick={() => run("DELETE", `/api/snapshots/${s.id}`, undefined,
                                   t("snapshot.remove", { name: vm.name }))}>{t("button.remove")}</Button>
      </div>)}
    </tr>
  );
  return (
    <ManageDialog id="snapshots" title={named("snapshot.title", vm.name)} onClose={onClose}
                  msgId="snapshot-message" msg={msg} onSubmit={take} submitId="snapshot-take"
                  submitLabel={t("button.take-snapshot")} items={snaps} none={t("snapshot.none")}
                  label={t("button.snapshots")}
                  heads={["field.description", "snapshot.created", "snapshot.type", "snapshot.status", "list.actions"]}
                  fields={<TextInput id="snapshot-description" label={t("field.description")} value={desc}
                                     onInput={setDesc} />}
                  row={row} />
  );
}

const GIB = 1024 * 1024 * 1024;

// A VM's disks: each device (its disk's alias and size when the user may
// read the disk), "Add disk" (POST /api/disks on a data domain the user
// sees, its job followed, then POST /api/vms/ID/disks) and Remove (off the
// VM, DELETE /api/vms/ID/disks/TARGET, then the disk itself,
// DELETE /api/disks/ID).
export function DisksDialog({ vm, onClose }) {
  const [disks, setDisks] = useState(null);
  const [domains, setDomains] = useState([]);
  const [v, setV] = useState({ alias: "", domain: "", size: "1" });
  const reread = usePoll(async (current) => {
    try {
      const d = await api("GET", `/api/vms/${vm.id}/disks?max=100`);
      const full = await Promise.all(d.disks.map((x) => (x.disk ? api("GET", `/api/disks/${x.disk}`)
        .catch(() => null) : null)));
      if (current()) setDisks(d.disks.map((x, i) => ({ ...x, info: full[i] })));
    } catch (e) {
      if (current()) setMsg({ variant: "danger", text: e.message });
    }
  }, [vm.id]);
  const [msg, setMsg, run] = useJobs(reread);
  useEffect(() => {
    // The data domains where the user may make a disk (GET /api/users/me, may.create_disk).
    Promise.all([all("storagedomains"), api("GET", "/api/users/me")]).then(([l, me]) => {
      const may = new Set(me.may.create_disk.map((x) => x.id));
      const data = l.filter((x) => x.type === "data" && may.has(x.id));
      setDomains(data);
      if (data.length) setV((o) => ({ ...o, domain: data[0].id }));
    }, (e) => setMsg({ variant: "danger", text: e.message }));
  }, []);
  const set = (k) => (x) => setV((o) => ({ ...o, [k]: x }));
  const add = async (e) => {
    e && e.preventDefault();
    const j = await run("POST", "/api/disks", { alias: v.alias, storage_domain: v.domain,
      provisioned_size: Math.round(Number(v.size) * GIB), format: "cow", sparse: true },
                        t("disk.add", { alias: v.alias, name: vm.name }));
    if (j && j.status === "finished")
      await run("POST", `/api/vms/${vm.id}/disks`, { disk: j.object_id }, t("disk.add", { alias: v.alias, name: vm.name }));
  };
  const remove = async (d) => {
    const label = t("disk.remove", { alias: d.info ? d.info.alias : d.id, name: vm.name });
    const j = await run("DELETE", `/api/vms/${vm.id}/disks/${d.id}`, undefined, label);
    if (j && (j.status === undefined || j.status === "finished") && d.disk)
      await run("DELETE", `/api/disks/${d.disk}`, undefined, label);
  };
  const row = (d) => (
    <tr class="pf-v6-c-table__tr" key={d.id} data-id={d.id} data-alias={d.info ? d.info.alias : ""}>
      {td(<span class="vireo-data">{d.id}</span>)}
      {td(<span class="vireo-name vireo-data">{d.info ? d.info.alias : d.path || ""}</span>)}
      {td(d.info ? fmtBytes(d.info.provisioned_size) : "")}
      {td(d.info ? <StatusLabel status={d.info.status} /> : "")}
      {td(<Button small data-action="remove" onClick={() => remove(d)}>{t("button.remove")}</Button>)}
    </tr>
  );
  return (
    <ManageDialog id="disks" title={named("disk.title", vm.name)} onClose={onClose} msgId="disk-message" msg={msg}
                  onSubmit={add} submitId="disk-add" submitLabel={t("button.add-disk")} items={disks}
                  none={t("disk.none")} label={t("button.disks")}
                  heads={["disk.target", "col.alias", "col.size", "col.status", "list.actions"]}
                  fields={[
                    <TextInput id="disk-alias" label={t("col.alias")} required value={v.alias} onInput={set("alias")} />,
                    <Select id="disk-domain" label={t("col.storage")} required value={v.domain} onChange={set("domain")}
                            options={domains.map((x) => ({ value: x.id, label: x.name, data: true }))} />,
                    <TextInput id="disk-size" label={t("disk.size-gib")} type="number" required value={v.size}
                               onInput={set("size")} />]}
                  row={row} />
  );
}

// The quotas the user sees (GET /api/quotas: those they may consume, or
// under a data center they see), each resource's use and limit; a quota
// of a data center the user sees with quota_mode disabled is left out
// (nothing is counted against it). Re-read when gen changes (a VM made).
export function Quotas({ gen }) {
  const [quotas, setQuotas] = useState([]);
  usePoll(async (current) => {
    try {
      const l = await all("quotas");
      const modes = await Promise.all(l.map((q) => api("GET", `/api/datacenters/${q.datacenter_id}`)
        .then((d) => d.quota_mode, () => "")));
      if (current()) setQuotas(l.filter((q, i) => modes[i] !== "disabled"));
    } catch (e) {
      if (current()) setQuotas([]);
    }
  }, [gen], 10000);
  if (!quotas.length) return null;
  const use = (used, limit) => t(limit < 0 ? "quota.use-unlimited" : "quota.use",
    { used: fmtNumber(used || 0, { maximumFractionDigits: 2 }), limit: fmtNumber(limit) });
  return (
    <section class="vireo-quotas" aria-label={t("vmportal.quotas")} data-list="my-quotas">
      <h2 class="pf-v6-c-title pf-m-lg">{t("vmportal.quotas")}</h2>
      <Table label={t("vmportal.quotas")} heads={["col.name", "col.vcpus", "col.memory", "quota.storage-gib"]}>
        {quotas.map((q) => (
          <tr class="pf-v6-c-table__tr" key={q.id} data-name={q.name}>
            {td(<span class="vireo-name vireo-data">{q.name}</span>)}
            {td(<span data-use="vcpus">{use((q.usage || {}).vcpus, q.vcpus)}</span>)}
            {td(<span data-use="memory_mib">{use((q.usage || {}).memory_mib, q.memory_mib)}</span>)}
            {td(<span data-use="storage_gib">{use((q.usage || {}).storage_gib, q.storage_gib)}</span>)}
          </tr>
        ))}
      </Table>
    </section>
  );
}
