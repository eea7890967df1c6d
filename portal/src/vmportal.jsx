// The VM Portal: the VMs the logged-in user holds a permission on (the
// API filters the list), as cards with start, stop, console, snapshots and disks;
// the pools they may use, each with "take a VM" (POST
// /api/vmpools/ID/allocatevm); for a power user a new VM from a template
// (vmpower.jsx); the quotas they see with their use.
import { useEffect, useState } from "preact/hooks";
import { api, listPath } from "./api.js";
import { ActionMessage, VmActions, followAction } from "./admin.jsx";
import { GuestInfo } from "./guest.jsx";
import { fmtNumber, t } from "./i18n.js";
import { Alert, Button, StatusLabel, usePoll } from "./ui.jsx";
import { DisksDialog, NewVmDialog, Quotas, SnapshotsDialog, createVmClusters } from "./vmpower.jsx";

function Pools({ onMessage, onTaken }) {
  const [pools, setPools] = useState(null);
  usePoll(async (current) => {
    try {
      const d = await api("GET", listPath("vmpools", { max: 100 }));
      if (current()) setPools(d.vmpools);
    } catch (e) {
      if (current()) setPools([]);
    }
  }, [], 5000);
  const take = async (pool) => {
    let r;
    try {
      r = await api("POST", `/api/vmpools/${pool.id}/allocatevm`, {});
    } catch (e) {
      onMessage({ variant: "danger", text: e.message });
      return;
    }
    onTaken();
    const vm = await api("GET", `/api/vms/${r.vm_id}`).catch(() => ({ name: "" }));
    const what = t("pool.taken", { vm: vm.name, pool: pool.name });
    onMessage({ variant: "success", text: what });
    if (r.start_job) // its id: a down VM is started for the user
      followAction(r.start_job, t("pool.taken-start", { vm: vm.name, pool: pool.name }), onMessage);
  };
  if (!pools || !pools.length) return null;
  return (
    <section class="vireo-pools" aria-label={t("vmportal.pools")} data-list="my-pools">
      <h2 class="pf-v6-c-title pf-m-lg">{t("vmportal.pools")}</h2>
      <div class="pf-v6-l-gallery pf-m-gutter vireo-cards">
        {pools.map((p) => (
          <article class="pf-v6-c-card" key={p.id} data-id={p.id} data-name={p.name}>
            <div class="pf-v6-c-card__title"><h3 class="pf-v6-c-card__title-text vireo-name vireo-data">{p.name}</h3></div>
            <div class="pf-v6-c-card__body">
              <p class="vireo-desc vireo-data">{p.description || ""}</p>
              <p>{t("pool.free", { free: fmtNumber(Math.max(0, (p.vm_count || 0) - (p.allocated || 0))), size: fmtNumber(p.vm_count || 0) })}</p>
            </div>
            <div class="pf-v6-c-card__footer">
              <Button small variant="primary" data-action="take" onClick={() => take(p)}>{t("button.take-vm")}</Button>
            </div>
          </article>
        ))}
      </div>
    </section>
  );
}

export function VmPortal() {
  const [vms, setVms] = useState(null);
  const [error, setError] = useState("");
  const [message, setMessage] = useState(null);
  const [power, setPower] = useState(null); // the clusters where the user may make VMs (null: not known yet)
  const [dialog, setDialog] = useState(null);
  const [made, setMade] = useState(0); // VMs made here: the quotas' use is read again
  useEffect(() => { createVmClusters().then(setPower, () => setPower([])); }, []);
  const reread = usePoll(async () => {
    try {
      const d = await api("GET", listPath("vms", { max: 100 }));
      setVms(d.vms);
      setError("");
    } catch (e) {
      setError(e.message);
    }
  }, []);
  return (
    <section class="pf-v6-c-page__main-section" aria-label={t("vmportal.mine")} data-list="my-vms"
             data-power={power === null ? "" : String(power.length > 0)}>
      <h1 class="pf-v6-c-title pf-m-xl">{t("vmportal.mine")}</h1>
      {power && power.length > 0 && <p><Button variant="primary" id="vmportal-new-vm" onClick={() => setDialog({ kind: "new" })}>
        {t("button.new-vm")}</Button></p>}
      {dialog && dialog.kind === "new" && <NewVmDialog clusters={power} onClose={() => setDialog(null)} onMessage={setMessage}
                                                         onCreated={() => { reread(); setMade((x) => x + 1); }} />}
      {dialog && dialog.kind === "snapshots" && <SnapshotsDialog vm={dialog.vm} onClose={() => setDialog(null)} />}
      {dialog && dialog.kind === "disks" && <DisksDialog vm={dialog.vm} onClose={() => setDialog(null)} />}
      {error && <Alert title={error} />}
      <ActionMessage message={message} />
      {vms && vms.length === 0 && <p class="vireo-empty">{t("vmportal.none")}</p>}
      <div class="pf-v6-l-gallery pf-m-gutter vireo-cards">
        {(vms || []).map((vm) => (
          <article class="pf-v6-c-card" key={vm.id} data-id={vm.id} data-name={vm.name}>
            <div class="pf-v6-c-card__title"><h2 class="pf-v6-c-card__title-text vireo-name vireo-data">{vm.name}</h2></div>
            <div class="pf-v6-c-card__body">
              <p><StatusLabel status={vm.status} /></p>
              <p class="vireo-desc vireo-data">{vm.description || ""}</p>
              <p>{t("vmportal.size", { vcpus: vm.vcpus, memory: vm.memory_mib })}</p>
              <GuestInfo vm={vm} />
            </div>
            <div class="pf-v6-c-card__footer">
              <VmActions vm={vm} onMessage={setMessage}>
                <Button small data-action="snapshots" onClick={() => setDialog({ kind: "snapshots", vm })}>
                  {t("button.snapshots")}</Button>
                <Button small data-action="disks" onClick={() => setDialog({ kind: "disks", vm })}>{t("button.disks")}</Button>
              </VmActions>
            </div>
          </article>
        ))}
      </div>
      <Pools onMessage={setMessage} onTaken={reread} />
      <Quotas gen={made} />
    </section>
  );
}
