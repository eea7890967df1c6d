// Create dialogs, one generic form per collection: the fields a POST takes,
// sent as they are; a refusal keeps the dialog open with the API's own
// message, so the portal needs no validation rules of its own.
import { useEffect, useState } from "preact/hooks";
import { api, listPath } from "./api.js";
import { Alert, Button, Modal, Select, TextInput } from "./ui.jsx";

// field: {name, label, type: "text"|"number"|"ref", ref: collection, required, dflt}
export const CREATE = {
  datacenters: { title: "New data center", fields: [
    { name: "name", label: "Name", required: true },
    { name: "description", label: "Description" }] },
  clusters: { title: "New cluster", fields: [
    { name: "name", label: "Name", required: true },
    { name: "datacenter_id", label: "Data center", type: "ref", ref: "datacenters", required: true },
    { name: "cpu_type", label: "CPU type", dflt: "qemu64" },
    { name: "description", label: "Description" }] },
  hosts: { title: "New host", fields: [
    { name: "name", label: "Name", required: true },
    { name: "address", label: "Address", required: true },
    { name: "port", label: "Agent port", type: "number", dflt: "54321" },
    { name: "cluster_id", label: "Cluster", type: "ref", ref: "clusters", required: true },
    { name: "description", label: "Description" }] },
  vms: { title: "New virtual machine", fields: [
    { name: "name", label: "Name", required: true },
    { name: "cluster_id", label: "Cluster", type: "ref", ref: "clusters", required: true },
    { name: "memory_mib", label: "Memory (MiB)", type: "number", dflt: "256", required: true },
    { name: "vcpus", label: "vCPUs", type: "number", dflt: "1" },
    { name: "description", label: "Description" }] },
};

const KIND_ID = { datacenters: "dc", clusters: "cluster", hosts: "host", vms: "vm" };

export function CreateDialog({ collection, onClose, onCreated }) {
  const spec = CREATE[collection];
  const prefix = KIND_ID[collection];
  const [values, setValues] = useState(() => Object.fromEntries(spec.fields.map((f) => [f.name, f.dflt || ""])));
  const [choices, setChoices] = useState({});
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    for (const f of spec.fields.filter((x) => x.type === "ref")) {
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
    for (const f of spec.fields) {
      const v = values[f.name];
      if (v === "" && !f.required) continue;
      body[f.name] = f.type === "number" && v !== "" && !isNaN(Number(v)) ? Number(v) : v;
    }
    try {
      onCreated(await api("POST", `/api/${collection}`, body));
    } catch (err) {
      setError(err.message); // the API's own words
      setBusy(false);
    }
  };
  const id = `create-${prefix}`;
  return (
    <Modal id={id} title={spec.title} onClose={onClose} footer={[
      <Button variant="primary" id={`${id}-submit`} disabled={busy} onClick={submit}>Create</Button>,
      <Button variant="link" onClick={onClose}>Cancel</Button>,
    ]}>
      <form class="pf-v6-c-form" onSubmit={submit} novalidate>
        {error && <Alert title={error} id={`${id}-error`} />}
        {spec.fields.map((f) => {
          const fid = `${prefix}-${f.name.replace(/_id$|_mib$/, "")}`;
          const set = (v) => setValues((x) => ({ ...x, [f.name]: v }));
          return f.type === "ref"
            ? <Select id={fid} label={f.label} required={f.required} value={values[f.name]} onChange={set}
                      options={(choices[f.name] || []).map((c) => ({ value: c.id, label: c.name }))} />
            : <TextInput id={fid} label={f.label} required={f.required} type={f.type === "number" ? "number" : "text"}
                         value={values[f.name]} onInput={set} />;
        })}
        <button type="submit" hidden />
      </form>
    </Modal>
  );
}
