// Who may do what, in the Administration Portal (docs/permissions.md):
// the permissions given on an object (data center, cluster, host, VM,
// storage domain, template, pool, disk, network) with a grant dialog and
// revoke; a user's own permissions; and the users tab's add-from-a-directory
// and remove. Only the public API: GET /api/permissions?search=object_id=..,
// POST/DELETE /api/permissions, the directory search
// GET /api/domains/ID/users|groups?search=, POST /api/users|groups {name}.
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, listPath } from "./api.js";
import { RemoveDialog } from "./dialogs.jsx";
import { t } from "./i18n.js";
import { TYPE_OF } from "./listview.jsx";
import { Alert, Button, Modal, Select, TextInput } from "./ui.jsx";
import { Table } from "./vmpower.jsx";

// The collections whose objects hold permissions (their object_type is TYPE_OF's).
export const ON = ["datacenters", "clusters", "hosts", "vms", "storagedomains", "templates", "vmpools", "disks", "networks"];
const COLLECTION_OF = { ...Object.fromEntries(ON.map((c) => [TYPE_OF[c], c])), quota: "quotas" };

const td = (x) => <td class="pf-v6-c-table__td">{x}</td>;
const data = (x) => <span class="vireo-data">{x}</span>;

// The names of the users and groups a list of permissions names, read once each.
async function holders(perms) {
  const want = [...new Set(perms.map((p) => (p.user_id ? `users/${p.user_id}` : `groups/${p.group_id}`)))];
  const got = await Promise.all(want.map((k) => api("GET", `/api/${k}`).then((x) => [k, x.name], () => [k, k])));
  return Object.fromEntries(got);
}

// The rows of a permission table: who (or on what), role, where it is
// inherited from (an object's table), revoke (where it was given).
export function PermissionRows({ perms, first, from, onRevoke }) {
  return perms.map((p) => {
    const inherited = from && from(p);
    return (
      <tr class="pf-v6-c-table__tr" key={p.id} data-id={p.id} data-principal={p.principal} data-role={p.role}
          data-inherited={inherited ? "true" : "false"}>
        {td(data(first(p)))}
        {td(t(p.user_id ? "perm.user" : "perm.group"))}
        {td(data(p.role))}
        {from && td(inherited ? (typeof inherited === "string" ? data(inherited) : inherited) : "")}
        {td(!inherited &&
          <Button small variant="secondary" data-action="revoke" onClick={() => onRevoke(p)}>{t("button.revoke")}</Button>)}
      </tr>
    );
  });
}

// The objects' names of permissions (for "on what" and "inherited from"), read once each.
export function useObjectNames(perms) {
  const [names, setNames] = useState({});
  useEffect(() => {
    if (!perms) return;
    const want = perms.filter((p) => p.object_id && COLLECTION_OF[p.object_type]);
    Promise.all(want.map((p) => api("GET", `/api/${COLLECTION_OF[p.object_type]}/${p.object_id}`)
      .then((x) => [p.object_id, x.name || x.alias], () => [p.object_id, p.object_id]))).then((got) => setNames(Object.fromEntries(got)));
  }, [perms]);
  return (p) => (p.object_type === "system" ? t("perm.system")
    : `${t(`perm.type.${p.object_type}`)}: ${names[p.object_id] || p.object_id}`);
}

// A list of permissions in a dialog, re-read after each change; a refusal
// (admin@internal's SuperUser, a permission someone else removed) in the API's words.
export function usePermissions(search, keep = () => true) {
  const [perms, setPerms] = useState(null);
  const [error, setError] = useState("");
  const [tick, setTick] = useState(0);
  useEffect(() => {
    api("GET", listPath("permissions", { search, max: 500 })).then(async (d) => {
      const mine = d.permissions.filter(keep);
      const names = await holders(mine);
      setPerms(mine.map((p) => ({ ...p, principal: names[p.user_id ? `users/${p.user_id}` : `groups/${p.group_id}`] })));
    }, (e) => setError(e.message));
  }, [search, tick]);
  const revoke = async (p) => {
    try {
      await api("DELETE", `/api/permissions/${p.id}`);
      setError("");
    } catch (e) {
      setError(e.message);
    }
    setTick((x) => x + 1);
  };
  return { perms, error, setError, revoke, reread: () => setTick((x) => x + 1) };
}

