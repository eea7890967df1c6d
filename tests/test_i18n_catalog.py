"""po/ja.po covers the engine and the agent (whose errors reach the engine
with their ids): every message id xgettext extracts from src/engine,
src/agent and src/common now (the formats of vr_error_set, vr_event,
vr_http_fault and N_(...), with scripts/update-po's keywords) has a
Japanese translation that is neither empty nor fuzzy, and msgfmt -c
accepts each translation's arguments (count, order, types) against its
message. A new message without its translation fails here, by name.
Needs no engine."""

import os
import re
import subprocess
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _po_entries(path):
    """{msgid: (msgstr, fuzzy)} of a --no-wrap .po or .pot file (obsolete
    #~ entries left out)."""
    out = {}
    with open(path, encoding="utf-8") as f:
        blocks = f.read().split("\n\n")
    for b in blocks:
        lines = [l for l in b.splitlines() if not l.startswith("#~")]
        text = "\n".join(lines)
        m = re.search(r'^msgid "(.*)"$', text, re.M)
        s = re.search(r'^msgstr "(.*)"$', text, re.M)
        if m and s and m.group(1):
            out[m.group(1)] = (s.group(1), bool(re.search(r"^#,.*\bfuzzy\b", text, re.M)))
    return out


def _keywords():
    with open(os.path.join(TOP, "scripts", "update-po")) as f:
        m = re.search(r"^KEYWORDS=\((.*?)\)$", f.read(), re.M | re.S)
    return m.group(1).split()


def test_every_engine_message_has_a_japanese_translation(ctx):
    files = sorted(os.path.relpath(os.path.join(d, n), TOP)
                   for top in ("src/engine", "src/agent", "src/common")
                   for d, _, names in os.walk(os.path.join(TOP, top)) for n in names if n.endswith(".c"))
    with tempfile.TemporaryDirectory() as tmp:
        pot = os.path.join(tmp, "vireo.pot")
        p = subprocess.run(["xgettext", "--from-code=UTF-8", "--language=C", "--no-wrap",
                            *_keywords(), "-o", pot, *files], cwd=TOP, capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        extracted = _po_entries(pot)
    assert len(extracted) > 700, len(extracted)  # the keywords still find the engine's messages
    ja = _po_entries(os.path.join(TOP, "po", "ja.po"))
    missing = [m for m in extracted if m not in ja or not ja[m][0] or ja[m][1]]
    assert not missing, ("messages without a Japanese translation (run scripts/update-po, then "
                         "translate them in po/ja.po):\n  " + "\n  ".join(missing))
    # Translations are Japanese: each has kana or kanji unless the message
    # is only arguments, punctuation and a function's name ("%s: %s",
    # "gnutls_init: %s").
    for m, (t, _) in ja.items():
        words = re.sub(r"%[^a-zA-Z]*[a-zA-Z]", "", m)
        if m in extracted and re.search(r"[a-z]{3}", words) and not re.fullmatch(r"[a-z_]+: ", words):
            assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", t), (m, t)


LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"')


def _arguments(src, i):
    """The argument texts of the call whose '(' is at src[i]."""
    depth, start, out, j, instr, esc = 0, None, [], i, False, False
    while j < len(src):
        ch = src[j]
        if instr:
            esc = not esc and ch == "\\"
            instr = esc or ch != '"'
        elif ch == '"':
            instr = True
        elif ch == "(":
            depth += 1
            if depth == 1:
                start = j + 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return out + [src[start:j]]
        elif ch == "," and depth == 1:
            out.append(src[start:j])
            start = j + 1
        j += 1
    return out


def test_formats_chosen_in_place_are_marked(ctx):
    """xgettext takes only the first literal of `cond ? "a" : "b"` given
    to a keyword: every literal of such a choice must be marked N_()."""
    keywords = {k.split("=")[1].split(":")[0]: int(k.split(":")[1])
                for k in _keywords() if ":" in k}
    bad = []
    for top in ("src/engine", "src/agent", "src/common"):
        for d, _, names in os.walk(os.path.join(TOP, top)):
            for n in names:
                if not n.endswith(".c"):
                    continue
                path = os.path.join(d, n)
                with open(path) as f:
                    src = f.read()
                for kw, pos in keywords.items():
                    for m in re.finditer(r"\b%s\s*\(" % kw, src):
                        args = _arguments(src, m.end() - 1)
                        if len(args) < pos:
                            continue
                        arg = args[pos - 1]
                        # a literal that is a branch's result (after ? or :), not marked
                        bare = re.sub(r"N_\((?:\s*" + LITERAL.pattern + r")+\s*\)", "N", arg)
                        if re.search(r"[?:]\s*L", LITERAL.sub("L", bare)):
                            line = src[:m.start()].count("\n") + 1
                            bad.append(f"{os.path.relpath(path, TOP)}:{line}: {' '.join(arg.split())[:100]}")
    assert not bad, "formats chosen in place without N_() on each literal:\n  " + "\n  ".join(bad)


def test_translations_take_the_arguments_of_their_messages(ctx):
    p = subprocess.run(["msgfmt", "-c", "--statistics", "-o", "/dev/null", os.path.join(TOP, "po", "ja.po")],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "untranslated" not in p.stderr and "fuzzy" not in p.stderr, p.stderr
