// A VM's consoles, loaded only when a console is opened (/portal/console.js,
// an ES module: noVNC needs one), so the portal's first load stays small.
// Each console takes a one-time ticket (POST /api/vms/ID/ticket) and opens
// the engine's WebSocket proxy with it: the serial console in a terminal
// emulator (xterm.js, terminal.jsx), the graphical one through noVNC,
// whose VNC password is the same ticket. Rendered into the element the
// portal hands over, as a Preact tree of its own.
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import RFB from "@novnc/novnc";
import { SerialTerminal } from "./terminal.jsx";

const wsUrl = (path) => (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;

function Graphics({ vm, api, t }) {
  const box = useRef(null);
  const [state, setState] = useState(t("console.connecting"));
  useEffect(() => {
    let rfb = null;
    let timer = 0;
    let gone = false;
    // Drawn once a framebuffer update painted a pixel (tests read
    // window.__vireoVncDrawn; a fresh canvas is all transparent).
    const watch = () => {
      timer = setInterval(() => {
        const c = box.current && box.current.querySelector("canvas");
        if (!c || !c.width || !c.height) return;
        const d = c.getContext("2d").getImageData(0, 0, Math.min(c.width, 64), Math.min(c.height, 64)).data;
        for (let i = 3; i < d.length; i += 4) {
          if (d[i]) {
            window.__vireoVncDrawn = true;
            setState(t("console.connected"));
            clearInterval(timer);
            return;
          }
        }
      }, 250);
    };
    (async () => {
      try {
        const tk = await api("POST", `/api/vms/${vm.id}/ticket`, { console: "graphics" });
        if (gone) return;
        rfb = new RFB(box.current, wsUrl(tk.url), { credentials: { password: tk.ticket }, wsProtocols: ["binary"] });
        rfb.scaleViewport = true;
        rfb.addEventListener("connect", () => { setState(t("console.waiting")); watch(); });
        rfb.addEventListener("credentialsrequired", () => rfb.sendCredentials({ password: tk.ticket }));
        rfb.addEventListener("securityfailure", (e) => setState(t("console.refused", { reason: e.detail.reason || t("console.vnc-auth") })));
        rfb.addEventListener("disconnect", (e) => setState(t(e.detail.clean ? "console.closed" : "console.lost")));
      } catch (e) {
        setState(t("console.refused", { reason: e.message }));
      }
    })();
    return () => { gone = true; clearInterval(timer); if (rfb) rfb.disconnect(); };
  }, [vm.id]);
  return (
    <div class="vireo-console">
      <p class="vireo-console-state" data-console-state="graphics">{t("console.graphics")}: {state}</p>
      <div class="vireo-console-screen" ref={box} data-console-screen />
    </div>
  );
}

function ConsoleView({ vm, api, t }) {
  const [kind, setKind] = useState("serial");
  const tab = (k, label, disabled) => (
    <li class={"pf-v6-c-tabs__item" + (kind === k ? " pf-m-current" : "")} role="presentation">
      <button class="pf-v6-c-tabs__link" role="tab" aria-selected={kind === k} data-console-tab={k}
              disabled={disabled} onClick={() => setKind(k)}>
        <span class="pf-v6-c-tabs__item-text">{label}</span>
      </button>
    </li>
  );
  return (
    <div>
      <div class="pf-v6-c-tabs" role="region" aria-label={t("console.consoles")}>
        <ul class="pf-v6-c-tabs__list" role="tablist">
          {tab("serial", t("console.serial"), vm.serial_console === false)}
          {tab("graphics", t("console.graphics"), !vm.vnc)}
        </ul>
      </div>
      {kind === "serial" ? <SerialTerminal vm={vm} api={api} t={t} url={wsUrl} /> : <Graphics vm={vm} api={api} t={t} />}
    </div>
  );
}

// Render the consoles of vm into el; returns the function that removes them
// (closing their connections).
export function mount(el, { vm, api, t }) {
  render(<ConsoleView vm={vm} api={api} t={t} />, el);
  return () => render(null, el);
}
