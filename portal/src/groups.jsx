// The groups tab of the Administration Portal (docs/permissions.md "Users
// and groups"): internal groups (NAME) and directory groups (NAME@profile,
// whose members the directory says at each login); a new internal group,
// directory groups found and added, members (added and taken out of an
// internal group), the group's permissions (grant on an object or the
// system, revoke) and removal. Only the public
// API: /api/groups, /api/groups/ID/members, /api/permissions?search=group=.
import { useEffect, useState } from "preact/hooks";
import { api, listPath } from "./api.js";
import { RemoveDialog } from "./dialogs.jsx";
import { t } from "./i18n.js";
import { TYPE_OF } from "./listview.jsx";
import { ON, PermissionRows, PickDialog, PrincipalSearch, principalId, useObjectNames, usePermissions } from "./permissions.jsx";
import { Alert, Button, Modal, Select, TextInput } from "./ui.jsx";
import { Table } from "./vmpower.jsx";

const directory = (g) => (g.name.includes("@") ? g.name.slice(g.name.indexOf("@") + 1) : "");
const td = (x) => <td class="pf-v6-c-table__td">{x}</td>;

function NewGroup({ onClose, onDone }) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [error, setError] = useState("");
  const create = async (e) => {
    e && e.preventDefault();
    try {
      const g = await api("POST", "/api/groups", { name, description });
      onDone(t("message.created", { name: g.name }));
    } catch (err) {
      setError(err.message);
    }
  };
  return (
    <Modal id="create-group" title={t("group.create-title")} onClose={onClose} footer={[
      <Button variant="primary" id="create-group-submit" onClick={create}>{t("button.create")}</Button>,
      <Button variant="link" onClick={onClose}>{t("button.cancel")}</Button>,
    ]}>
      {error && <Alert title={error} id="create-group-error" />}
      <form class="pf-v6-c-form" onSubmit={create} novalidate>
        <TextInput id="create-group-name" label={t("field.name")} value={name} onInput={setName} required />
        <TextInput id="create-group-description" label={t("field.description")} value={description} onInput={setDescription} />
      </form>
    </Modal>
  );
}

// Directory groups, searched in a profile, picked and added.
function AddDirectoryGroups({ onClose, onDone }) {
  const add = async (picked) => {
    for (const p of picked.filter((x) => !x.id)) await principalId(p);
    onDone(t("group.added"));
  };
  return (
    <PickDialog id="add-groups" title={t("group.add-title")} submitLabel={t("button.add")} onClose={onClose} act={add}
                render={({ picked, setPicked, setError }) => (
      <PrincipalSearch id="add-groups" kinds={["groups"]} directoryOnly multi picked={picked} onPick={setPicked}
                       onError={setError} />)} />
  );
}

// A group's members; an internal group's are added (picked among the
// engine's users) and taken out here, a directory group's come from logins.
function Members({ group, onClose }) {
  const [members, setMembers] = useState(null);
  const [error, setError] = useState("");
  const [adding, setAdding] = useState(false);
  const [tick, setTick] = useState(0);
  const internal = !directory(group);
  useEffect(() => {
    api("GET", `/api/groups/${group.id}/members?max=1000`).then((d) => setMembers(d.members), (e) => setError(e.message));
  }, [tick]);
  const takeOut = async (m) => {
    try {
      await api("DELETE", `/api/groups/${group.id}/members/${m.id}`);
      setError("");
    } catch (e) {
      setError(e.message);
    }
    setTick((x) => x + 1);
  };
  const add = async (picked) => {
    for (const p of picked) await api("POST", `/api/groups/${group.id}/members`, { user_id: await principalId(p) });
    setAdding(false);
    setTick((x) => x + 1);
  };
  if (adding)
    return <PickDialog id="add-members" title={t("group.add-members")} submitLabel={t("button.add")}
                       onClose={() => setAdding(false)} act={add} render={({ picked, setPicked, setError: se }) => (
      <PrincipalSearch id="add-members" kinds={["users"]} multi picked={picked} onPick={setPicked} onError={se} />)} />;
  return (
    <Modal id="group-members" wide title={t("group.members")} onClose={onClose} footer={[
      internal && <Button variant="primary" id="add-members-open" onClick={() => setAdding(true)}>{t("group.add-members")}</Button>,
      <Button variant="link" data-members-close onClick={onClose}>{t("button.close")}</Button>,
    ]}>
      <p><b class="vireo-name vireo-data">{group.name}</b></p>
      {!internal && <p>{t("group.directory-members")}</p>}
      {error && <Alert title={error} id="group-members-error" />}
      {members && !members.length && <p class="vireo-empty">{t("group.no-members")}</p>}
      {members && members.length > 0 && (
        <Table list="group-members" label={t("group.members")} heads={["col.name", "list.actions"]}>
          {members.map((m) => (
            <tr class="pf-v6-c-table__tr" key={m.id} data-name={m.name}>
              {td(<span class="vireo-data">{m.name}</span>)}
              {td(internal && <Button small variant="secondary" data-action="take-out" onClick={() => takeOut(m)}>
                {t("button.take-out")}</Button>)}
            </tr>
          ))}
        </Table>)}
    </Modal>
  );
}

