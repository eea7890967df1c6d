"""Check requests and responses against docs/openapi.json (stdlib only).

    doc = openapi.load()
    openapi.validate_response(doc, "GET", "/api/hosts?max=5", 200, body)
    openapi.validate_request(doc, "POST", "/api/vms", {"name": "web1", ...})

Both raise AssertionError naming the operation and the exact place of the
first offending value, e.g.
    GET /api/hosts -> 200: body.hosts[0].status: "sleeping" is not one of [...]

`body` is the parsed JSON value (bytes are parsed first); None means "no
body" (a 204, or a request without one).

The schema validator covers the subset of OpenAPI 3.0 Schema Objects that
the document uses, and a little more: $ref (to anywhere in the document),
type with nullable, enum, format uuid, properties, required,
additionalProperties (false or a schema), items, min/maxItems, uniqueItems,
min/maxLength, pattern, minimum/maximum (and the 3.0 boolean exclusive
forms), multipleOf, min/maxProperties, allOf, anyOf, oneOf, not.
Annotations (description, example, default, readOnly...) are ignored."""

import json
import os
import re
from urllib.parse import parse_qsl, urlsplit

DOC_PATH = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                         "docs", "openapi.json"))
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_cache = {}


def _no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def load(path=None):
    """The parsed document (cached per path). Duplicate keys are an error."""
    path = os.path.abspath(path or DOC_PATH)
    if path not in _cache:
        with open(path, encoding="utf-8") as f:
            _cache[path] = json.load(f, object_pairs_hook=_no_duplicates)
    return _cache[path]


# ------------------------------------------------------------------ refs
def resolve(doc, ref):
    """The value a local reference ('#/components/schemas/Vm') points at."""
    if not isinstance(ref, str) or not ref.startswith("#"):
        raise AssertionError(f"$ref {ref!r}: only local references ('#/...') are supported")
    node = doc
    if ref in ("#", "#/"):
        return doc
    if not ref.startswith("#/"):
        raise AssertionError(f"$ref {ref!r}: not a JSON pointer")
    for raw in ref[2:].split("/"):
        key = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            raise AssertionError(f"$ref {ref!r} does not resolve (no {key!r})")
    return node


def _deref(doc, node, seen=None):
    """Follow a chain of $ref objects to the object they name."""
    seen = seen or set()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if ref in seen:
            raise AssertionError(f"$ref cycle through {ref!r}")
        seen.add(ref)
        node = resolve(doc, ref)
    return node


