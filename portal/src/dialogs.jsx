// Create, edit and remove dialogs, one generic form per collection: the
// fields a POST or PUT takes, sent as they are; a refusal keeps the dialog
// open with the API's own message, so the portal needs no validation
// rules of its own.
import { useEffect, useState } from "preact/hooks";
import { api, listPath } from "./api.js";
import { t, tValue } from "./i18n.js";
import { ACTION, CREATE, EDIT, KIND_ID } from "./dialog_specs.js";
import { Alert, Button, Modal, Select, TextInput } from "./ui.jsx";

// The body of the form's values: shown fields only; numbers as numbers
// (times their scale); with send "changed" only what differs from initial.
function bodyOf(fields, values, initial, send) {
  const body = {};
  for (const f of fields) {
    if (f.show && !f.show(values)) continue;
    const v = values[f.name];
    if (send === "changed" && v === initial[f.name]) continue;
    if (v === "" && (f.none || (!f.required && send !== "changed"))) continue;
    else if (f.type === "number" && v !== "" && !isNaN(Number(v))) body[f.name] = Math.round(Number(v) * (f.scale || 1));
    else body[f.name] = v; // as typed: a wrong value gets the API's own message
  }
  return body;
}

function Checkbox({ id, label, checked, onChange }) {
  return (
    <div class="pf-v6-c-form__group">
      <div class="pf-v6-c-form__group-control">
        <div class="pf-v6-c-check">
          <input class="pf-v6-c-check__input" type="checkbox" id={id} name={id} checked={checked}
                 onChange={(e) => onChange(e.currentTarget.checked)} />
          <label class="pf-v6-c-check__label" for={id}>{label}</label>
        </div>
      </div>
    </div>
  );
}

function Field({ f, fid, value, set, choices }) {
  const label = t(f.label);
  if (f.type === "bool") return <Checkbox id={fid} label={label} checked={!!value} onChange={set} />;
  if (f.type === "ref" || f.type === "select") {
    const options = f.type === "ref"
      ? (choices || []).map((c) => ({ value: c.id, label: c.name || c.alias, data: true }))
      : f.values.map((v) => ({ value: v, label: f.words ? tValue(f.words, v) : v, data: !f.words }));
    return <Select id={fid} label={label} required={f.required} value={value} onChange={set}
                   options={f.none ? [{ value: "", label: t(f.none) }].concat(options) : options} />;
  }
  return <TextInput id={fid} label={label} required={f.required} type={f.type === "number" ? "number" : "text"}
                    value={value} onInput={set} />;
}

function Form({ id, title, fields, initial, send, onClose, onDone, submitLabel }) {
  const prefix = id.replace(/^[a-z]+-/, "");
  const [values, setValues] = useState(initial);
  const [choices, setChoices] = useState({});
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    for (const f of fields.filter((x) => x.type === "ref")) {
      api("GET", listPath(f.ref, { max: 1000 })).then((d) => {
        const fit = d[f.ref].filter(f.pick || (() => true));
        setChoices((c) => ({ ...c, [f.name]: fit }));
        if (fit.length && !f.none) setValues((v) => ({ ...v, [f.name]: v[f.name] || fit[0].id }));
      }, (e) => setError(e.message));
    }
  }, []);
  // A long form (a storage domain's) scrolls: the refusal at its top is brought into view.
  useEffect(() => { if (error) document.getElementById(`${id}-error`).scrollIntoView({ block: "nearest" }); }, [error]);
  const submit = async (e) => {
    e && e.preventDefault();
    setBusy(true);
    setError("");
    try {
      await onDone(bodyOf(fields, values, initial, send));
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
        {fields.filter((f) => !f.show || f.show(values)).map((f) => (
          <Field f={f} fid={`${prefix}-${f.name.replace(/_id$|_mib$/, "")}`} value={values[f.name]}
                 choices={choices[f.name]} set={(v) => setValues((x) => ({ ...x, [f.name]: v }))} />
        ))}
        <button type="submit" hidden />
      </form>
    </Modal>
  );
}

// POST of the form; the answer and the body go to onCreated (an answer
// with a job: 202, the object is made by it).
export function CreateDialog({ collection, onClose, onCreated }) {
  const spec = CREATE[collection];
  return <Form id={`create-${KIND_ID[collection]}`} title={t(spec.title)} fields={spec.fields}
               initial={Object.fromEntries(spec.fields.map((f) => [f.name, f.dflt ?? ""]))}
               submitLabel={t("button.create")} onClose={onClose}
               onDone={async (body) => onCreated(await api("POST", `/api/${collection}`, body), body)} />;
}

// PUT of the members changed in the form.
export function EditDialog({ collection, item, onClose, onSaved }) {
  const spec = EDIT[collection];
  const shown = (v) => (v === undefined || v === null ? "" : typeof v === "boolean" ? v : String(v));
  const initial = Object.fromEntries(spec.fields.map((f) => [f.name, shown(item[f.name])]));
  return <Form id={`edit-${KIND_ID[collection]}`} title={t(spec.title, { name: item.name || item.alias })}
               fields={spec.fields} initial={initial} send="changed" submitLabel={t("button.save")} onClose={onClose}
               onDone={async (body) => onSaved(await api("PUT", `/api/${collection}/${item.id}`, body))} />;
}

// An action with a body (attach: which data center): POST
// /api/COLLECTION/ID/ACTION; the answer (its job) goes to onStarted.
export function ActionDialog({ collection, action, item, onClose, onStarted }) {
  const spec = ACTION[action];
  return <Form id={`${action}-${KIND_ID[collection]}`} title={t(spec.title, { name: item.name })} fields={spec.fields}
               initial={Object.fromEntries(spec.fields.map((f) => [f.name, f.dflt ?? ""]))}
               submitLabel={t(`button.${action}`)} onClose={onClose}
               onDone={async (body) => onStarted(await api("POST", `/api/${collection}/${item.id}/${action}`, body))} />;
}

// DELETE after a confirmation; the API's refusal (a host not in
// maintenance, a data center still used) stays in the dialog. The answer
// (a job for disks and templates, else none) goes to onRemoved.
export function RemoveDialog({ collection, item, onClose, onRemoved }) {
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const id = `remove-${KIND_ID[collection]}`;
  const remove = async () => {
    setBusy(true);
    try {
      onRemoved(item, await api("DELETE", `/api/${collection}/${item.id}`));
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
