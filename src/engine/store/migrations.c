/* The schema's history: one entry per version, with its SQLite and its
 * PostgreSQL statements (same tables, columns, constraints and indexes;
 * tests/unit/test_schema.c proves both end up alike) and, where rows must
 * be rewritten, a C data step run in the same transaction. Never edit a
 * released entry: append one. */
#include "migrations.h"

/* PostgreSQL text compares bytewise, like SQLite's BINARY collation, so
 * "ORDER BY name, id" gives the same order on both backends whatever the
 * database locale. Integers are 64-bit (epochs, sizes). */
#define T "TEXT COLLATE \"C\""

/* The Default MAC pool's fixed id (VR_MACPOOL_DEFAULT_ID), as an SQL literal. */
#define MACPOOL_DEFAULT_SQL "'00000000-0000-4000-8000-00000000ac01'"

/* Migration 12's views: the same SQL on both backends. */
#define PEOPLE_VIEWS \
    "CREATE VIEW user_permissions AS SELECT u.name AS user_name, p.role_id AS role_id, p.object_id AS object_id" \
    " FROM permissions p JOIN users u ON u.id = p.user_id" \
    " UNION ALL SELECT u.name, p.role_id, p.object_id FROM permissions p" \
    " JOIN group_members m ON m.group_id = p.group_id JOIN users u ON u.id = m.user_id;" \
    "CREATE VIEW object_ancestors AS" OBJECT_ANCESTORS_12

/* Migration 12's tree of objects (a later migration that adds a kind to
 * the tree recreates the view with this and its own rows). */
#define OBJECT_ANCESTORS_12 \
    " SELECT id AS object_id, id AS ancestor_id FROM datacenters" \
    " UNION ALL SELECT id, id FROM clusters UNION ALL SELECT id, datacenter_id FROM clusters" \
    " UNION ALL SELECT id, id FROM hosts UNION ALL SELECT id, cluster_id FROM hosts" \
    " UNION ALL SELECT h.id, c.datacenter_id FROM hosts h JOIN clusters c ON c.id = h.cluster_id" \
    " UNION ALL SELECT id, id FROM vms UNION ALL SELECT id, cluster_id FROM vms" \
    " UNION ALL SELECT v.id, c.datacenter_id FROM vms v JOIN clusters c ON c.id = v.cluster_id" \
    " UNION ALL SELECT id, pool_id FROM vms WHERE pool_id IS NOT NULL" \
    " UNION ALL SELECT id, id FROM storage_domains" \
    " UNION ALL SELECT id, datacenter_id FROM storage_domains WHERE datacenter_id IS NOT NULL" \
    " UNION ALL SELECT id, id FROM disks UNION ALL SELECT id, storage_domain_id FROM disks" \
    " UNION ALL SELECT d.id, s.datacenter_id FROM disks d JOIN storage_domains s ON s.id = d.storage_domain_id" \
    " WHERE s.datacenter_id IS NOT NULL" \
    " UNION ALL SELECT id, id FROM templates UNION ALL SELECT id, cluster_id FROM templates" \
    " WHERE cluster_id IS NOT NULL" \
    " UNION ALL SELECT t.id, c.datacenter_id FROM templates t JOIN clusters c ON c.id = t.cluster_id" \
    " UNION ALL SELECT id, id FROM vm_pools UNION ALL SELECT id, cluster_id FROM vm_pools" \
    " UNION ALL SELECT p.id, c.datacenter_id FROM vm_pools p JOIN clusters c ON c.id = p.cluster_id" \
    " UNION ALL SELECT id, id FROM networks UNION ALL SELECT id, datacenter_id FROM networks" \
    " UNION ALL SELECT id, id FROM vnic_profiles UNION ALL SELECT id, network_id FROM vnic_profiles" \
    " UNION ALL SELECT p.id, n.datacenter_id FROM vnic_profiles p JOIN networks n ON n.id = p.network_id" \
    " UNION ALL SELECT id, id FROM snapshots UNION ALL SELECT id, vm_id FROM snapshots" \
    " UNION ALL SELECT s.id, v.cluster_id FROM snapshots s JOIN vms v ON v.id = s.vm_id" \
    " UNION ALL SELECT s.id, c.datacenter_id FROM snapshots s JOIN vms v ON v.id = s.vm_id" \
    " JOIN clusters c ON c.id = v.cluster_id"