// The permissions covering one object (given on it, or inherited from
// above: GET /api/permissions?search=covers=ID), and the grant dialog.
function ObjectPermissions({ collection, item, onClose }) {
  const type = TYPE_OF[collection];
  const { perms, error, revoke, reread } = usePermissions(`covers=${item.id}`);
  const on = useObjectNames(perms);
  const [granting, setGranting] = useState(false);
  if (granting)
    return <GrantDialog type={type} item={item} onClose={() => setGranting(false)}
                        onGranted={() => { setGranting(false); reread(); }} />;
  return (
    <Modal id="permissions" wide title={t("perm.title")} onClose={onClose} footer={[
      <Button variant="primary" id="grant-open" onClick={() => setGranting(true)}>{t("button.grant")}</Button>,
      <Button variant="link" data-permissions-close onClick={onClose}>{t("button.close")}</Button>,
    ]}>
      <p>{t(`perm.on.${type}`)} <b class="vireo-name vireo-data">{item.name || item.alias}</b></p>
      {error && <Alert title={error} id="permissions-error" />}
      {perms && !perms.length && <p class="vireo-empty">{t("perm.none")}</p>}
      {perms && perms.length > 0 && (
        <Table list="permissions" label={t("perm.title")} heads={["perm.col.principal", "perm.col.kind", "perm.col.role", "perm.col.inherited", "list.actions"]}>
          <PermissionRows perms={perms} first={(p) => p.principal} onRevoke={revoke}
                          from={(p) => (p.object_id === item.id ? "" : on(p))} />
        </Table>)}
    </Modal>
  );
}

// Users and groups to pick from: those the engine has (source ""), or a
// directory profile's (source: its id), found by the text.
async function findPrincipals(source, kinds, text) {
  const out = [];
  for (const kind of kinds) {
    if (!source) {
      const d = await api("GET", listPath(kind, { search: text ? `name=*${text}*` : "", max: 50 }));
      out.push(...d[kind].map((x) => ({ kind, name: x.name, id: x.id, detail: x.description || "" })));
    } else {
      const q = new URLSearchParams({ search: text, max: "50" });
      const d = await api("GET", `/api/domains/${source}/${kind}?${q}`);
      out.push(...d[kind].map((x) => ({ kind, name: x.name, id: x.user_id || x.group_id,
                                        detail: x.display_name || x.description || "" })));
    }
  }
  return out;
}

// The engine's id of a picked user or group: a directory's, not yet
// added, is added first (the directory must know it).
export const principalId = async (p) => p.id || (await api("POST", `/api/${p.kind}`, { name: p.name })).id;