// A role for the group on an object (or the system): its kind, which one, the role.
function GrantToGroup({ group, onClose, onGranted }) {
  const [coll, setColl] = useState("system");
  const [objects, setObjects] = useState([]);
  const [object, setObject] = useState("");
  const [roles, setRoles] = useState([]);
  const [role, setRole] = useState("");
  const [error, setError] = useState("");
  useEffect(() => {
    api("GET", listPath("roles", { max: 500 })).then((d) => {
      setRoles(d.roles);
      if (d.roles.length) setRole((d.roles.find((r) => r.name === "UserRole") || d.roles[0]).id);
    }, (e) => setError(e.message));
  }, []);
  useEffect(() => {
    setObjects([]);
    setObject("");
    if (coll === "system") return;
    api("GET", listPath(coll, { max: 1000 })).then((d) => {
      setObjects(d[coll]);
      if (d[coll].length) setObject(d[coll][0].id);
    }, (e) => setError(e.message));
  }, [coll]);
  const grant = async () => {
    const where = coll === "system" ? { object_type: "system" } : { object_type: TYPE_OF[coll], object_id: object };
    try {
      await api("POST", "/api/permissions", { role_id: role, group_id: group.id, ...where });
      onGranted();
    } catch (e) {
      setError(e.message);
    }
  };
  return (
    <Modal id="group-grant" title={t("perm.grant-title")} onClose={onClose} footer={[
      <Button variant="primary" id="group-grant-submit" onClick={grant}>{t("button.grant")}</Button>,
      <Button variant="link" onClick={onClose}>{t("button.cancel")}</Button>,
    ]}>
      <p><b class="vireo-name vireo-data">{group.name}</b></p>
      {error && <Alert title={error} id="group-grant-error" />}
      <form class="pf-v6-c-form" onSubmit={(e) => e.preventDefault()} novalidate>
        <Select id="group-grant-kind" label={t("perm.col.object")} value={coll} onChange={setColl}
                options={[{ value: "system", label: t("perm.system") }].concat(
                  ON.map((c) => ({ value: c, label: t(`perm.type.${TYPE_OF[c]}`) })))} />
        {coll !== "system" && <Select id="group-grant-object" label={t(`perm.type.${TYPE_OF[coll]}`)} value={object}
                                      onChange={setObject}
                                      options={objects.map((o) => ({ value: o.id, label: o.name || o.alias, data: true }))} />}
        <Select id="group-grant-role" label={t("perm.role")} value={role} onChange={setRole}
                options={roles.map((r) => ({ value: r.id, label: r.name, data: true }))} />
      </form>
    </Modal>
  );
}

// The group's permissions: on what, which role; revoke; grant.
function GroupPermissions({ group, onClose }) {
  const { perms, error, revoke, reread } = usePermissions(`group=${group.name}`, (p) => p.group_id === group.id);
  const on = useObjectNames(perms);
  const [granting, setGranting] = useState(false);
  if (granting)
    return <GrantToGroup group={group} onClose={() => setGranting(false)} onGranted={() => { setGranting(false); reread(); }} />;
  return (
    <Modal id="group-permissions" wide title={t("group.permissions-title")} onClose={onClose} footer={[
      <Button variant="primary" id="group-grant-open" onClick={() => setGranting(true)}>{t("button.grant")}</Button>,
      <Button variant="link" data-group-permissions-close onClick={onClose}>{t("button.close")}</Button>,
    ]}>
      <p><b class="vireo-name vireo-data">{group.name}</b></p>
      {error && <Alert title={error} id="group-permissions-error" />}
      {perms && !perms.length && <p class="vireo-empty">{t("perm.none")}</p>}
      {perms && perms.length > 0 && (
        <Table list="group-permissions" label={t("group.permissions-title")} heads={["perm.col.object", "perm.col.kind", "perm.col.role", "list.actions"]}>
          <PermissionRows perms={perms} first={on} onRevoke={revoke} />
        </Table>)}
    </Modal>
  );
}

function GroupActions({ group, onDone }) {
  const [open, setOpen] = useState(null);
  const close = () => setOpen(null);
  return (
    <div class="vireo-actions">
      <Button small variant="secondary" data-action="members" onClick={() => setOpen("members")}>{t("button.members")}</Button>
      <Button small variant="secondary" data-action="permissions" onClick={() => setOpen("perm")}>{t("button.permissions")}</Button>
      <Button small variant="secondary" data-action="remove" onClick={() => setOpen("remove")}>{t("button.remove")}</Button>
      {open === "members" && <Members group={group} onClose={close} />}
      {open === "perm" && <GroupPermissions group={group} onClose={close} />}
      {open === "remove" && <RemoveDialog collection="groups" item={group} onClose={close}
                                          onRemoved={() => { close(); onDone(t("message.removed", { name: group.name })); }} />}
    </div>
  );
}

function Toolbar({ onDone }) {
  const [open, setOpen] = useState(null);
  const done = (text) => { setOpen(null); onDone(text); };
  return [
    <Button variant="primary" id="new-groups" onClick={() => setOpen("new")}>{t("new.groups")}</Button>,
    <Button variant="secondary" id="add-groups-open" onClick={() => setOpen("add")}>{t("group.add")}</Button>,
    open === "new" && <NewGroup onClose={() => setOpen(null)} onDone={done} />,
    open === "add" && <AddDirectoryGroups onClose={() => setOpen(null)} onDone={done} />,
  ];
}

// The groups tab's list props for admin.jsx's list(); onDone(text): a change made.
export function groupsTab(col, onDone) {
  return {
    hint: "name=dev*", toolbar: <Toolbar onDone={onDone} />,
    columns: [col("col.name", (g) => <span class="vireo-name vireo-data">{g.name}</span>),
      col("col.domain", (g) => (directory(g) ? <span class="vireo-data">{directory(g)}</span> : <span>{t("group.internal")}</span>)),
      col("col.description", (g) => <span class="vireo-desc vireo-data">{g.description || ""}</span>)],
    actions: (g) => <GroupActions group={g} onDone={onDone} />,
  };
}
