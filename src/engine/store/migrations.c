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
};
const size_t vr_nmigrations = sizeof(vr_migrations) / sizeof(vr_migrations[0]);