const vr_migration vr_migrations[] = {
    {1, "core inventory, auth, events, jobs",
     .sqlite = "CREATE TABLE datacenters (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
         " description TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL);"
         "CREATE TABLE clusters (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
         " description TEXT NOT NULL DEFAULT '', datacenter_id TEXT NOT NULL REFERENCES datacenters(id),"
         " cpu_type TEXT NOT NULL DEFAULT 'qemu64', virt_mode TEXT NOT NULL DEFAULT 'any',"
         " created_at INTEGER NOT NULL);"
         "CREATE TABLE hosts (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
         " description TEXT NOT NULL DEFAULT '', cluster_id TEXT NOT NULL REFERENCES clusters(id),"
         " address TEXT NOT NULL, port INTEGER NOT NULL, status TEXT NOT NULL,"
         " status_detail TEXT NOT NULL DEFAULT '', last_seen INTEGER NOT NULL DEFAULT 0,"
         " capabilities_json TEXT, stats_json TEXT, created_at INTEGER NOT NULL);"
         "CREATE TABLE vms (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
         " description TEXT NOT NULL DEFAULT '', cluster_id TEXT NOT NULL REFERENCES clusters(id),"
         " host_id TEXT REFERENCES hosts(id), status TEXT NOT NULL, memory_mib INTEGER NOT NULL,"
         " vcpus INTEGER NOT NULL, spec_json TEXT NOT NULL, devices_json TEXT,"
         " created_at INTEGER NOT NULL);"
         "CREATE TABLE macs (mac TEXT PRIMARY KEY, vm_id TEXT NOT NULL REFERENCES vms(id) ON DELETE CASCADE);"
         "CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
         " password_hash TEXT NOT NULL, created_at INTEGER NOT NULL);"
         "CREATE TABLE tokens (hash TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id),"
         " expires_at INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);"
         "CREATE TABLE login_failures (name TEXT PRIMARY KEY, count INTEGER NOT NULL,"
         " last_at INTEGER NOT NULL);"
         "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL,"
         " severity TEXT NOT NULL, user_name TEXT NOT NULL DEFAULT '', object_type TEXT NOT NULL DEFAULT '',"
         " object_id TEXT NOT NULL DEFAULT '', message TEXT NOT NULL);"
         "CREATE TABLE jobs (id TEXT PRIMARY KEY, action TEXT NOT NULL, object_type TEXT NOT NULL,"
         " object_id TEXT NOT NULL, status TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '',"
         " user_name TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
         "CREATE INDEX vms_host ON vms(host_id); CREATE INDEX hosts_cluster ON hosts(cluster_id);",
     .pg = "CREATE TABLE datacenters (id " T " PRIMARY KEY, name " T " NOT NULL UNIQUE,"
         " description " T " NOT NULL DEFAULT '', created_at BIGINT NOT NULL);"
         "CREATE TABLE clusters (id " T " PRIMARY KEY, name " T " NOT NULL UNIQUE,"
         " description " T " NOT NULL DEFAULT '', datacenter_id " T " NOT NULL REFERENCES datacenters(id),"
         " cpu_type " T " NOT NULL DEFAULT 'qemu64', virt_mode " T " NOT NULL DEFAULT 'any',"
         " created_at BIGINT NOT NULL);"
         "CREATE TABLE hosts (id " T " PRIMARY KEY, name " T " NOT NULL UNIQUE,"
         " description " T " NOT NULL DEFAULT '', cluster_id " T " NOT NULL REFERENCES clusters(id),"
         " address " T " NOT NULL, port BIGINT NOT NULL, status " T " NOT NULL,"
         " status_detail " T " NOT NULL DEFAULT '', last_seen BIGINT NOT NULL DEFAULT 0,"
         " capabilities_json " T ", stats_json " T ", created_at BIGINT NOT NULL);"
         "CREATE TABLE vms (id " T " PRIMARY KEY, name " T " NOT NULL UNIQUE,"
         " description " T " NOT NULL DEFAULT '', cluster_id " T " NOT NULL REFERENCES clusters(id),"
         " host_id " T " REFERENCES hosts(id), status " T " NOT NULL, memory_mib BIGINT NOT NULL,"
         " vcpus BIGINT NOT NULL, spec_json " T " NOT NULL, devices_json " T ","
         " created_at BIGINT NOT NULL);"
         "CREATE TABLE macs (mac " T " PRIMARY KEY, vm_id " T " NOT NULL REFERENCES vms(id) ON DELETE CASCADE);"
         "CREATE TABLE users (id " T " PRIMARY KEY, name " T " NOT NULL UNIQUE,"
         " password_hash " T " NOT NULL, created_at BIGINT NOT NULL);"
         "CREATE TABLE tokens (hash " T " PRIMARY KEY, user_id " T " NOT NULL REFERENCES users(id),"
         " expires_at BIGINT NOT NULL, revoked BIGINT NOT NULL DEFAULT 0);"
         "CREATE TABLE login_failures (name " T " PRIMARY KEY, count BIGINT NOT NULL,"
         " last_at BIGINT NOT NULL);"
         "CREATE TABLE events (id BIGSERIAL PRIMARY KEY, time BIGINT NOT NULL,"
         " severity " T " NOT NULL, user_name " T " NOT NULL DEFAULT '', object_type " T " NOT NULL DEFAULT '',"
         " object_id " T " NOT NULL DEFAULT '', message " T " NOT NULL);"
         "CREATE TABLE jobs (id " T " PRIMARY KEY, action " T " NOT NULL, object_type " T " NOT NULL,"
         " object_id " T " NOT NULL, status " T " NOT NULL, detail " T " NOT NULL DEFAULT '',"
         " user_name " T " NOT NULL DEFAULT '', created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);"
         "CREATE INDEX vms_host ON vms(host_id); CREATE INDEX hosts_cluster ON hosts(cluster_id);"},
    {2, "the scheduler's inputs as plain columns, kept by the monitors, so * placement reads numbers instead of parsing every host's JSON",
     .sqlite = "ALTER TABLE hosts ADD COLUMN cpu_percent REAL NOT NULL DEFAULT 0;"
         "ALTER TABLE hosts ADD COLUMN mem_total_mib INTEGER NOT NULL DEFAULT 0;"
         "ALTER TABLE hosts ADD COLUMN virt_mode TEXT NOT NULL DEFAULT '';"
         "ALTER TABLE hosts ADD COLUMN max_vcpus INTEGER NOT NULL DEFAULT 0;"
         "ALTER TABLE hosts ADD COLUMN cpus INTEGER NOT NULL DEFAULT 0;"
         "CREATE INDEX vms_host_status ON vms(host_id, status, memory_mib);",
     .pg = "ALTER TABLE hosts ADD COLUMN cpu_percent DOUBLE PRECISION NOT NULL DEFAULT 0,"
         " ADD COLUMN mem_total_mib BIGINT NOT NULL DEFAULT 0,"
         " ADD COLUMN virt_mode " T " NOT NULL DEFAULT '',"
         " ADD COLUMN max_vcpus BIGINT NOT NULL DEFAULT 0,"
         " ADD COLUMN cpus BIGINT NOT NULL DEFAULT 0;"
         "CREATE INDEX vms_host_status ON vms(host_id, status, memory_mib);"},
    {3, "what the VMs placed on a host take from it, kept with the host: * raised at placement, recomputed from the VMs by every poll",
     .sqlite = "ALTER TABLE hosts ADD COLUMN committed_mib INTEGER NOT NULL DEFAULT 0;"
         "ALTER TABLE hosts ADD COLUMN pending_vcpus INTEGER NOT NULL DEFAULT 0;",
     .pg = "ALTER TABLE hosts ADD COLUMN committed_mib BIGINT NOT NULL DEFAULT 0,"
         " ADD COLUMN pending_vcpus BIGINT NOT NULL DEFAULT 0;"},
    {4, "jobs say what they do and show their steps",
     .sqlite = "ALTER TABLE jobs ADD COLUMN description TEXT NOT NULL DEFAULT '';"
         "ALTER TABLE jobs ADD COLUMN steps_json TEXT NOT NULL DEFAULT '[]';",
     .pg = "ALTER TABLE jobs ADD COLUMN description " T " NOT NULL DEFAULT '',"
         " ADD COLUMN steps_json " T " NOT NULL DEFAULT '[]';"},
    {5, "jobs show progress and can be cancelled",
     .sqlite = "ALTER TABLE jobs ADD COLUMN progress INTEGER NOT NULL DEFAULT 0;"
         "ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;"
         "CREATE INDEX jobs_object ON jobs(object_id, status);",
     .pg = "ALTER TABLE jobs ADD COLUMN progress BIGINT NOT NULL DEFAULT 0,"
         " ADD COLUMN cancel_requested BIGINT NOT NULL DEFAULT 0;"
         "CREATE INDEX jobs_object ON jobs(object_id, status);"},
    {6, "jobs carry their parameters (a device to plug...); VMs list the * changes made while running that apply at their next start",
     .sqlite = "ALTER TABLE jobs ADD COLUMN params_json TEXT;"
         "ALTER TABLE vms ADD COLUMN pending_json TEXT;",
     .pg = "ALTER TABLE jobs ADD COLUMN params_json " T ";"
         "ALTER TABLE vms ADD COLUMN pending_json " T ";"},
    {7, "storage: domains, disks, each data center's SPM and host ids, and what * every host sees of every domain (docs/storage.md)",
     .sqlite = "CREATE TABLE storage_domains (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
         " description TEXT NOT NULL DEFAULT '', sd_type TEXT NOT NULL,"
         " storage_type TEXT NOT NULL, storage_spec TEXT NOT NULL,"
         " vfs_type TEXT NOT NULL DEFAULT '', mount_options TEXT NOT NULL DEFAULT '',"
         " nfs_version TEXT NOT NULL DEFAULT '',"
         " datacenter_id TEXT REFERENCES datacenters(id), status TEXT NOT NULL,"
         " master INTEGER NOT NULL DEFAULT 0, total_bytes INTEGER NOT NULL DEFAULT 0,"
         " free_bytes INTEGER NOT NULL DEFAULT 0, committed_bytes INTEGER NOT NULL DEFAULT 0,"
         " warning_low_space_pct INTEGER NOT NULL DEFAULT 10,"
         " critical_space_gib INTEGER NOT NULL DEFAULT 5,"
         " inactive_since INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);"
         "CREATE TABLE disks (id TEXT PRIMARY KEY, volume_id TEXT NOT NULL,"
         " alias TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',"
         " storage_domain_id TEXT NOT NULL REFERENCES storage_domains(id),"
         " format TEXT NOT NULL, sparse INTEGER NOT NULL, provisioned_size INTEGER NOT NULL,"
         " actual_size INTEGER NOT NULL DEFAULT 0, interface TEXT NOT NULL DEFAULT 'virtio',"
         " bootable INTEGER NOT NULL DEFAULT 0, shareable INTEGER NOT NULL DEFAULT 0,"
         " read_only INTEGER NOT NULL DEFAULT 0, wipe_after_delete INTEGER NOT NULL DEFAULT 0,"
         " status TEXT NOT NULL, created_at INTEGER NOT NULL);"
         "CREATE INDEX disks_domain ON disks(storage_domain_id);"
         "CREATE INDEX storage_domains_dc ON storage_domains(datacenter_id);"
         "ALTER TABLE hosts ADD COLUMN spm_priority INTEGER NOT NULL DEFAULT 5;"
         "ALTER TABLE datacenters ADD COLUMN master_domain_id TEXT;"
         "ALTER TABLE datacenters ADD COLUMN spm_host_id TEXT;"
         "ALTER TABLE datacenters ADD COLUMN spm_id INTEGER NOT NULL DEFAULT -1;"
         "ALTER TABLE datacenters ADD COLUMN spm_lver INTEGER NOT NULL DEFAULT -1;"
         "ALTER TABLE datacenters ADD COLUMN storage_status TEXT NOT NULL DEFAULT 'uninitialized';"
         "CREATE TABLE host_storage_ids (datacenter_id TEXT NOT NULL REFERENCES datacenters(id),"
         " host_id TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE, spm_id INTEGER NOT NULL,"
         " PRIMARY KEY (datacenter_id, host_id), UNIQUE (datacenter_id, spm_id));"
         "CREATE TABLE host_domain_status (host_id TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,"
         " domain_id TEXT NOT NULL REFERENCES storage_domains(id) ON DELETE CASCADE,"
         " valid INTEGER NOT NULL, delay_ms REAL NOT NULL DEFAULT 0,"
         " total_bytes INTEGER NOT NULL DEFAULT 0, free_bytes INTEGER NOT NULL DEFAULT 0,"
         " error TEXT NOT NULL DEFAULT '', checked_at INTEGER NOT NULL,"
         " invalid_since INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (host_id, domain_id));",
     .pg = "CREATE TABLE storage_domains (id " T " PRIMARY KEY, name " T " NOT NULL UNIQUE,"
         " description " T " NOT NULL DEFAULT '', sd_type " T " NOT NULL,"
         " storage_type " T " NOT NULL, storage_spec " T " NOT NULL,"
         " vfs_type " T " NOT NULL DEFAULT '', mount_options " T " NOT NULL DEFAULT '',"
         " nfs_version " T " NOT NULL DEFAULT '',"
         " datacenter_id " T " REFERENCES datacenters(id), status " T " NOT NULL,"
         " master BIGINT NOT NULL DEFAULT 0, total_bytes BIGINT NOT NULL DEFAULT 0,"
         " free_bytes BIGINT NOT NULL DEFAULT 0, committed_bytes BIGINT NOT NULL DEFAULT 0,"
         " warning_low_space_pct BIGINT NOT NULL DEFAULT 10,"
         " critical_space_gib BIGINT NOT NULL DEFAULT 5,"
         " inactive_since BIGINT NOT NULL DEFAULT 0, created_at BIGINT NOT NULL);"
         "CREATE TABLE disks (id " T " PRIMARY KEY, volume_id " T " NOT NULL,"
         " alias " T " NOT NULL, description " T " NOT NULL DEFAULT '',"
         " storage_domain_id " T " NOT NULL REFERENCES storage_domains(id),"
         " format " T " NOT NULL, sparse BIGINT NOT NULL, provisioned_size BIGINT NOT NULL,"
         " actual_size BIGINT NOT NULL DEFAULT 0, interface " T " NOT NULL DEFAULT 'virtio',"
         " bootable BIGINT NOT NULL DEFAULT 0, shareable BIGINT NOT NULL DEFAULT 0,"
         " read_only BIGINT NOT NULL DEFAULT 0, wipe_after_delete BIGINT NOT NULL DEFAULT 0,"
         " status " T " NOT NULL, created_at BIGINT NOT NULL);"
         "CREATE INDEX disks_domain ON disks(storage_domain_id);"
         "CREATE INDEX storage_domains_dc ON storage_domains(datacenter_id);"
         "ALTER TABLE hosts ADD COLUMN spm_priority BIGINT NOT NULL DEFAULT 5;"
         "ALTER TABLE datacenters ADD COLUMN master_domain_id " T ","
         " ADD COLUMN spm_host_id " T ","
         " ADD COLUMN spm_id BIGINT NOT NULL DEFAULT -1,"
         " ADD COLUMN spm_lver BIGINT NOT NULL DEFAULT -1,"
         " ADD COLUMN storage_status " T " NOT NULL DEFAULT 'uninitialized';"
         "CREATE TABLE host_storage_ids (datacenter_id " T " NOT NULL REFERENCES datacenters(id),"
         " host_id " T " NOT NULL REFERENCES hosts(id) ON DELETE CASCADE, spm_id BIGINT NOT NULL,"
         " PRIMARY KEY (datacenter_id, host_id), UNIQUE (datacenter_id, spm_id));"
         "CREATE TABLE host_domain_status (host_id " T " NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,"
         " domain_id " T " NOT NULL REFERENCES storage_domains(id) ON DELETE CASCADE,"
         " valid BIGINT NOT NULL, delay_ms DOUBLE PRECISION NOT NULL DEFAULT 0,"
         " total_bytes BIGINT NOT NULL DEFAULT 0, free_bytes BIGINT NOT NULL DEFAULT 0,"
         " error " T " NOT NULL DEFAULT '', checked_at BIGINT NOT NULL,"
         " invalid_since BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (host_id, domain_id));"},
    {8, "logical networks (docs/networks.md): networks per data center, attached to clusters, vNIC profiles, what * each host's agent reports (NICs, the networks it runs) and the attachments it confirmed",
     .sqlite = "CREATE TABLE networks (id TEXT PRIMARY KEY,"
         " datacenter_id TEXT NOT NULL REFERENCES datacenters(id), name TEXT NOT NULL,"
         " description TEXT NOT NULL DEFAULT '', vm_network INTEGER NOT NULL DEFAULT 1, vlan INTEGER,"
         " mtu INTEGER NOT NULL DEFAULT 1500, roles TEXT NOT NULL DEFAULT '', label TEXT NOT NULL DEFAULT '',"
         " created_at INTEGER NOT NULL, UNIQUE (datacenter_id, name));"
         "CREATE TABLE cluster_networks (cluster_id TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,"
         " network_id TEXT NOT NULL REFERENCES networks(id), required INTEGER NOT NULL DEFAULT 1,"
         " PRIMARY KEY (cluster_id, network_id));"
         "CREATE TABLE vnic_profiles (id TEXT PRIMARY KEY,"
         " network_id TEXT NOT NULL REFERENCES networks(id) ON DELETE CASCADE, name TEXT NOT NULL,"
         " description TEXT NOT NULL DEFAULT '', qos_json TEXT, port_mirroring INTEGER NOT NULL DEFAULT 0,"
         " network_filter INTEGER NOT NULL DEFAULT 1, passthrough INTEGER NOT NULL DEFAULT 0,"
         " created_at INTEGER NOT NULL, UNIQUE (network_id, name));"
         "CREATE TABLE host_network_attachments (host_id TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,"
         " network_id TEXT NOT NULL REFERENCES networks(id), nic TEXT NOT NULL,"
         " boot_protocol TEXT NOT NULL DEFAULT 'none', address TEXT NOT NULL DEFAULT '',"
         " gateway TEXT NOT NULL DEFAULT '', confirmed_at INTEGER NOT NULL, PRIMARY KEY (host_id, network_id));"
         "CREATE TABLE host_nics (id TEXT PRIMARY KEY, host_id TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,"
         " name TEXT NOT NULL, mac TEXT NOT NULL DEFAULT '', mtu INTEGER NOT NULL DEFAULT 0,"
         " operstate TEXT NOT NULL DEFAULT '', carrier INTEGER NOT NULL DEFAULT 0, speed INTEGER,"
         " addresses_json TEXT NOT NULL DEFAULT '[]', master TEXT NOT NULL DEFAULT '',"
         " networks_json TEXT NOT NULL DEFAULT '[]', label TEXT NOT NULL DEFAULT '',"
         " reported_at INTEGER NOT NULL, UNIQUE (host_id, name));"
         "CREATE INDEX networks_dc ON networks(datacenter_id);"
         "CREATE INDEX cluster_networks_network ON cluster_networks(network_id);"
         "CREATE INDEX vnic_profiles_network ON vnic_profiles(network_id);"
         "ALTER TABLE hosts ADD COLUMN net_names TEXT NOT NULL DEFAULT '';",
     .pg = "CREATE TABLE networks (id " T " PRIMARY KEY,"
         " datacenter_id " T " NOT NULL REFERENCES datacenters(id), name " T " NOT NULL,"
         " description " T " NOT NULL DEFAULT '', vm_network BIGINT NOT NULL DEFAULT 1, vlan BIGINT,"
         " mtu BIGINT NOT NULL DEFAULT 1500, roles " T " NOT NULL DEFAULT '', label " T " NOT NULL DEFAULT '',"
         " created_at BIGINT NOT NULL, UNIQUE (datacenter_id, name));"
         "CREATE TABLE cluster_networks (cluster_id " T " NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,"
         " network_id " T " NOT NULL REFERENCES networks(id), required BIGINT NOT NULL DEFAULT 1,"
         " PRIMARY KEY (cluster_id, network_id));"
         "CREATE TABLE vnic_profiles (id " T " PRIMARY KEY,"
         " network_id " T " NOT NULL REFERENCES networks(id) ON DELETE CASCADE, name " T " NOT NULL,"
         " description " T " NOT NULL DEFAULT '', qos_json " T ", port_mirroring BIGINT NOT NULL DEFAULT 0,"
         " network_filter BIGINT NOT NULL DEFAULT 1, passthrough BIGINT NOT NULL DEFAULT 0,"
         " created_at BIGINT NOT NULL, UNIQUE (network_id, name));"
         "CREATE TABLE host_network_attachments (host_id " T " NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,"
         " network_id " T " NOT NULL REFERENCES networks(id), nic " T " NOT NULL,"
         " boot_protocol " T " NOT NULL DEFAULT 'none', address " T " NOT NULL DEFAULT '',"
         " gateway " T " NOT NULL DEFAULT '', confirmed_at BIGINT NOT NULL, PRIMARY KEY (host_id, network_id));"
         "CREATE TABLE host_nics (id " T " PRIMARY KEY, host_id " T " NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,"
         " name " T " NOT NULL, mac " T " NOT NULL DEFAULT '', mtu BIGINT NOT NULL DEFAULT 0,"
         " operstate " T " NOT NULL DEFAULT '', carrier BIGINT NOT NULL DEFAULT 0, speed BIGINT,"
         " addresses_json " T " NOT NULL DEFAULT '[]', master " T " NOT NULL DEFAULT '',"
         " networks_json " T " NOT NULL DEFAULT '[]', label " T " NOT NULL DEFAULT '',"
         " reported_at BIGINT NOT NULL, UNIQUE (host_id, name));"
         "CREATE INDEX networks_dc ON networks(datacenter_id);"
         "CREATE INDEX cluster_networks_network ON cluster_networks(network_id);"
         "CREATE INDEX vnic_profiles_network ON vnic_profiles(network_id);"
         "ALTER TABLE hosts ADD COLUMN net_names " T " NOT NULL DEFAULT '';"},
    {9, "snapshots (docs/storage.md \"Snapshots\"): per VM, the volume each disk had when it was taken and the VM's definition then; a VM is image-locked while a snapshot job changes a stopped VM's disks",
     .sqlite = "CREATE TABLE snapshots (id TEXT PRIMARY KEY,"
         " vm_id TEXT NOT NULL REFERENCES vms(id) ON DELETE CASCADE,"
         " description TEXT NOT NULL DEFAULT '', type TEXT NOT NULL, status TEXT NOT NULL,"
         " quiesced INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,"
         " config_json TEXT NOT NULL, volumes_json TEXT NOT NULL);"
         "CREATE INDEX snapshots_vm ON snapshots(vm_id, created_at);",
     .pg = "CREATE TABLE snapshots (id " T " PRIMARY KEY,"
         " vm_id " T " NOT NULL REFERENCES vms(id) ON DELETE CASCADE,"
         " description " T " NOT NULL DEFAULT '', type " T " NOT NULL, status " T " NOT NULL,"
         " quiesced BIGINT NOT NULL DEFAULT 0, created_at BIGINT NOT NULL,"
         " config_json " T " NOT NULL, volumes_json " T " NOT NULL);"
         "CREATE INDEX snapshots_vm ON snapshots(vm_id, created_at);"},
    {10, "templates (docs/storage.md \"Templates\"): a VM definition whose disks are read-only template disks; sub-versions of a base template; the Blank template; a thin VM disk names the template disk it is layered on",
     .sqlite = "CREATE TABLE templates (id TEXT PRIMARY KEY, name TEXT NOT NULL,"
         " description TEXT NOT NULL DEFAULT '', cluster_id TEXT REFERENCES clusters(id),"
         " memory_mib INTEGER NOT NULL, vcpus INTEGER NOT NULL, spec_json TEXT NOT NULL,"
         " base_template_id TEXT REFERENCES templates(id), version_number INTEGER NOT NULL DEFAULT 1,"
         " version_name TEXT NOT NULL DEFAULT '', status TEXT NOT NULL, created_at INTEGER NOT NULL,"
         " UNIQUE (name, version_number));"
         "ALTER TABLE disks ADD COLUMN template_id TEXT REFERENCES templates(id);"
         "ALTER TABLE disks ADD COLUMN parent_disk_id TEXT;"
         "INSERT INTO templates (id, name, description, memory_mib, vcpus, spec_json, status, created_at)"
         " VALUES ('00000000-0000-0000-0000-000000000000', 'Blank', 'The empty template', 1024, 1, '{}', 'ok', 0);",
     .pg = "CREATE TABLE templates (id " T " PRIMARY KEY, name " T " NOT NULL,"
         " description " T " NOT NULL DEFAULT '', cluster_id " T " REFERENCES clusters(id),"
         " memory_mib BIGINT NOT NULL, vcpus BIGINT NOT NULL, spec_json " T " NOT NULL,"
         " base_template_id " T " REFERENCES templates(id), version_number BIGINT NOT NULL DEFAULT 1,"
         " version_name " T " NOT NULL DEFAULT '', status " T " NOT NULL, created_at BIGINT NOT NULL,"
         " UNIQUE (name, version_number));"
         "ALTER TABLE disks ADD COLUMN template_id " T " REFERENCES templates(id),"
         " ADD COLUMN parent_disk_id " T ";"
         "INSERT INTO templates (id, name, description, memory_mib, vcpus, spec_json, status, created_at)"
         " VALUES ('00000000-0000-0000-0000-000000000000', 'Blank', 'The empty template', 1024, 1, '{}', 'ok', 0);"},
    {11, "VM pools (docs/storage.md \"Pools\"): thin VMs of a template kept at a size, some prestarted, handed to users; stateless VMs run on a throw-away layer (their disks' base volumes kept aside meanwhile)",
     .sqlite = "CREATE TABLE vm_pools (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
         " description TEXT NOT NULL DEFAULT '', cluster_id TEXT NOT NULL REFERENCES clusters(id),"
         " template_id TEXT NOT NULL REFERENCES templates(id), type TEXT NOT NULL, size INTEGER NOT NULL,"
         " prestarted INTEGER NOT NULL DEFAULT 0, max_user_vms INTEGER NOT NULL DEFAULT 1,"
         " stateless INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);"
         "ALTER TABLE vms ADD COLUMN pool_id TEXT REFERENCES vm_pools(id);"
         "ALTER TABLE vms ADD COLUMN pool_user TEXT;"
         "ALTER TABLE vms ADD COLUMN pool_seen_up INTEGER NOT NULL DEFAULT 0;"
         "ALTER TABLE vms ADD COLUMN stateless INTEGER NOT NULL DEFAULT 0;"
         "ALTER TABLE vms ADD COLUMN stateless_json TEXT;",
     .pg = "CREATE TABLE vm_pools (id " T " PRIMARY KEY, name " T " NOT NULL UNIQUE,"
         " description " T " NOT NULL DEFAULT '', cluster_id " T " NOT NULL REFERENCES clusters(id),"
         " template_id " T " NOT NULL REFERENCES templates(id), type " T " NOT NULL, size BIGINT NOT NULL,"
         " prestarted BIGINT NOT NULL DEFAULT 0, max_user_vms BIGINT NOT NULL DEFAULT 1,"
         " stateless BIGINT NOT NULL DEFAULT 0, created_at BIGINT NOT NULL);"
         "ALTER TABLE vms ADD COLUMN pool_id " T " REFERENCES vm_pools(id), ADD COLUMN pool_user " T ","
         " ADD COLUMN pool_seen_up BIGINT NOT NULL DEFAULT 0, ADD COLUMN stateless BIGINT NOT NULL DEFAULT 0,"
         " ADD COLUMN stateless_json " T ";"},
    {12, "people (docs/permissions.md): users can be disabled and come from a directory profile (domains); groups and their members; roles (predefined ones are written by the engine at start) made of action groups; permissions of a user or group with a role on an object; a view of every object's ancestors (itself, then up the tree) and one of each user's permissions, direct or through a group, that authorization and filtered lists join",
     .sqlite = "ALTER TABLE users ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1;"
         "ALTER TABLE users ADD COLUMN description TEXT NOT NULL DEFAULT '';"
         "ALTER TABLE users ADD COLUMN domain TEXT NOT NULL DEFAULT 'internal';"
         "CREATE TABLE domains (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL DEFAULT '',"
         " url TEXT NOT NULL, bind_dn TEXT NOT NULL, bind_password TEXT NOT NULL, base_dn TEXT NOT NULL,"
         " tls TEXT NOT NULL, user_attribute TEXT NOT NULL DEFAULT 'uid', created_at INTEGER NOT NULL);"
         "CREATE TABLE user_groups (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
         " description TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL);"
         "CREATE TABLE group_members (group_id TEXT NOT NULL REFERENCES user_groups(id) ON DELETE CASCADE,"
         " user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, PRIMARY KEY (group_id, user_id));"
         "CREATE TABLE roles (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL DEFAULT '',"
         " administrative INTEGER NOT NULL DEFAULT 0, predefined INTEGER NOT NULL DEFAULT 0,"
         " action_groups_json TEXT NOT NULL DEFAULT '[]', created_at INTEGER NOT NULL);"
         "CREATE TABLE role_action_groups (role_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,"
         " action_group TEXT NOT NULL, PRIMARY KEY (role_id, action_group));"
         "CREATE TABLE permissions (id TEXT PRIMARY KEY, user_id TEXT REFERENCES users(id) ON DELETE CASCADE,"
         " group_id TEXT REFERENCES user_groups(id) ON DELETE CASCADE, role_id TEXT NOT NULL REFERENCES roles(id),"
         " object_type TEXT NOT NULL, object_id TEXT NOT NULL, created_at INTEGER NOT NULL,"
         " UNIQUE (user_id, group_id, role_id, object_id));"
         "CREATE INDEX permissions_user ON permissions(user_id); CREATE INDEX permissions_group ON permissions(group_id);"
         "CREATE INDEX group_members_user ON group_members(user_id);"
         PEOPLE_VIEWS,
     .pg = "ALTER TABLE users ADD COLUMN enabled BIGINT NOT NULL DEFAULT 1,"
         " ADD COLUMN description " T " NOT NULL DEFAULT '', ADD COLUMN domain " T " NOT NULL DEFAULT 'internal';"
         "CREATE TABLE domains (id " T " PRIMARY KEY, name " T " NOT NULL UNIQUE, description " T " NOT NULL DEFAULT '',"
         " url " T " NOT NULL, bind_dn " T " NOT NULL, bind_password " T " NOT NULL, base_dn " T " NOT NULL,"
         " tls " T " NOT NULL, user_attribute " T " NOT NULL DEFAULT 'uid', created_at BIGINT NOT NULL);"
         "CREATE TABLE user_groups (id " T " PRIMARY KEY, name " T " NOT NULL UNIQUE,"
         " description " T " NOT NULL DEFAULT '', created_at BIGINT NOT NULL);"
         "CREATE TABLE group_members (group_id " T " NOT NULL REFERENCES user_groups(id) ON DELETE CASCADE,"
         " user_id " T " NOT NULL REFERENCES users(id) ON DELETE CASCADE, PRIMARY KEY (group_id, user_id));"
         "CREATE TABLE roles (id " T " PRIMARY KEY, name " T " NOT NULL UNIQUE, description " T " NOT NULL DEFAULT '',"
         " administrative BIGINT NOT NULL DEFAULT 0, predefined BIGINT NOT NULL DEFAULT 0,"
         " action_groups_json " T " NOT NULL DEFAULT '[]', created_at BIGINT NOT NULL);"
         "CREATE TABLE role_action_groups (role_id " T " NOT NULL REFERENCES roles(id) ON DELETE CASCADE,"
         " action_group " T " NOT NULL, PRIMARY KEY (role_id, action_group));"
         "CREATE TABLE permissions (id " T " PRIMARY KEY, user_id " T " REFERENCES users(id) ON DELETE CASCADE,"
         " group_id " T " REFERENCES user_groups(id) ON DELETE CASCADE, role_id " T " NOT NULL REFERENCES roles(id),"
         " object_type " T " NOT NULL, object_id " T " NOT NULL, created_at BIGINT NOT NULL,"
         " UNIQUE (user_id, group_id, role_id, object_id));"
         "CREATE INDEX permissions_user ON permissions(user_id); CREATE INDEX permissions_group ON permissions(group_id);"
         "CREATE INDEX group_members_user ON group_members(user_id);"
         PEOPLE_VIEWS},
    {13, "Availability (docs/availability.md): a VM's placement policy (migratable, user_migratable or pinned, and the hosts it may run on); affinity groups of a cluster's VMs and their members; a cluster's scheduling policy",
     .sqlite = "ALTER TABLE vms ADD COLUMN placement_json TEXT;"
         "ALTER TABLE clusters ADD COLUMN scheduling_json TEXT;"
         "CREATE TABLE affinity_groups (id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',"
         " cluster_id TEXT NOT NULL REFERENCES clusters(id), positive INTEGER NOT NULL DEFAULT 1,"
         " enforcing INTEGER NOT NULL DEFAULT 1, created_at INTEGER NOT NULL, UNIQUE (cluster_id, name));"
         "CREATE TABLE affinity_group_vms (group_id TEXT NOT NULL REFERENCES affinity_groups(id) ON DELETE CASCADE,"
         " vm_id TEXT NOT NULL REFERENCES vms(id) ON DELETE CASCADE, PRIMARY KEY (group_id, vm_id));",
     .pg = "ALTER TABLE vms ADD COLUMN placement_json " T ";"
         "ALTER TABLE clusters ADD COLUMN scheduling_json " T ";"
         "CREATE TABLE affinity_groups (id " T " PRIMARY KEY, name " T " NOT NULL, description " T " NOT NULL DEFAULT '',"
         " cluster_id " T " NOT NULL REFERENCES clusters(id), positive BIGINT NOT NULL DEFAULT 1,"
         " enforcing BIGINT NOT NULL DEFAULT 1, created_at BIGINT NOT NULL, UNIQUE (cluster_id, name));"
         "CREATE TABLE affinity_group_vms (group_id " T " NOT NULL REFERENCES affinity_groups(id) ON DELETE CASCADE,"
         " vm_id " T " NOT NULL REFERENCES vms(id) ON DELETE CASCADE, PRIMARY KEY (group_id, vm_id));"},
    {14, "highly available VMs and power management (docs/fencing.md): HA VMs are restarted when their QEMU dies unasked, with a priority; every VM says why it last stopped and whether a stop was asked for; a host's fence agents (their passwords are never rendered)",
     .sqlite = "ALTER TABLE vms ADD COLUMN ha_enabled INTEGER NOT NULL DEFAULT 0;"
         "ALTER TABLE vms ADD COLUMN ha_priority INTEGER NOT NULL DEFAULT 0;"
         "ALTER TABLE vms ADD COLUMN stop_reason TEXT NOT NULL DEFAULT '';"
         "ALTER TABLE vms ADD COLUMN stop_requested INTEGER NOT NULL DEFAULT 0;"
         "ALTER TABLE hosts ADD COLUMN pm_json TEXT;",
     .pg = "ALTER TABLE vms ADD COLUMN ha_enabled BIGINT NOT NULL DEFAULT 0,"
         " ADD COLUMN ha_priority BIGINT NOT NULL DEFAULT 0, ADD COLUMN stop_reason " T " NOT NULL DEFAULT '',"
         " ADD COLUMN stop_requested BIGINT NOT NULL DEFAULT 0;"
         "ALTER TABLE hosts ADD COLUMN pm_json " T ";"},
    {15, "host deploy over SSH and soft fencing (docs/operations.md, docs/fencing.md): how the engine logs in to a host (port, pinned host key fingerprint, password or engine key - never the password -, and whether the engine's key may restart its agent when it stops answering), the serial and end of the certificate the engine signed for it, and the revoked certificates (docs/pki.md)",
     .sqlite = "ALTER TABLE hosts ADD COLUMN ssh_json TEXT;"
         "ALTER TABLE hosts ADD COLUMN cert_serial TEXT NOT NULL DEFAULT '';"
         "ALTER TABLE hosts ADD COLUMN cert_expires INTEGER NOT NULL DEFAULT 0;"
         "CREATE TABLE revoked_certificates (serial TEXT PRIMARY KEY, subject TEXT NOT NULL,"
         " reason TEXT NOT NULL DEFAULT '', revoked_at INTEGER NOT NULL);",
     .pg = "ALTER TABLE hosts ADD COLUMN ssh_json " T ", ADD COLUMN cert_serial " T " NOT NULL DEFAULT '',"
         " ADD COLUMN cert_expires BIGINT NOT NULL DEFAULT 0;"
         "CREATE TABLE revoked_certificates (serial " T " PRIMARY KEY, subject " T " NOT NULL,"
         " reason " T " NOT NULL DEFAULT '', revoked_at BIGINT NOT NULL);"},
    {16, "HA reservation (docs/fencing.md): a cluster's last verdict whether its HA VMs could all restart if any one host failed",
     .sqlite = "ALTER TABLE clusters ADD COLUMN ha_reservation_json TEXT;",
     .pg = "ALTER TABLE clusters ADD COLUMN ha_reservation_json " T ";"},
    {17, "VM leases (docs/availability.md \"VM leases\"): the data domain holding a VM's sanlock lease, if it has one",
     .sqlite = "ALTER TABLE vms ADD COLUMN lease_sd_id TEXT REFERENCES storage_domains(id);",
     .pg = "ALTER TABLE vms ADD COLUMN lease_sd_id " T " REFERENCES storage_domains(id);"},
    {18, "MAC pools (docs/networks.md \"MAC pools\"): named pools of MAC ranges, assigned to clusters; the single pool before them becomes the Default pool (its ranges are filled from --mac-pool at the engine's start), every cluster uses it and every MAC already given stays, counted in it",
     .sqlite = "CREATE TABLE mac_pools (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
         " description TEXT NOT NULL DEFAULT '', ranges_json TEXT NOT NULL DEFAULT '[]',"
         " allow_duplicates INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);"
         "INSERT INTO mac_pools (id, name, description, created_at) VALUES (" MACPOOL_DEFAULT_SQL ", 'Default',"
         " 'The engine''s MAC pool', 0);"
         "ALTER TABLE clusters ADD COLUMN mac_pool_id TEXT NOT NULL DEFAULT " MACPOOL_DEFAULT_SQL ";"
         "ALTER TABLE macs ADD COLUMN pool_id TEXT NOT NULL DEFAULT " MACPOOL_DEFAULT_SQL ";"
         "CREATE INDEX macs_pool ON macs(pool_id);",
     .pg = "CREATE TABLE mac_pools (id " T " PRIMARY KEY, name " T " NOT NULL UNIQUE,"
         " description " T " NOT NULL DEFAULT '', ranges_json " T " NOT NULL DEFAULT '[]',"
         " allow_duplicates BIGINT NOT NULL DEFAULT 0, created_at BIGINT NOT NULL);"
         "INSERT INTO mac_pools (id, name, description, created_at) VALUES (" MACPOOL_DEFAULT_SQL ", 'Default',"
         " 'The engine''s MAC pool', 0);"
         "ALTER TABLE clusters ADD COLUMN mac_pool_id " T " NOT NULL DEFAULT " MACPOOL_DEFAULT_SQL ";"
         "ALTER TABLE macs ADD COLUMN pool_id " T " NOT NULL DEFAULT " MACPOOL_DEFAULT_SQL ";"
         "CREATE INDEX macs_pool ON macs(pool_id);"},
    {19, "quotas (docs/permissions.md \"Quotas\"): a data center's quota mode; quotas of a data center with their limits (-1: unlimited), grace and threshold percentages, per-cluster and per-storage-domain limits; the quota each VM and disk consumes (no foreign key: a quota in use is refused removal by the engine); quotas join the object tree under their data center, so a permission on a quota (QuotaConsumer) lets its holder consume it",
     .sqlite = "DROP VIEW IF EXISTS object_ancestors;"
         "CREATE TABLE quotas (id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',"
         " datacenter_id TEXT NOT NULL REFERENCES datacenters(id), vcpus INTEGER NOT NULL DEFAULT -1,"
         " memory_mib INTEGER NOT NULL DEFAULT -1, storage_gib INTEGER NOT NULL DEFAULT -1,"
         " cluster_grace_pct INTEGER NOT NULL DEFAULT 20, storage_grace_pct INTEGER NOT NULL DEFAULT 20,"
         " cluster_threshold_pct INTEGER NOT NULL DEFAULT 80, storage_threshold_pct INTEGER NOT NULL DEFAULT 80,"
         " cluster_limits_json TEXT NOT NULL DEFAULT '[]', storage_limits_json TEXT NOT NULL DEFAULT '[]',"
         " created_at INTEGER NOT NULL, UNIQUE (datacenter_id, name));"
         "ALTER TABLE datacenters ADD COLUMN quota_mode TEXT NOT NULL DEFAULT 'disabled';"
         "ALTER TABLE vms ADD COLUMN quota_id TEXT;"
         "ALTER TABLE disks ADD COLUMN quota_id TEXT;"
         "CREATE INDEX vms_quota ON vms(quota_id);"
         "CREATE INDEX disks_quota ON disks(quota_id);"
         "CREATE VIEW object_ancestors AS" OBJECT_ANCESTORS_12
         " UNION ALL SELECT id, id FROM quotas UNION ALL SELECT id, datacenter_id FROM quotas;",
     .pg = "DROP VIEW IF EXISTS object_ancestors;"
         "CREATE TABLE quotas (id " T " PRIMARY KEY, name " T " NOT NULL, description " T " NOT NULL DEFAULT '',"
         " datacenter_id " T " NOT NULL REFERENCES datacenters(id), vcpus BIGINT NOT NULL DEFAULT -1,"
         " memory_mib BIGINT NOT NULL DEFAULT -1, storage_gib BIGINT NOT NULL DEFAULT -1,"
         " cluster_grace_pct BIGINT NOT NULL DEFAULT 20, storage_grace_pct BIGINT NOT NULL DEFAULT 20,"
         " cluster_threshold_pct BIGINT NOT NULL DEFAULT 80, storage_threshold_pct BIGINT NOT NULL DEFAULT 80,"
         " cluster_limits_json " T " NOT NULL DEFAULT '[]', storage_limits_json " T " NOT NULL DEFAULT '[]',"
         " created_at BIGINT NOT NULL, UNIQUE (datacenter_id, name));"
         "ALTER TABLE datacenters ADD COLUMN quota_mode " T " NOT NULL DEFAULT 'disabled';"
         "ALTER TABLE vms ADD COLUMN quota_id " T ";"
         "ALTER TABLE disks ADD COLUMN quota_id " T ";"
         "CREATE INDEX vms_quota ON vms(quota_id);"
         "CREATE INDEX disks_quota ON disks(quota_id);"
         "CREATE VIEW object_ancestors AS" OBJECT_ANCESTORS_12
         " UNION ALL SELECT id, id FROM quotas UNION ALL SELECT id, datacenter_id FROM quotas;"},
    {20, "memory volumes (docs/storage.md \"Memory volumes\"): the saved memory of a suspended VM, restored at its next start, and of a snapshot taken with its memory state ({domain, image, volume}; NULL: none)",
     .sqlite = "ALTER TABLE vms ADD COLUMN memory_json TEXT;"
         "ALTER TABLE snapshots ADD COLUMN memory_json TEXT;",
     .pg = "ALTER TABLE vms ADD COLUMN memory_json " T ";"
         "ALTER TABLE snapshots ADD COLUMN memory_json " T ";"},
    {21, "messages in every language (docs/architecture.md \"Languages\"): an event's message and a job's detail also as a message id (the English printf format) and its arguments (a JSON array), rendered per request in the language asked for; older rows keep only their English text",
     .sqlite = "ALTER TABLE events ADD COLUMN message_id TEXT;"
         "ALTER TABLE events ADD COLUMN message_args TEXT;"
         "ALTER TABLE jobs ADD COLUMN detail_id TEXT;"
         "ALTER TABLE jobs ADD COLUMN detail_args TEXT;",
     .pg = "ALTER TABLE events ADD COLUMN message_id " T ", ADD COLUMN message_args " T ";"
         "ALTER TABLE jobs ADD COLUMN detail_id " T ", ADD COLUMN detail_args " T ";"},
    {22, "snapshot order: a VM's snapshots are listed in the order they were taken, also within one second (created_at has second resolution): seq counts them per VM; SQLite's older rows take their insertion order",
     .sqlite = "ALTER TABLE snapshots ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;"
         "UPDATE snapshots SET seq = rowid;",
     .pg = "ALTER TABLE snapshots ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;"},
    {23, "cluster migration policies (docs/migration.md \"Migration policy\"): how the cluster's VMs migrate; NULL: the defaults",
     .sqlite = "ALTER TABLE clusters ADD COLUMN migration_json TEXT;",
     .pg = "ALTER TABLE clusters ADD COLUMN migration_json " T ";"},
    {24, "why a VM is paused (docs/rest-api.md, VMs: pause_reason), as its host's monitor last read it: enospc, ioerror, user, migration, ...; empty when it is not paused",
     .sqlite = "ALTER TABLE vms ADD COLUMN pause_reason TEXT NOT NULL DEFAULT '';",
     .pg = "ALTER TABLE vms ADD COLUMN pause_reason " T " NOT NULL DEFAULT '';"},
    {25, "a job's description and a host's status detail in every language (docs/rest-api.md \"Languages\"): also as a message id and its arguments, like an event's message; older rows keep only their English text",
     .sqlite = "ALTER TABLE jobs ADD COLUMN description_id TEXT;"
         "ALTER TABLE jobs ADD COLUMN description_args TEXT;"
         "ALTER TABLE hosts ADD COLUMN status_detail_id TEXT;"
         "ALTER TABLE hosts ADD COLUMN status_detail_args TEXT;",
     .pg = "ALTER TABLE jobs ADD COLUMN description_id " T ", ADD COLUMN description_args " T ";"
         "ALTER TABLE hosts ADD COLUMN status_detail_id " T ", ADD COLUMN status_detail_args " T ";"},
    {26, "events outlive their object (docs/rest-api.md \"Events\"): a removed object's events keep the object that was above it in the permission tree (parent_id; NULL: the object exists, or had none), so who may see that parent still sees them; events by object and by parent are found by indexes",
     .sqlite = "ALTER TABLE events ADD COLUMN parent_id TEXT;"
         "CREATE INDEX events_object ON events(object_id);"
         "CREATE INDEX events_parent ON events(parent_id);",
     .pg = "ALTER TABLE events ADD COLUMN parent_id " T ";"
         "CREATE INDEX events_object ON events(object_id);"
         "CREATE INDEX events_parent ON events(parent_id);"},
    {27, "a directory profile's type (docs/permissions.md \"Directory users\"): 'ldap' (OpenLDAP, 389-DS, IdM) or 'ad' (Active Directory: users by sAMAccountName or userPrincipalName, nested groups, disabled accounts); older profiles are 'ldap'; and the CA its certificate chains to when not the engine's (ca_cert, PEM; '' the engine's)",
     .sqlite = "ALTER TABLE domains ADD COLUMN type TEXT NOT NULL DEFAULT 'ldap';"
         "ALTER TABLE domains ADD COLUMN ca_cert TEXT NOT NULL DEFAULT '';",
     .pg = "ALTER TABLE domains ADD COLUMN type " T " NOT NULL DEFAULT 'ldap', ADD COLUMN ca_cert " T " NOT NULL DEFAULT '';"},
    {28, "cluster fencing policies (docs/fencing.md \"Fencing policy\"): when the engine fences a non-responsive host of the cluster on its own; NULL: the defaults",
     .sqlite = "ALTER TABLE clusters ADD COLUMN fencing_json TEXT;",
     .pg = "ALTER TABLE clusters ADD COLUMN fencing_json " T ";"},
    {29, "a host NIC's largest MTU as its agent reports it (IFLA_MAX_MTU; docs/networks.md \"Host network setup\"), so a network whose MTU it cannot carry is refused before anything is sent; NULL: not reported yet",
     .sqlite = "ALTER TABLE host_nics ADD COLUMN max_mtu INTEGER;",
     .pg = "ALTER TABLE host_nics ADD COLUMN max_mtu BIGINT;"},
    {30, "a live move in doubt (docs/storage.md \"A live move in doubt\"): the storage domain of a disk's other copy while its status is indoubt (its storage_domain_id names the one it keeps until resolved; NULL: none)",
     .sqlite = "ALTER TABLE disks ADD COLUMN doubt_domain_id TEXT;",
     .pg = "ALTER TABLE disks ADD COLUMN doubt_domain_id " T ";"},
    {31, "a data center's newest master version (docs/storage.md \"A lost master\"): the highest MASTER_VERSION the engine saw its master written with (SPM start, attach, master move, reconstruction); a master reconstructed without an SPM gets one above it, and the election asks SPM.start to refuse a domain below it (an old master put back)",
     .sqlite = "ALTER TABLE datacenters ADD COLUMN master_version INTEGER NOT NULL DEFAULT 0;",
     .pg = "ALTER TABLE datacenters ADD COLUMN master_version BIGINT NOT NULL DEFAULT 0;"},
    {32, "a cluster's HA reservation switch (docs/fencing.md \"HA reservation\", RHV TR ch. 5.8): 1 the engine reports whether its HA VMs could all restart after any one host failure, raises events and weighs placements by it; 0 (default, as in RHV) none of that",
     .sqlite = "ALTER TABLE clusters ADD COLUMN ha_reservation_enabled INTEGER NOT NULL DEFAULT 0;",
     .pg = "ALTER TABLE clusters ADD COLUMN ha_reservation_enabled BIGINT NOT NULL DEFAULT 0;"},
    {33, "the destination of a VM's migration (docs/migration.md \"The engine's view\"; RHV's migrating_to_vds): set by the migrate job once it chose the host, cleared when the VM settles on one host; shown only while the VM is migratingfrom",
     .sqlite = "ALTER TABLE vms ADD COLUMN migrating_to_host_id TEXT;",
     .pg = "ALTER TABLE vms ADD COLUMN migrating_to_host_id " T ";"},
};
const size_t vr_nmigrations = sizeof(vr_migrations) / sizeof(vr_migrations[0]);
