// Create, edit and remove dialogs, one generic form per collection: the
// fields a POST or PUT takes, sent as they are; a refusal keeps the dialog
// open with the API's own message, so the portal needs no validation
// rules of its own.
import { useEffect, useState } from "preact/hooks";
import { api, listPath } from "./api.js";
import { t } from "./i18n.js";
import { Alert, Button, Modal, Select, TextInput } from "./ui.jsx";

// field: {name, label (a catalog key), type: "text"|"number"|"ref", ref: collection, required, dflt}
const F = {
  name: { name: "name", label: "field.name", required: true },
  description: { name: "description", label: "field.description" },
  cpu_type: { name: "cpu_type", label: "field.cpu_type", dflt: "qemu64" },
  memory_mib: { name: "memory_mib", label: "field.memory_mib", type: "number", dflt: "256", required: true },
  vcpus: { name: "vcpus", label: "field.vcpus", type: "number", dflt: "1" },
};
export const CREATE = {
  datacenters: { title: "create.datacenters", fields: [F.name, F.description] },
  clusters: { title: "create.clusters", fields: [
    F.name, { name: "datacenter_id", label: "field.datacenter", type: "ref", ref: "datacenters", required: true },
    F.cpu_type, F.description] },
  hosts: { title: "create.hosts", fields: [
    F.name, { name: "address", label: "field.address", required: true },
    { name: "port", label: "field.port", type: "number", dflt: "54321" },
    { name: "cluster_id", label: "field.cluster", type: "ref", ref: "clusters", required: true }, F.description] },
  vms: { title: "create.vms", fields: [
    F.name, { name: "cluster_id", label: "field.cluster", type: "ref", ref: "clusters", required: true },
    F.memory_mib, F.vcpus, F.description] },
};
// What PUT changes of each main object (docs/rest-api.md "Collections").
export const EDIT = {
  datacenters: { title: "edit.datacenters", fields: [F.name, F.description] },
  clusters: { title: "edit.clusters", fields: [F.name, F.cpu_type, F.description] },
  hosts: { title: "edit.hosts", fields: [F.name, F.description] },
  vms: { title: "edit.vms", fields: [F.name, F.memory_mib, F.vcpus, F.description] },
};

export const KIND_ID = {
  datacenters: "dc", clusters: "cluster", hosts: "host", vms: "vm", storagedomains: "sd", networks: "net",
  templates: "template", vmpools: "pool", disks: "disk", users: "user",
  groups: "group", roles: "role",
};

function Form({ id, title, fields, initial, send, onClose, onDone, submitLabel }) {
  const prefix = id.replace(/^[a-z]+-/, "");
  const [values, setValues] = useState(initial);
  const [choices, setChoices] = useState({});
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    for (const f of fields.filter((x) => x.type === "ref")) {
      api("GET", listPath(f.ref, { max: 1000 })).then((d) => {
        setChoices((c) => ({ ...c, [f.name]: d[f.ref] }));
        if (d[f.ref].length) setValues((v) => ({ ...v, [f.name]: v[f.name] || d[f.ref][0].id }));
      }, (e) => setError(e.message));
    }
  }, []);
  const submit = async (e) => {
    e && e.preventDefault();
    setBusy(true);
    setError("");
    const body = {};
    for (const f of fields) {
      const v = values[f.name];
      if (v === initial[f.name] && send === "changed") continue;
      if (v === "" && !f.required && send !== "changed") continue;
      body[f.name] = f.type === "number" && v !== "" && !isNaN(Number(v)) ? Number(v) : v;
    }
    try {
      await onDone(body);
    } catch (err) {
      setError(err.message); // the API's own words
      setBusy(false);
    }
  };
  return (
    <Modal id={id} title={title} onClose={onClose} footer={[
      <Button variant="primary" id={`${id}-submit`} disabled={busy} onClick={submit}>{submitLabel}</Button>,
      <Button variant="link" onClick={onClose}>{t("button.cancel")}</Button>,
    ]}>
      <form class="pf-v6-c-form" onSubmit={submit} novalidate>
        {error && <Alert title={error} id={`${id}-error`} />}
        {fields.map((f) => {
          const fid = `${prefix}-${f.name.replace(/_id$|_mib$/, "")}`;
          const set = (v) => setValues((x) => ({ ...x, [f.name]: v }));
          return f.type === "ref"
            ? <Select id={fid} label={t(f.label)} required={f.required} value={values[f.name]} onChange={set}
                      options={(choices[f.name] || []).map((c) => ({ value: c.id, label: c.name, data: true }))} />
            : <TextInput id={fid} label={t(f.label)} required={f.required} type={f.type === "number" ? "number" : "text"}
                         value={values[f.name]} onInput={set} />;
        })}
        <button type="submit" hidden />
      </form>
    </Modal>
  );
}

export function CreateDialog({ collection, onClose, onCreated }) {
  const spec = CREATE[collection];
  return <Form id={`create-${KIND_ID[collection]}`} title={t(spec.title)} fields={spec.fields}
               initial={Object.fromEntries(spec.fields.map((f) => [f.name, f.dflt || ""]))}
               submitLabel={t("button.create")} onClose={onClose}
               onDone={async (body) => onCreated(await api("POST", `/api/${collection}`, body))} />;
}

// PUT of the members changed in the form.
export function EditDialog({ collection, item, onClose, onSaved }) {
  const spec = EDIT[collection];
  const initial = Object.fromEntries(spec.fields.map((f) => [f.name, item[f.name] === undefined || item[f.name] === null
    ? "" : String(item[f.name])]));
  return <Form id={`edit-${KIND_ID[collection]}`} title={t(spec.title, { name: item.name })} fields={spec.fields}
               initial={initial} send="changed" submitLabel={t("button.save")} onClose={onClose}
               onDone={async (body) => onSaved(await api("PUT", `/api/${collection}/${item.id}`, body))} />;
}

// DELETE after a confirmation; the API's refusal (a host not in
// maintenance, a data center still used) stays in the dialog.
export function RemoveDialog({ collection, item, onClose, onRemoved }) {
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const id = `remove-${KIND_ID[collection]}`;
  const remove = async () => {
    setBusy(true);
    try {
      await api("DELETE", `/api/${collection}/${item.id}`);
      onRemoved(item);
    } catch (e) {
      setError(e.message);
      setBusy(false);
    }
  };
  return (
    <Modal id={id} title={t(`remove.${collection}`)} onClose={onClose} footer={[
      <Button variant="danger" id={`${id}-submit`} disabled={busy} onClick={remove}>{t("button.remove")}</Button>,
      <Button variant="link" onClick={onClose}>{t("button.cancel")}</Button>,
    ]}>
      {error && <Alert title={error} id={`${id}-error`} />}
      <p>{t("remove.confirm")} <b class="vireo-name vireo-data">{item.name || item.alias}</b></p>
    </Modal>
  );
}
