// The serial console as a terminal: xterm.js emulates it (colours, cursor
// moves, line editing the guest echoes), every keystroke goes to the guest
// as the bytes a terminal sends (Enter is CR, Backspace DEL, arrows escape
// sequences), and the terminal fits the dialog, refitting when it resizes.
// A serial line carries no window size: a guest learns it by asking the
// terminal (`resize`, which xterm.js answers) or from `stty`.
import { useEffect, useRef, useState } from "preact/hooks";
import { Terminal } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";
import "@xterm/xterm/css/xterm.css";
import { openTerminal } from "./terminal-styles.js";

// xterm's own CSS, emitted by the build next to this module as console.css
// and linked (a same-origin stylesheet, which the CSP admits) before the
// first terminal opens.
const CSS = "/portal/console.css";
const FONT = "Red Hat Mono, monospace"; // PatternFly's monospace face (app.css)
let cssLoaded = null;

function loadCss() {
  if (!cssLoaded) {
    cssLoaded = new Promise((resolve, reject) => {
      const link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = CSS;
      link.onload = resolve;
      link.onerror = () => { cssLoaded = null; link.remove(); reject(new Error(CSS)); };
      document.head.appendChild(link);
    }).then(() => document.fonts.load(`14px ${FONT}`).catch(() => null));
  }
  return cssLoaded;
}

// The whole buffer (scrollback and screen) as text, a line each.
function bufferText(term) {
  const b = term.buffer.active;
  const lines = [];
  for (let i = 0; i < b.length; i++) lines.push(b.getLine(i)?.translateToString(true) ?? "");
  return lines.join("\n");
}

export function SerialTerminal({ vm, api, t, url }) {
  const box = useRef(null);
  const [state, setState] = useState(t("console.connecting"));
  useEffect(() => {
    let gone = false;
    let sock = null;
    let term = null;
    let observer = null;
    const send = (bytes) => { if (sock && sock.readyState === WebSocket.OPEN) sock.send(bytes); };
    (async () => {
      try {
        await loadCss();
        if (gone) return;
        term = new Terminal({
          fontFamily: FONT, fontSize: 14, scrollback: 5000, cursorBlink: true,
          theme: { background: "#151515", foreground: "#f0f0f0" },
        });
        const fit = new FitAddon();
        term.loadAddon(fit);
        openTerminal(term, box.current);
        fit.fit();
        observer = new ResizeObserver(() => fit.fit());
        observer.observe(box.current);
        // What the terminal holds and its size (tests read them).
        box.current.vireoText = () => bufferText(term);
        box.current.vireoSize = () => [term.cols, term.rows];
        const enc = new TextEncoder();
        term.onData((d) => send(enc.encode(d)));
        term.onBinary((d) => send(Uint8Array.from(d, (c) => c.charCodeAt(0) & 0xff)));
        const tk = await api("POST", `/api/vms/${vm.id}/ticket`, { console: "serial" });
        if (gone) return;
        sock = new WebSocket(url(tk.url));
        sock.binaryType = "arraybuffer";
        sock.onopen = () => { setState(t("console.connected")); term.focus(); };
        sock.onmessage = (m) => term.write(typeof m.data === "string" ? m.data : new Uint8Array(m.data));
        sock.onclose = (e) => setState(t("console.closed") + (e.reason ? ": " + e.reason : ""));
      } catch (e) {
        setState(t("console.refused", { reason: e.message }));
      }
    })();
    return () => {
      gone = true;
      if (observer) observer.disconnect();
      if (sock) sock.close();
      if (term) term.dispose();
    };
  }, [vm.id]);
  return (
    <div class="vireo-console">
      <p class="vireo-console-state" data-console-state="serial">{t("console.serial")}: {state}</p>
      <div class="vireo-terminal" data-console-terminal ref={box} role="region" aria-label={t("console.output")} />
    </div>
  );
}
