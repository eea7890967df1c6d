// What a running VM's guest agent reports, as the API gives it in the
// VM's guest_info (docs/rest-api.md "Guest agent"): OS, host name and IP
// addresses. Every value is the guest's own text, shown as data.
import { t } from "./i18n.js";

const osText = (os) => (os ? os.pretty_name || [os.name, os.version].filter(Boolean).join(" ") : "");

// Nothing for a VM that is not running; a note when its agent says nothing.
export function GuestInfo({ vm }) {
  if (!["up", "migratingfrom", "paused", "poweringdown"].includes(vm.status)) return null;
  const g = vm.guest_info;
  if (!g) return <p class="vireo-guest vireo-guest-none">{t("guest.none")}</p>;
  const os = g.os || {};
  const item = (key, value, attr) => (value ? [<dt>{t(key)}</dt>,
    <dd class="vireo-data" data-guest={attr}>{value}</dd>] : []);
  return (
    <dl class="vireo-guest" aria-label={t("guest.title")}>
      {item("guest.os", osText(os), "os")}
      {item("guest.kernel", os.kernel_release, "kernel")}
      {item("guest.hostname", g.hostname, "hostname")}
      {item("guest.ips", (g.ips || []).join(", "), "ips")}
    </dl>
  );
}
