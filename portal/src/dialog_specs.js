// What each create, edit and action dialog sends: the members the API's
// POST or PUT of that collection takes (docs/rest-api.md "Collections"),
// nothing more. The API checks them; the portal only lays them out.
//
// field: {name, label (a catalog key), type: "text" | "number" | "ref" |
//   "select" | "bool", required, dflt,
//   ref: a collection (type ref), pick(item): which of its objects fit,
//   values: the fixed choices (type select), words: their catalog group
//   (none: the API's own words, shown as data), none: the catalog key of
//   an empty first choice (nothing sent),
//   show(values): shown and sent only when true (members of one storage type),
//   scale: the number shown times scale is sent (GiB shown, bytes sent)}
const up = (h) => h.status === "up";
const F = {
  name: { name: "name", label: "field.name", required: true },
  description: { name: "description", label: "field.description" },
  cpu_type: { name: "cpu_type", label: "field.cpu_type", dflt: "qemu64" },
  memory_mib: { name: "memory_mib", label: "field.memory_mib", type: "number", dflt: "256", required: true },
  vcpus: { name: "vcpus", label: "field.vcpus", type: "number", dflt: "1" },
  datacenter_id: { name: "datacenter_id", label: "field.datacenter", type: "ref", ref: "datacenters", required: true },
  cluster_id: { name: "cluster_id", label: "field.cluster", type: "ref", ref: "clusters", required: true },
  warn_pct: { name: "warning_low_space_pct", label: "field.warning_low_space_pct", type: "number" },
  critical: { name: "critical_space_gib", label: "field.critical_space_gib", type: "number" },
  alias: { name: "alias", label: "field.alias", required: true },
  disk_if: { name: "interface", label: "field.interface", type: "select", values: ["virtio", "virtio_scsi", "sata", "ide"] },
  wipe: { name: "wipe_after_delete", label: "field.wipe_after_delete", type: "bool", dflt: false },
  mtu: { name: "mtu", label: "field.mtu", type: "number", dflt: "1500" },
  size: { name: "size", label: "field.pool_size", type: "number", dflt: "1" },
  prestarted: { name: "prestarted", label: "field.prestarted", type: "number", dflt: "0" },
  max_user_vms: { name: "max_user_vms", label: "field.max_user_vms", type: "number", dflt: "1" },
};
const storageIs = (...types) => (v) => types.includes(v.storage_type);

export const CREATE = {
  datacenters: { title: "create.datacenters", fields: [F.name, F.description] },
  clusters: { title: "create.clusters", fields: [F.name, F.datacenter_id, F.cpu_type, F.description] },
  hosts: { title: "create.hosts", fields: [
    F.name, { name: "address", label: "field.address", required: true },
    { name: "port", label: "field.port", type: "number", dflt: "54321" }, F.cluster_id, F.description] },
  vms: { title: "create.vms", fields: [F.name, F.cluster_id, F.memory_mib, F.vcpus, F.description] },
  // Created unattached (202, a job on the host); attached with its action.
  storagedomains: { title: "create.storagedomains", fields: [
    F.name,
    { name: "type", label: "field.sd_type", type: "select", values: ["data", "iso", "export"], words: "sdtype", dflt: "data" },
    { name: "storage_type", label: "field.storage_type", type: "select", values: ["nfs", "posixfs", "localfs"], dflt: "nfs" },
    { name: "storage_address", label: "field.storage_address", required: true, show: storageIs("nfs") },
    { name: "storage_path", label: "field.storage_path", required: true },
    { name: "nfs_version", label: "field.nfs_version", type: "select", values: ["3", "4", "4.1", "4.2"],
      none: "value.default", show: storageIs("nfs") },
    { name: "vfs_type", label: "field.vfs_type", required: true, show: storageIs("posixfs") },
    { name: "mount_options", label: "field.mount_options", show: storageIs("nfs", "posixfs") },
    { name: "host", label: "field.host_to_use", type: "ref", ref: "hosts", pick: up, required: true },
    { ...F.warn_pct, dflt: "10" }, { ...F.critical, dflt: "5" }, F.description] },
  // provisioned_size in bytes; the form asks GiB.
  disks: { title: "create.disks", fields: [
    F.alias,
    { name: "provisioned_size", label: "field.size_gib", type: "number", scale: 1 << 30, dflt: "1", required: true },
    { name: "storage_domain", label: "field.storage_domain", type: "ref", ref: "storagedomains", required: true,
      pick: (d) => d.status === "active" && d.type === "data" },
    { name: "format", label: "field.format", type: "select", values: ["cow", "raw"], dflt: "cow" },
    { name: "sparse", label: "field.sparse", type: "bool", dflt: true },
    { ...F.disk_if, dflt: "virtio" }, F.wipe, F.description] },
  networks: { title: "create.networks", fields: [
    F.name,
    { name: "datacenter", label: "field.datacenter", type: "ref", ref: "datacenters", required: true },
    { name: "vlan", label: "field.vlan", type: "number" }, F.mtu,
    { name: "vm", label: "field.vm_network", type: "bool", dflt: true }, F.description] },
  // From a stopped VM (202, a job copying its disks).
  templates: { title: "create.templates", fields: [
    F.name, { name: "vm", label: "field.vm", type: "ref", ref: "vms", required: true, pick: (v) => v.status === "down" },
    F.description] },
  vmpools: { title: "create.vmpools", fields: [
    F.name, F.cluster_id, { name: "template_id", label: "field.template", type: "ref", ref: "templates", required: true },
    { name: "type", label: "field.pool_type", type: "select", values: ["automatic", "manual"], words: "pooltype",
      dflt: "automatic" },
    F.size, F.prestarted, F.max_user_vms, { name: "stateless", label: "field.stateless", type: "bool", dflt: false },
    F.description] },
};

// What PUT changes of each object (the kinds' updatable members).
export const EDIT = {
  datacenters: { title: "edit.datacenters", fields: [F.name, F.description] },
  clusters: { title: "edit.clusters", fields: [F.name, F.cpu_type, F.description] },
  hosts: { title: "edit.hosts", fields: [F.name, F.description] },
  vms: { title: "edit.vms", fields: [F.name, F.memory_mib, F.vcpus, F.description] },
  storagedomains: { title: "edit.storagedomains", fields: [F.name, F.warn_pct, F.critical, F.description] },
  disks: { title: "edit.disks", fields: [F.alias, F.disk_if,
    { name: "bootable", label: "field.bootable", type: "bool" }, F.wipe, F.description] },
  // The API takes a null member as absent: a PUT cannot untag a network,
  // so the VLAN field offers a new tag only.
  networks: { title: "edit.networks", fields: [{ name: "vlan", label: "field.vlan_tag", type: "number" },
    F.mtu, F.description] },
  // A template's name is fixed (its versions share it).
  templates: { title: "edit.templates", fields: [F.description] },
  vmpools: { title: "edit.vmpools", fields: [F.name, F.size, F.prestarted, F.max_user_vms, F.description] },
};

// Actions that take a body chosen in a dialog: POST /api/COLLECTION/ID/ACTION.
export const ACTION = {
  attach: { title: "attach.title", fields: [{ name: "datacenter", label: "field.datacenter", type: "ref",
    ref: "datacenters", required: true }] },
};

export const KIND_ID = {
  datacenters: "dc", clusters: "cluster", hosts: "host", vms: "vm", storagedomains: "sd", networks: "net",
  templates: "template", vmpools: "pool", disks: "disk", users: "user", groups: "group", roles: "role",
};
