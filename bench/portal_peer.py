#!/usr/bin/env python3
"""The first load of oVirt's VM Portal, measured as a floor: oVirt
publishes no load size for its portals, so this bundles the runtime
libraries its VM Portal is built on (ovirt-web-ui's package.json: React 16,
PatternFly 4's React components and tables, Redux with redux-saga, React
Router, intl-messageformat, moment, lodash, immutable, jQuery) under a
minimal page that uses what a VM list needs (page, masthead, navigation,
a table, a modal form, a button), with no application code at all, the way
our own portal is built (esbuild, minified, gzip -9), and sets the result
beside ours. Anything oVirt's real portal adds (its own code, charts,
consoles, translations) comes on top. It is not a strict floor either: a
bundler that shakes PatternFly's components or lodash more finely than
esbuild does with the packages as they ship could trim the script.

Needs npm and the npm registry (scripts/setup installs Node.js).
usage: bench/portal_peer.py [--build build]   (our portal: build/portal)"""

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))

# Versions as ovirt-web-ui pins them (its newest package.json read here).
DEPS = {
    "react": "16.14.0", "react-dom": "16.14.0",
    "@patternfly/react-core": "4.241.1", "@patternfly/react-table": "4.110.1",
    "@patternfly/react-icons": "4.92.1",
    "redux": "4.2.0", "react-redux": "7.2.9", "redux-saga": "1.2.1",
    "react-router-dom": "6.30.3", "intl-messageformat": "9.9.4",
    "moment": "2.29.4", "lodash": "4.17.21", "immutable": "4.0.0", "jquery": "3.6.0",
    "esbuild": "0.19.12",
}

ENTRY = r"""
import React from "react";
import ReactDOM from "react-dom";
import { createStore, applyMiddleware } from "redux";
import { Provider } from "react-redux";
import createSagaMiddleware from "redux-saga";
import { BrowserRouter } from "react-router-dom";
import { IntlMessageFormat } from "intl-messageformat";
import moment from "moment";
import { sortBy } from "lodash";
import { Map } from "immutable";
import $ from "jquery";
import { Page, Masthead, MastheadMain, Nav, NavList, NavItem, PageSidebar, PageSection, Button, Modal,
         Form, FormGroup, TextInput } from "@patternfly/react-core";
import { TableComposable, Thead, Tr, Th, Tbody, Td } from "@patternfly/react-table";
import "@patternfly/react-core/dist/styles/base.css";

const saga = createSagaMiddleware();
const store = createStore((s = Map()) => s, applyMiddleware(saga));
saga.run(function* () {});
const msg = new IntlMessageFormat("{n} VMs", "en");
const rows = sortBy([{ name: "vm1", up: moment().fromNow() }], "name");
const App = () => (
  <Provider store={store}><BrowserRouter>
    <Page header={<Masthead><MastheadMain>VM Portal</MastheadMain></Masthead>}
          sidebar={<PageSidebar nav={<Nav><NavList><NavItem>VMs</NavItem></NavList></Nav>} />}>
      <PageSection>
        <TableComposable><Thead><Tr><Th>{msg.format({ n: rows.length })}</Th></Tr></Thead>
          <Tbody>{rows.map(r => <Tr key={r.name}><Td>{r.name} {r.up}</Td></Tr>)}</Tbody></TableComposable>
        <Button>Run</Button>
        <Modal title="New VM" isOpen={false}><Form><FormGroup label="Name"><TextInput /></FormGroup></Form></Modal>
      </PageSection>
    </Page>
  </BrowserRouter></Provider>);
$(() => ReactDOM.render(<App />, document.getElementById("root")));
"""


def gz(path):
    with open(path, "rb") as f:
        return len(gzip.compress(f.read(), 9))


def fonts_used(css_path, outdir):
    """The woff2 fonts the page's CSS names (a browser fetches those of the
    text it shows: at most a regular and a bold face, as for ours)."""
    names = [n for n in os.listdir(outdir) if n.endswith(".woff2")]
    return sorted(names)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    a = ap.parse_args()
    ours_dir = os.path.join(TOP, a.build, "portal")
    if not os.path.isfile(os.path.join(ours_dir, "app.js")):
        subprocess.run([os.path.join(TOP, "scripts", "build-portal"), ours_dir], check=True)
    ours = {n: gz(os.path.join(ours_dir, n)) for n in ("index.html", "app.js", "app.css")}

    with tempfile.TemporaryDirectory(prefix="vireo-peer-") as d:
        with open(os.path.join(d, "package.json"), "w") as f:
            json.dump({"name": "peer", "private": True, "dependencies": DEPS}, f)
        with open(os.path.join(d, "entry.jsx"), "w") as f:
            f.write(ENTRY)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=d, check=True,
                       stdout=subprocess.DEVNULL)
        out = os.path.join(d, "out")
        subprocess.run([os.path.join(d, "node_modules", ".bin", "esbuild"), "entry.jsx", "--bundle", "--minify",
                        "--outdir=" + out, "--loader:.woff2=file", "--loader:.woff=file", "--loader:.svg=file",
                        "--loader:.jpg=file", "--loader:.png=file", "--define:process.env.NODE_ENV=\"production\"",
                        "--log-level=error"], cwd=d, check=True)
        peer_js, peer_css = gz(os.path.join(out, "entry.js")), gz(os.path.join(out, "entry.css"))
        peer_fonts = len(fonts_used(os.path.join(out, "entry.css"), out))

    total_ours = sum(ours.values())
    total_peer = peer_js + peer_css
    print(f"ours (index.html + app.js + app.css, gzip -9): {total_ours / 1024:.1f} KiB"
          f" (script {ours['app.js'] / 1024:.1f}, CSS {ours['app.css'] / 1024:.1f})")
    print(f"oVirt VM Portal's libraries alone, minimal page (script + CSS, gzip -9): {total_peer / 1024:.1f} KiB"
          f" (script {peer_js / 1024:.1f}, CSS {peer_css / 1024:.1f}; fonts not counted, {peer_fonts} files)")
    print(f"peer/ours = {total_peer / total_ours:.2f}x (oVirt's own code comes on top of the peer)")


if __name__ == "__main__":
    sys.exit(main())