// Where to search, what, and the results to pick (one, or several with
// multi); children: the dialog's own fields before them.
export function PrincipalSearch({ id, kinds, directoryOnly, multi, picked, onPick, onError, children }) {
  const [sources, setSources] = useState([]);
  const [source, setSource] = useState("");
  const [text, setText] = useState("");
  const [found, setFound] = useState(null);
  useEffect(() => {
    api("GET", listPath("domains", { max: 100 })).then((d) => {
      setSources(d.domains);
      if (directoryOnly && d.domains.length) setSource(d.domains[0].id);
    }, (e) => onError(e.message));
  }, []);
  const search = async (e) => {
    e && e.preventDefault();
    onError("");
    try {
      setFound(await findPrincipals(source, kinds, text.trim()));
    } catch (err) {
      setFound([]);
      onError(err.message);
    }
  };
  const key = (p) => `${p.kind}:${p.name}`;
  const isPicked = (p) => picked.some((x) => key(x) === key(p));
  const toggle = (p) => onPick(multi ? (isPicked(p) ? picked.filter((x) => key(x) !== key(p)) : [...picked, p]) : [p]);
  const options = (directoryOnly ? [] : [{ value: "", label: t("perm.source.engine") }])
    .concat(sources.map((s) => ({ value: s.id, label: s.name, data: true })));
  return (
    <div>
      <form class="pf-v6-c-form" onSubmit={search} novalidate>
        {children}
        <Select id={`${id}-source`} label={t("perm.source")} value={source} onChange={setSource} options={options} />
        <TextInput id={`${id}-search`} label={t("perm.search")} value={text} onInput={setText} />
        <div class="pf-v6-c-form__group pf-m-action">
          <Button variant="secondary" id={`${id}-search-submit`} onClick={search}>{t("button.search")}</Button>
        </div>
      </form>
      {found && !found.length && <p class="vireo-empty">{t("perm.found-none")}</p>}
      {found && found.length > 0 && (
        <Table list={`${id}-found`} label={t("perm.found")} heads={["perm.col.pick", "perm.col.principal", "perm.col.kind", "col.description"]}>
          {found.map((p, i) => (
            <tr class="pf-v6-c-table__tr" key={key(p)} data-name={p.name} data-kind={p.kind}>
              {td(<input type={multi ? "checkbox" : "radio"} name={`${id}-pick`} id={`${id}-pick-${i}`}
                         checked={isPicked(p)} onChange={() => toggle(p)} aria-labelledby={`${id}-name-${i}`} />)}
              {td(<label for={`${id}-pick-${i}`} id={`${id}-name-${i}`} class="vireo-data">{p.name}</label>)}
              {td(t(p.kind === "users" ? "perm.user" : "perm.group"))}
              {td(data(p.detail))}
            </tr>
          ))}
        </Table>)}
    </div>
  );
}

// A dialog acting on the users or groups picked: busy while it runs, the
// API's refusal kept in it (its own words).
export function PickDialog({ id, title, submitLabel, onClose, act, render }) {
  const [picked, setPicked] = useState([]);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const go = async () => {
    if (!picked.length) return setError(t("perm.pick-first"));
    setBusy(true);
    try {
      await act(picked);
    } catch (e) {
      setError(e.message);
      setBusy(false);
    }
  };
  return (
    <Modal id={id} wide title={title} onClose={onClose} footer={[
      <Button variant="primary" id={`${id}-submit`} disabled={busy} onClick={go}>{submitLabel}</Button>,
      <Button variant="link" onClick={onClose}>{t("button.cancel")}</Button>,
    ]}>
      {error && <Alert title={error} id={`${id}-error`} />}
      {render({ picked, setPicked, setError })}
    </Modal>
  );
}

// Grant: a user or group (the engine's or a directory's), a role, on the object.
function GrantDialog({ type, item, onClose, onGranted }) {
  const [roles, setRoles] = useState([]);
  const [role, setRole] = useState("");
  const [rolesError, setRolesError] = useState("");
  useEffect(() => {
    api("GET", listPath("roles", { max: 500 })).then((d) => {
      setRoles(d.roles);
      const user = d.roles.find((r) => r.name === "UserRole") || d.roles[0];
      if (user) setRole(user.id);
    }, (e) => setRolesError(e.message));
  }, []);
  const grant = async ([p]) => {
    const who = await principalId(p);
    await api("POST", "/api/permissions", { role_id: role, object_type: type, object_id: item.id,
                                            [p.kind === "users" ? "user_id" : "group_id"]: who });
    onGranted();
  };
  return (
    <PickDialog id="grant" title={t("perm.grant-title")} submitLabel={t("button.grant")} onClose={onClose} act={grant}
                render={({ picked, setPicked, setError }) => [
      <p>{t(`perm.on.${type}`)} <b class="vireo-name vireo-data">{item.name || item.alias}</b></p>,
      rolesError && <Alert title={rolesError} />,
      <PrincipalSearch id="grant" kinds={["users", "groups"]} picked={picked} onPick={setPicked} onError={setError} />,
      <form class="pf-v6-c-form" onSubmit={(e) => e.preventDefault()} novalidate>
        <Select id="grant-role" label={t("perm.role")} value={role} onChange={setRole}
                options={roles.map((r) => ({ value: r.id, label: r.name, data: true }))} />
      </form>,
    ]} />
  );
}

