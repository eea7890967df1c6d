// xterm.js writes some of its CSS (colours, font, cell size, scrollbar) as
// text into <style> elements it creates while a terminal opens. The
// portal's Content-Security-Policy (style-src 'self', docs/portal.md) makes
// the browser refuse such inline style blocks, and a CSP nonce would need a
// per-response page the engine does not make. Stylesheets built through the
// CSSOM (a constructed CSSStyleSheet adopted by the document) are not inline
// markup, so the policy does not govern them: while xterm opens, each
// <style> it asks for is a hidden stand-in element whose text goes into
// such a sheet, and removing the stand-in drops the sheet.

function standIn(doc, make) {
  const el = make("vireo-terminal-style");
  el.hidden = true;
  const sheet = new doc.defaultView.CSSStyleSheet();
  let text = "";
  doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
  Object.defineProperty(el, "textContent", {
    get: () => text,
    set: (v) => { text = String(v ?? ""); sheet.replaceSync(text); },
  });
  const remove = el.remove.bind(el);
  el.remove = () => {
    doc.adoptedStyleSheets = doc.adoptedStyleSheets.filter((s) => s !== sheet);
    remove();
  };
  return el;
}

// term.open(parent) with xterm's style elements turned into adopted sheets.
// Only createElement calls made during open() are affected: xterm makes all
// of its style elements there (the renderer and the viewport).
export function openTerminal(term, parent) {
  const doc = parent.ownerDocument;
  const make = doc.createElement.bind(doc);
  doc.createElement = (name, options) =>
    (String(name).toLowerCase() === "style" ? standIn(doc, make) : make(name, options));
  try {
    term.open(parent);
  } finally {
    delete doc.createElement; // the prototype's again
  }
}
