// The roles tab of the Administration Portal (docs/permissions.md "Roles
// and action groups"): the predefined roles, read-only, and custom roles
// made of action groups: create, edit, remove. The action groups offered
// are the API's own (the ActionGroups schema of GET /api/openapi.json);
// a refusal (a predefined role, a role permissions still use, an unknown
// action group) stays in the dialog in the API's words.
import { useEffect, useState } from "preact/hooks";
import { api } from "./api.js";
import { RemoveDialog } from "./dialogs.jsx";
import { t } from "./i18n.js";
import { Alert, Button, Modal, Select, TextInput } from "./ui.jsx";

// The action groups the API takes, read once.
let offered = null;
const actionGroups = () => {
  offered = offered || api("GET", "/api/openapi.json").then((d) => d.components.schemas.ActionGroups.items.enum)
    .catch((e) => { offered = null; throw e; });
  return offered;
};

// An action group's words in the portal's language, with its API name as data.
const groupLabel = (g) => [<span>{t(`ag.${g}`)}</span>, " ", <code class="vireo-data">{g}</code>];

// Create (no item), edit (a custom role) or view (a predefined one).
function RoleDialog({ item, onClose, onDone }) {
  const readOnly = item && item.predefined;
  const id = item ? "edit-role" : "create-role";
  const [name, setName] = useState(item ? item.name : "");
  const [description, setDescription] = useState(item ? item.description || "" : "");
  const [admin, setAdmin] = useState(item && item.administrative ? "true" : "false");
  const [chosen, setChosen] = useState(item ? item.action_groups : []);
  const [groups, setGroups] = useState([]);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => { actionGroups().then(setGroups, (e) => setError(e.message)); }, []);
  const toggle = (g) => setChosen((c) => (c.includes(g) ? c.filter((x) => x !== g) : c.concat(g)));
  const save = async (e) => {
    e && e.preventDefault();
    setBusy(true);
    const body = { name, description, administrative: admin === "true", action_groups: chosen };
    try {
      const role = await api(item ? "PUT" : "POST", item ? `/api/roles/${item.id}` : "/api/roles", body);
      onDone(t(item ? "message.saved" : "message.created", { name: (role && role.name) || name }));
    } catch (err) {
      setError(err.message);
      setBusy(false);
    }
  };
  const title = t(readOnly ? "role.view-title" : item ? "role.edit-title" : "role.create-title");
  return (
    <Modal id={id} wide title={title} onClose={onClose} footer={[
      !readOnly && <Button variant="primary" id={`${id}-submit`} disabled={busy} onClick={save}>
        {t(item ? "button.save" : "button.create")}</Button>,
      <Button variant="link" onClick={onClose}>{t(readOnly ? "button.close" : "button.cancel")}</Button>,
    ]}>
      {error && <Alert title={error} id={`${id}-error`} />}
      {readOnly && <p>{t("role.predefined-note")}</p>}
      <form class="pf-v6-c-form" onSubmit={save} novalidate>
        <TextInput id={`${id}-name`} label={t("field.name")} value={name} onInput={setName} required disabled={readOnly} />
        <TextInput id={`${id}-description`} label={t("field.description")} value={description}
                   onInput={setDescription} disabled={readOnly} />
        {!readOnly && <Select id={`${id}-type`} label={t("role.type")} value={admin} onChange={setAdmin}
                              options={[{ value: "false", label: t("role.user") }, { value: "true", label: t("role.admin") }]} />}
        <fieldset class="pf-v6-c-form__group" id={`${id}-groups`}>
          <legend class="pf-v6-c-form__label"><span class="pf-v6-c-form__label-text">{t("role.action-groups")}</span></legend>
          {groups.map((g) => (
            <div class="pf-v6-c-check" key={g}>
              <input class="pf-v6-c-check__input" type="checkbox" id={`${id}-ag-${g}`} data-action-group={g}
                     checked={chosen.includes(g)} disabled={readOnly} onChange={() => toggle(g)} />
              <label class="pf-v6-c-check__label" for={`${id}-ag-${g}`}>{groupLabel(g)}</label>
            </div>
          ))}
        </fieldset>
      </form>
    </Modal>
  );
}

function RoleActions({ role, onDone }) {
  const [open, setOpen] = useState(null);
  const close = () => setOpen(null);
  return (
    <div class="vireo-actions">
      <Button small variant="secondary" data-action={role.predefined ? "view" : "edit"} onClick={() => setOpen("edit")}>
        {t(role.predefined ? "button.view" : "button.edit")}</Button>
      {!role.predefined &&
        <Button small variant="secondary" data-action="remove" onClick={() => setOpen("remove")}>{t("button.remove")}</Button>}
      {open === "edit" && <RoleDialog item={role} onClose={close} onDone={(text) => { close(); onDone(text); }} />}
      {open === "remove" && <RemoveDialog collection="roles" item={role} onClose={close}
                                          onRemoved={() => { close(); onDone(t("message.removed", { name: role.name })); }} />}
    </div>
  );
}

function NewRole({ onDone }) {
  const [open, setOpen] = useState(false);
  return [
    <Button variant="primary" id="new-roles" onClick={() => setOpen(true)}>{t("new.roles")}</Button>,
    open && <RoleDialog onClose={() => setOpen(false)} onDone={(text) => { setOpen(false); onDone(text); }} />,
  ];
}

// The roles tab's list props for admin.jsx's list(); onDone(text): a change made.
export function rolesTab(col, onDone) {
  const word = (k) => <span>{t(k)}</span>;
  return {
    hint: "name=User*", toolbar: <NewRole onDone={onDone} />,
    columns: [col("col.name", (r) => <span class="vireo-name vireo-data">{r.name}</span>),
      col("role.type", (r) => word(r.administrative ? "role.admin" : "role.user")),
      col("role.predefined", (r) => word(r.predefined ? "value.yes" : "value.no")),
      col("role.action-groups", (r) => <span>{r.action_groups.length}</span>),
      col("col.description", (r) => <span class="vireo-desc vireo-data">{r.description || ""}</span>)],
    actions: (r) => <RoleActions role={r} onDone={onDone} />,
  };
}