// A user's permissions: their own (revoke) and those they hold through
// their groups (GET /api/permissions?search=member=ID; revoked on the group).
function UserPermissions({ user, onClose }) {
  // The name as a glob (a * in it matches more): the ids decide.
  const own = usePermissions(`user=${user.name}`, (p) => p.user_id === user.id);
  const groups = usePermissions(`member=${user.id}`);
  // One array while neither list changes: useObjectNames re-reads the names on a new one.
  const perms = useMemo(() => own.perms && groups.perms && own.perms.concat(groups.perms), [own.perms, groups.perms]);
  const error = own.error || groups.error, revoke = own.revoke;
  const on = useObjectNames(perms);
  const through = (p) => p.group_id && <span>{t("perm.through-group")} <span class="vireo-data">{p.principal}</span></span>;
  return (
    <Modal id="user-permissions" wide title={t("perm.user-title")} onClose={onClose} footer={[
      <Button variant="link" data-user-permissions-close onClick={onClose}>{t("button.close")}</Button>,
    ]}>
      <p><b class="vireo-name vireo-data">{user.name}</b></p>
      {error && <Alert title={error} id="user-permissions-error" />}
      {perms && !perms.length && <p class="vireo-empty">{t("perm.none")}</p>}
      {perms && perms.length > 0 && (
        <Table list="user-permissions" label={t("perm.user-title")}
               heads={["perm.col.object", "perm.col.kind", "perm.col.role", "perm.col.through", "list.actions"]}>
          <PermissionRows perms={perms} first={on} onRevoke={revoke} from={through} />
        </Table>)}
    </Modal>
  );
}

// The users tab's "add": users or groups of a directory, searched, picked, added.
function AddPrincipals({ onClose }) {
  const [kind, setKind] = useState("users");
  const add = async (picked) => {
    for (const p of picked.filter((x) => !x.id)) await principalId(p);
    onClose();
  };
  return (
    <PickDialog id="add-principals" title={t("people.add-title")} submitLabel={t("button.add")} onClose={onClose}
                act={add} render={({ picked, setPicked, setError }) => (
      <PrincipalSearch key={kind} id="add" kinds={[kind]} directoryOnly multi picked={picked} onPick={setPicked}
                       onError={setError}>
        <Select id="add-kind" label={t("people.kind")} value={kind} onChange={(k) => { setKind(k); setPicked([]); }}
                options={[{ value: "users", label: t("perm.user") }, { value: "groups", label: t("perm.group") }]} />
      </PrincipalSearch>)} />
  );
}

// A row's people buttons: permissions (on an object, or a user's own) and
// a user's removal; the dialog each opens.
function PeopleButtons({ collection, item }) {
  const [open, setOpen] = useState(null);
  const close = () => setOpen(null);
  return (
    <div class="vireo-actions">
      <Button small variant="secondary" data-action="permissions" onClick={() => setOpen("perm")}>{t("button.permissions")}</Button>
      {collection === "users" &&
        <Button small variant="secondary" data-action="remove" onClick={() => setOpen("remove")}>{t("button.remove")}</Button>}
      {open === "perm" && (collection === "users" ? <UserPermissions user={item} onClose={close} />
        : <ObjectPermissions collection={collection} item={item} onClose={close} />)}
      {open === "remove" && <RemoveDialog collection="users" item={item} onClose={close} onRemoved={close} />}
    </div>
  );
}

function AddButton() {
  const [open, setOpen] = useState(false);
  return [
    <Button variant="primary" id="add-users" onClick={() => setOpen(true)}>{t("people.add")}</Button>,
    open && <AddPrincipals onClose={() => setOpen(false)} />,
  ];
}

// The hooks of admin.jsx's lists: a tab's row actions get the people
// buttons, the users tab its "add" button.
export function peopleHooks(collection, props) {
  if (!ON.includes(collection) && collection !== "users") return {};
  const actions = (it) => (
    <div class="vireo-actions">{props.actions && props.actions(it)}<PeopleButtons collection={collection} item={it} /></div>
  );
  return collection === "users" ? { actions, toolbar: [props.toolbar, <AddButton />] } : { actions };
}
