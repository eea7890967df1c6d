// Builds the portal into OUTDIR (default ./dist): index.html, app.js,
// app.css and the fonts the CSS names, each text file also as FILE.gz
// (the engine sends the .gz to clients that accept gzip). One bundle
// serves both portals; the page picks one by its path (/admin or /vm).
//   node build.mjs [OUTDIR]
import * as esbuild from "esbuild";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

const here = path.dirname(new URL(import.meta.url).pathname);
const out = path.resolve(process.argv[2] || path.join(here, "dist"));
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });

await esbuild.build({
  entryPoints: { app: path.join(here, "src/main.jsx"), "app-style": path.join(here, "src/app.css") },
  outdir: out,
  bundle: true,
  minify: true,
  format: "iife",
  target: ["chrome110", "firefox110", "safari16"],
  jsx: "automatic",
  jsxImportSource: "preact",
  publicPath: "/portal/",
  assetNames: "assets/[name]-[hash]",
  loader: { ".woff2": "file", ".svg": "file" },
  legalComments: "linked",
  logLevel: "warning",
});
// The consoles: loaded on demand (import("/portal/console.js")), an ES
// module since noVNC awaits at its top level.
await esbuild.build({
  entryPoints: { console: path.join(here, "src/console.jsx") },
  outdir: out,
  bundle: true,
  minify: true,
  format: "esm",
  target: ["chrome110", "firefox110", "safari16"],
  jsx: "automatic",
  jsxImportSource: "preact",
  legalComments: "linked",
  logLevel: "warning",
});
// esbuild names the CSS after its entry; the page links app.css.
fs.renameSync(path.join(out, "app-style.css"), path.join(out, "app.css"));
for (const f of fs.readdirSync(out))
  if (f.startsWith("app-style.") && f !== "app-style.css") fs.rmSync(path.join(out, f));
fs.copyFileSync(path.join(here, "src/index.html"), path.join(out, "index.html"));

// Precompressed copies of the text files (fonts are compressed already).
let plain = 0, gz = 0;
const walk = (d) => {
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) { walk(p); continue; }
    if (!/\.(html|js|css|svg|txt)$/.test(e.name)) continue;
    const data = fs.readFileSync(p);
    const z = zlib.gzipSync(data, { level: 9 });
    fs.writeFileSync(p + ".gz", z);
    plain += data.length;
    gz += z.length;
  }
};
walk(out);
console.log(`portal built into ${out}: ${(plain / 1024).toFixed(0)} KiB of text, ${(gz / 1024).toFixed(0)} KiB gzip'ed`);
