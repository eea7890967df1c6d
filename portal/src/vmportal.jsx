// The VM Portal: the VMs the logged-in user holds a permission on (the
// API filters the list), as cards with start and stop.
import { useState } from "preact/hooks";
import { api, listPath } from "./api.js";
import { VmActions } from "./admin.jsx";
import { Alert, StatusLabel, usePoll } from "./ui.jsx";

export function VmPortal() {
  const [vms, setVms] = useState(null);
  const [error, setError] = useState("");
  const [message, setMessage] = useState(null);
  usePoll(async () => {
    try {
      const d = await api("GET", listPath("vms", { max: 100 }));
      setVms(d.vms);
      setError("");
    } catch (e) {
      setError(e.message);
    }
  }, []);
  return (
    <section class="pf-v6-c-page__main-section" aria-label="My virtual machines" data-list="my-vms">
      <h1 class="pf-v6-c-title pf-m-xl">My virtual machines</h1>
      {error && <Alert title={error} />}
      {message && <Alert variant={message.variant} title={message.text} id="action-message" />}
      {vms && vms.length === 0 && (
        <p class="vireo-empty">You have no virtual machines. An administrator can give you permissions on some.</p>
      )}
      <div class="pf-v6-l-gallery pf-m-gutter vireo-cards">
        {(vms || []).map((vm) => (
          <article class="pf-v6-c-card" key={vm.id} data-id={vm.id} data-name={vm.name}>
            <div class="pf-v6-c-card__title"><h2 class="pf-v6-c-card__title-text vireo-name">{vm.name}</h2></div>
            <div class="pf-v6-c-card__body">
              <p><StatusLabel status={vm.status} /></p>
              <p class="vireo-desc">{vm.description || ""}</p>
              <p>{vm.vcpus} vCPU · {vm.memory_mib} MiB</p>
            </div>
            <div class="pf-v6-c-card__footer"><VmActions vm={vm} onMessage={setMessage} /></div>
          </article>
        ))}
      </div>
    </section>
  );
}