def iter_refs(node, where="#"):
    """Yield (location, ref) for every $ref in the document."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield where, node["$ref"]
        for k, v in node.items():
            yield from iter_refs(v, f"{where}/{k.replace('~', '~0').replace('/', '~1')}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from iter_refs(v, f"{where}/{i}")


def check_refs(doc):
    """Raise AssertionError unless every $ref resolves; return the set of refs."""
    refs = set()
    for where, ref in iter_refs(doc):
        try:
            resolve(doc, ref)
        except AssertionError as e:
            raise AssertionError(f"at {where}: {e}") from None
        refs.add(ref)
    return refs


# ------------------------------------------------------------ validation
def _sub(where, key):
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if _IDENT.match(key) else f"{where}[{key!r}]"


def _type_ok(t, v):
    if t == "object":
        return isinstance(v, dict)
    if t == "array":
        return isinstance(v, list)
    if t == "string":
        return isinstance(v, str)
    if t == "boolean":
        return isinstance(v, bool)
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    raise AssertionError(f"schema uses unknown type {t!r}")


def _json_type(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return type(v).__name__


def _short(v):
    try:
        text = json.dumps(v)
    except (TypeError, ValueError):
        text = repr(v)
    return text if len(text) <= 80 else text[:77] + "..."


def _same(a, b):
    """JSON equality (True is not 1, 1 equals 1.0)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def validate(doc, schema, value, where="body"):
    """Raise AssertionError('<where.path>: problem') if value does not match."""
    schema = _deref(doc, schema)
    if schema is True or schema == {}:
        return
    if schema is False:
        raise AssertionError(f"{where}: no value is allowed here (got {_short(value)})")
    if not isinstance(schema, dict):
        raise AssertionError(f"{where}: the schema is not an object: {schema!r}")

    t = schema.get("type")
    if value is None:
        if schema.get("nullable") is True:
            return
        if t is not None:
            raise AssertionError(f"{where}: null is not allowed (expected {t})")
    elif t is not None and not _type_ok(t, value):
        raise AssertionError(f"{where}: expected {t}, got {_json_type(value)} {_short(value)}")

    if "enum" in schema and not any(_same(value, e) for e in schema["enum"]):
        raise AssertionError(f"{where}: {_short(value)} is not one of {schema['enum']}")

    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            raise AssertionError(f"{where}: {_short(value)} is shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            raise AssertionError(f"{where}: {_short(value)} is longer than {schema['maxLength']}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            raise AssertionError(f"{where}: {_short(value)} does not match {schema['pattern']!r}")
        if schema.get("format") == "uuid" and not UUID_RE.match(value):
            raise AssertionError(f"{where}: {_short(value)} is not a UUID")

    if _type_ok("number", value):
        lo, hi = schema.get("minimum"), schema.get("maximum")
        if lo is not None and (value < lo or (schema.get("exclusiveMinimum") is True and value == lo)):
            raise AssertionError(f"{where}: {value} is below the minimum {lo}")
        if hi is not None and (value > hi or (schema.get("exclusiveMaximum") is True and value == hi)):
            raise AssertionError(f"{where}: {value} is above the maximum {hi}")
        m = schema.get("multipleOf")
        if m and abs(value / m - round(value / m)) > 1e-9:
            raise AssertionError(f"{where}: {value} is not a multiple of {m}")
        if schema.get("format") == "int32" and not -2**31 <= value < 2**31:
            raise AssertionError(f"{where}: {value} does not fit int32")
        if schema.get("format") == "int64" and not -2**63 <= value < 2**63:
            raise AssertionError(f"{where}: {value} does not fit int64")

    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            raise AssertionError(f"{where}: {len(value)} items, at least {schema['minItems']} expected")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            raise AssertionError(f"{where}: {len(value)} items, at most {schema['maxItems']} allowed")
        if schema.get("uniqueItems"):
            for i, a in enumerate(value):
                for j in range(i):
                    if _same(a, value[j]):
                        raise AssertionError(f"{_sub(where, i)}: duplicate of {_sub(where, j)}")
        if "items" in schema:
            for i, item in enumerate(value):
                validate(doc, schema["items"], item, _sub(where, i))

    if isinstance(value, dict):
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                raise AssertionError(f"{where}: missing required member {name!r}")
        if "minProperties" in schema and len(value) < schema["minProperties"]:
            raise AssertionError(f"{where}: fewer than {schema['minProperties']} members")
        if "maxProperties" in schema and len(value) > schema["maxProperties"]:
            raise AssertionError(f"{where}: more than {schema['maxProperties']} members")
        extra = schema.get("additionalProperties", True)
        for name, v in value.items():
            if name in props:
                validate(doc, props[name], v, _sub(where, name))
            elif extra is False:
                raise AssertionError(f"{where}: unknown member {name!r} (allowed: {sorted(props)})")
            elif isinstance(extra, dict):
                validate(doc, extra, v, _sub(where, name))

    for i, sub in enumerate(schema.get("allOf", [])):
        validate(doc, sub, value, where)
    if "anyOf" in schema:
        errs = _alternatives(doc, schema["anyOf"], value, where)
        if len(errs) == len(schema["anyOf"]):
            raise AssertionError(f"{where}: matches none of anyOf: " + "; ".join(errs))
    if "oneOf" in schema:
        errs = _alternatives(doc, schema["oneOf"], value, where)
        matched = len(schema["oneOf"]) - len(errs)
        if matched == 0:
            raise AssertionError(f"{where}: matches none of oneOf: " + "; ".join(errs))
        if matched > 1:
            raise AssertionError(f"{where}: matches {matched} of oneOf, exactly one expected")
    if "not" in schema:
        try:
            validate(doc, schema["not"], value, where)
        except AssertionError:
            pass
        else:
            raise AssertionError(f"{where}: {_short(value)} matches a 'not' schema")


def _alternatives(doc, subs, value, where):
    errs = []
    for i, sub in enumerate(subs):
        try:
            validate(doc, sub, value, where)
        except AssertionError as e:
            errs.append(f"[{i}] {e}")
    return errs


# ------------------------------------------------------------ operations
def _split(path):
    parts = urlsplit(path)
    p = parts.path
    if len(p) > 1 and p.endswith("/"):
        p = p.rstrip("/") or "/"
    return p, parse_qsl(parts.query, keep_blank_values=True)


def find_operation(doc, method, path):
    """(template, path item, operation, path params) for METHOD path.

    A literal path wins over a templated one; among templated paths the one
    with the most literal segments wins. Query strings are ignored."""
    p, _ = _split(path)
    segs = p.split("/")
    best = None
    for template, item in doc.get("paths", {}).items():
        tsegs = template.split("/")
        if len(tsegs) != len(segs):
            continue
        params, literal = {}, 0
        for t, s in zip(tsegs, segs):
            m = re.fullmatch(r"\{([^{}]+)\}", t)
            if m:
                if not s:
                    break
                params[m.group(1)] = s
            elif t == s:
                literal += 1
            else:
                break
        else:
            if best is None or literal > best[0]:
                best = (literal, template, item, params)
    if best is None:
        raise AssertionError(f"{method} {p}: no documented path matches")
    _, template, item, params = best
    item = _deref(doc, item)
    op = item.get(method.lower())
    if op is None:
        have = [m.upper() for m in METHODS if m in item]
        raise AssertionError(f"{method} {p}: method not documented for {template} "
                             f"(documented: {', '.join(have)})")
    return template, item, op, params


def _parameters(doc, item, op):
    """The effective parameters: the operation's override the path item's."""
    out = {}
    for plist in (item.get("parameters", []), op.get("parameters", [])):
        for prm in plist:
            prm = _deref(doc, prm)
            out[(prm["name"], prm["in"])] = prm
    return out


def _coerce(value, schema):
    t = schema.get("type")
    try:
        if t == "integer" and re.fullmatch(r"[+-]?\d+", value):
            return int(value)
        if t == "number":
            return float(value) if "." in value or "e" in value.lower() else int(value)
        if t == "boolean" and value in ("true", "false"):
            return value == "true"
    except ValueError:
        pass
    return value


def _media(content, content_type, what):
    if content_type:
        ct = content_type.split(";")[0].strip().lower()
        if ct not in content:
            raise AssertionError(f"{what}: content type {ct} not documented "
                                 f"(documented: {', '.join(content)})")
        return ct, content[ct]
    if "application/json" in content:
        return "application/json", content["application/json"]
    ct = next(iter(content))
    return ct, content[ct]


def _parse_body(body, media_type):
    if isinstance(body, (bytes, bytearray)):
        if not body:
            return None
        body = body.decode("utf-8")
        if media_type == "application/x-www-form-urlencoded":
            return body
        return json.loads(body)
    return body


def validate_response(doc, method, path, status, body, content_type=None):
    """Check that `status` is documented for METHOD path and that `body`
    matches its schema. Returns the response object of the document."""
    template, _, op, _ = find_operation(doc, method, path)
    what = f"{method.upper()} {template} -> {status}"
    responses = op.get("responses", {})
    resp = None
    for key in (str(status), f"{str(status)[0]}XX", "default"):
        if key in responses:
            resp = _deref(doc, responses[key])
            break
    if resp is None:
        raise AssertionError(f"{what}: status not documented (documented: {', '.join(responses)})")
    content = resp.get("content")
    if not content:
        if body not in (None, b"", ""):
            raise AssertionError(f"{what}: documented without a body, got {_short(body)}")
        return resp
    ct, media = _media(content, content_type, what)
    body = _parse_body(body, ct)
    if body is None:
        raise AssertionError(f"{what}: a {ct} body is documented, got none")
    if "schema" in media:
        try:
            validate(doc, media["schema"], body, "body")
        except AssertionError as e:
            raise AssertionError(f"{what}: {e}") from None
    return resp


def validate_request(doc, method, path, body=None, content_type=None):
    """Check METHOD path (its query parameters too) and the request body
    against the document. A form body may be a dict or 'a=b&c=d'. Returns
    the operation object."""
    template, item, op, pparams = find_operation(doc, method, path)
    what = f"{method.upper()} {template}"
    _, query = _split(path)
    params = _parameters(doc, item, op)
    try:
        for name, value in pparams.items():
            prm = params.get((name, "path"))
            if prm is None:
                raise AssertionError(f"path parameter {name!r} is not declared")
            validate(doc, prm.get("schema", {}), value, f"path.{name}")
        seen = set()
        for name, value in query:
            prm = params.get((name, "query"))
            if prm is None:
                documented = sorted(n for n, where in params if where == "query")
                raise AssertionError(f"query: unknown parameter {name!r} (documented: {documented})")
            if name in seen:
                raise AssertionError(f"query: parameter {name!r} given twice")
            seen.add(name)
            schema = _deref(doc, prm.get("schema", {}))
            validate(doc, schema, _coerce(value, schema), f"query.{name}")
        for (name, where), prm in params.items():
            if prm.get("required") and where == "query" and name not in seen:
                raise AssertionError(f"query: missing required parameter {name!r}")
    except AssertionError as e:
        raise AssertionError(f"{what}: {e}") from None

    rb = _deref(doc, op.get("requestBody")) if op.get("requestBody") else None
    if rb is None:
        if body not in (None, b"", ""):
            raise AssertionError(f"{what}: takes no request body, got {_short(body)}")
        return op
    ct, media = _media(rb.get("content", {}), content_type, what)
    body = _parse_body(body, ct)
    if body is None:
        if rb.get("required"):
            raise AssertionError(f"{what}: a {ct} request body is required")
        return op
    if ct == "application/x-www-form-urlencoded":
        if isinstance(body, str):
            pairs = parse_qsl(body, keep_blank_values=True)
            if len({k for k, _ in pairs}) != len(pairs):
                raise AssertionError(f"{what}: form body repeats a field")
            body = dict(pairs)
        if not isinstance(body, dict) or not all(isinstance(v, str) for v in body.values()):
            raise AssertionError(f"{what}: a form body is a set of string fields, got {_short(body)}")
    if "schema" in media:
        try:
            validate(doc, media["schema"], body, "body")
        except AssertionError as e:
            raise AssertionError(f"{what}: {e}") from None
    return op
