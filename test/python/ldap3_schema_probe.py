#!/usr/bin/python3
"""Python ldap3 at its default settings against Keyhaven's subschema.

Run by test/blackbox/ldap-ldap3-schema.test.ts with Debian's /usr/bin/python3. Reads one JSON
document on stdin:

    {"server": {"host": "localhost", "port": 3389, "ca_file": "/path/ca.pem"},
     "connections": [{"label": "...", "user": DN or null, "password": "..." or null,
                      "requests": [{"label": "...", "base": "...", "scope": "base|one|sub",
                                    "filter": "...", "attributes": [...]}]}],
     "conformance": {"user": DN, "password": "...", "base": "..."} (optional),
     "definitions": ["( 1.2.3 NAME ... )", ...] (optional)}

and prints one JSON document (see main()).

Each connection is made as JupyterHub's LDAPAuthenticator and most ldap3 tools make it:
Server(host, port, tls=...) with get_info left at its default (SCHEMA: ldap3 reads the Root
DSE's subschemaSubentry and the subschema after binding) and Connection(...) with check_names
left at its default (True): ldap3 then refuses, on the client side, any requested attribute or
filter attribute that the subschema does not list (LDAPAttributeError) and any objectClass
value it does not list (LDAPObjectClassError), and sends nothing. StartTLS before the bind,
verified against the test CA only.

A request counts as answered only when ldap3 holds the server's SearchResultDone for it
(result["type"] == "searchResDone"): a client-side refusal leaves no such result.

"conformance" reads every entry under base (and the Root DSE and the subschema entry) with
all user and operational attributes, and checks each served attribute against the subschema
ldap3 parsed: subschemaSubentry present, defined, single-valued where the schema says SINGLE-VALUE, and each value of the
syntax the schema gives (RFC 4517 §3.3) for the syntaxes checked below.

"definitions" are parsed one by one with ldap3's own RFC 4512 parser.
"""
import json
import re
import ssl
import sys

import ldap3
from ldap3 import Server, Connection, Tls, BASE, LEVEL, SUBTREE, AUTO_BIND_TLS_BEFORE_BIND, ALL_ATTRIBUTES, ALL_OPERATIONAL_ATTRIBUTES
from ldap3.core.exceptions import LDAPException, LDAPAttributeError, LDAPObjectClassError
from ldap3.protocol.rfc4512 import AttributeTypeInfo, ObjectClassInfo
from ldap3.utils.dn import parse_dn

SCOPES = {"base": BASE, "one": LEVEL, "sub": SUBTREE}
S = "1.3.6.1.4.1.1466.115.121.1."
GENERALIZED_TIME = re.compile(rb"^\d{10}(\d{2}(\d{2})?)?([.,]\d+)?(Z|[+-]\d{2}(\d{2})?)$")
INTEGER = re.compile(rb"^-?(0|[1-9][0-9]*)$")
UUID = re.compile(rb"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
OID = re.compile(rb"^([0-2](\.(0|[1-9][0-9]*))+|[A-Za-z][A-Za-z0-9-]*)$")
PRINTABLE = re.compile(rb"^[A-Za-z0-9'()+,\-./:? =]+$")


def utf8(v):
    try:
        v.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def is_dn(v):
    if v == b"":
        return True
    try:
        parse_dn(v.decode("utf-8"))
        return True
    except Exception:
        return False


# RFC 4517 §3.3 syntaxes, checked on each served value (bytes).
VALIDATORS = {
    S + "7": lambda v: v in (b"TRUE", b"FALSE"),
    S + "11": lambda v: len(v) == 2 and bool(PRINTABLE.match(v)),
    S + "12": is_dn,
    S + "15": lambda v: len(v) > 0 and utf8(v),
    S + "24": lambda v: bool(GENERALIZED_TIME.match(v)),
    S + "26": lambda v: all(b < 128 for b in v),
    S + "27": lambda v: bool(INTEGER.match(v)),
    S + "34": lambda v: is_dn(v.split(b"#'")[0]),
    S + "36": lambda v: bool(re.match(rb"^[0-9 ]+$", v)),
    S + "38": lambda v: bool(OID.match(v)),
    S + "44": lambda v: bool(PRINTABLE.match(v)),
    S + "50": lambda v: bool(PRINTABLE.match(v)),
    "1.3.6.1.1.16.1": lambda v: bool(UUID.match(v)),
}


def make_server(spec):
    tls = Tls(ca_certs_file=spec["ca_file"], validate=ssl.CERT_REQUIRED, version=ssl.PROTOCOL_TLS_CLIENT)
    # get_info is left at ldap3's default (SCHEMA).
    return Server(spec["host"], port=spec["port"], tls=tls, connect_timeout=10)


def connect(server_spec, user, password):
    server = make_server(server_spec)
    # check_names is left at ldap3's default (True).
    conn = Connection(server, user=user, password=password, auto_bind=AUTO_BIND_TLS_BEFORE_BIND, receive_timeout=20, raise_exceptions=False)
    return server, conn


def schema_summary(server):
    schema = server.schema
    if schema is None:
        return None
    return {
        "attribute_types": len(schema.attribute_types) if schema.attribute_types else 0,
        "object_classes": len(schema.object_classes) if schema.object_classes else 0,
        "ldap_syntaxes": len(schema.ldap_syntaxes) if schema.ldap_syntaxes else 0,
        "matching_rules": len(schema.matching_rules) if schema.matching_rules else 0,
    }


def run_request(conn, req):
    out = {"label": req.get("label"), "filter": req["filter"], "attributes": req["attributes"]}
    try:
        conn.search(search_base=req["base"], search_scope=SCOPES[req.get("scope", "sub")], search_filter=req["filter"], attributes=req["attributes"])
    except (LDAPAttributeError, LDAPObjectClassError) as e:
        out.update({"client_side": True, "error": type(e).__name__, "message": str(e)})
        return out
    except LDAPException as e:
        out.update({"error": type(e).__name__, "message": str(e)})
        return out
    result = conn.result or {}
    out["answered"] = result.get("type") == "searchResDone"
    out["result"] = result.get("result")
    out["description"] = result.get("description")
    entries = []
    for r in conn.response or []:
        if r.get("type") != "searchResEntry":
            continue
        raw = r.get("raw_attributes", {})
        entries.append({
            "dn": r.get("dn"),
            "attributes": {k: [v.decode("utf-8", "replace") if utf8(v) else "base64:" + __import__("base64").b64encode(v).decode() for v in vals] for k, vals in raw.items()},
        })
    out["entries"] = entries
    return out


def resolve_syntax(schema, name):
    """The syntax of an attribute type, through its supertypes (RFC 4512 §4.1.2)."""
    seen = 0
    t = schema.attribute_types.get(name) if schema.attribute_types else None
    while t is not None and seen < 10:
        if t.syntax:
            return re.sub(r"\{\d+\}$", "", t.syntax)
        if not t.superior:
            return None
        t = schema.attribute_types.get(t.superior[0])
        seen += 1
    return None


def conformance(server_spec, spec):
    server, conn = connect(server_spec, spec["user"], spec["password"])
    if not conn.bound:
        return {"bound": False, "result": conn.result}
    schema = server.schema
    problems = []
    checked = {"entries": 0, "values": 0, "unchecked_syntaxes": set()}
    served_classes = set()

    def check_entry(dn, raw):
        checked["entries"] += 1
        # RFC 4512 §4.2: every entry names its subschema (asked for with "+").
        sub = next((v for k, v in raw.items() if k.lower() == "subschemasubentry"), None)
        if sub != [b"cn=Subschema"]:
            problems.append({"dn": dn, "attribute": "subschemaSubentry", "problem": "not cn=Subschema: %r" % (sub,)})
        for name, values in raw.items():
            t = schema.attribute_types.get(name)
            if t is None:
                problems.append({"dn": dn, "attribute": name, "problem": "not in the subschema"})
                continue
            if t.single_value and len(values) != 1:
                problems.append({"dn": dn, "attribute": name, "problem": "SINGLE-VALUE served with %d values" % len(values)})
            syntax = resolve_syntax(schema, name)
            check = VALIDATORS.get(syntax)
            if check is None:
                checked["unchecked_syntaxes"].add(syntax)
                continue
            for v in values:
                checked["values"] += 1
                if not check(v):
                    problems.append({"dn": dn, "attribute": name, "syntax": syntax, "value": v.decode("utf-8", "replace")[:200], "problem": "value not of the syntax"})
            if name.lower() == "objectclass":
                for v in values:
                    served_classes.add(v.decode())
                    if v.decode() not in schema.object_classes:
                        problems.append({"dn": dn, "attribute": name, "value": v.decode(), "problem": "object class not in the subschema"})

    for base, scope in (("", BASE), ("cn=Subschema", BASE), (spec["base"], SUBTREE)):
        conn.search(base, "(objectClass=*)", scope, attributes=[ALL_ATTRIBUTES, ALL_OPERATIONAL_ATTRIBUTES])
        for r in conn.response or []:
            if r.get("type") == "searchResEntry":
                check_entry(r["dn"], r["raw_attributes"])
    conn.unbind()
    checked["unchecked_syntaxes"] = sorted(s or "none" for s in checked["unchecked_syntaxes"])
    return {"bound": True, "problems": problems, "checked": checked, "served_classes": sorted(served_classes)}


def parse_definitions(texts):
    out = []
    for text in texts:
        kind = "objectClass" if " STRUCTURAL" in text or " AUXILIARY" in text or " ABSTRACT" in text else "attributeType"
        try:
            parsed = (ObjectClassInfo if kind == "objectClass" else AttributeTypeInfo).from_definition([text])
            info = list(parsed.values())[0] if parsed else None
            if info is None:
                out.append({"text": text, "error": "nothing parsed"})
                continue
            entry = {"oid": info.oid, "names": list(info.name or [])}
            if kind == "attributeType":
                entry.update({"syntax": info.syntax, "single_value": bool(info.single_value), "equality": info.equality,
                              "ordering": info.ordering, "substring": info.substring, "superior": info.superior})
            out.append(entry)
        except Exception as e:
            out.append({"text": text, "error": "%s: %s" % (type(e).__name__, e)})
    return out


def main():
    spec = json.load(sys.stdin)
    connections = []
    for c in spec.get("connections", []):
        out = {"label": c["label"]}
        try:
            server, conn = connect(spec["server"], c.get("user"), c.get("password"))
        except LDAPException as e:
            out.update({"bound": False, "error": type(e).__name__, "message": str(e)})
            connections.append(out)
            continue
        out["bound"] = bool(conn.bound)
        out["bind_result"] = (conn.result or {}).get("result")
        out["schema"] = schema_summary(server)
        out["check_names"] = conn.check_names
        out["get_info"] = server.get_info
        out["requests"] = [run_request(conn, r) for r in c.get("requests", [])] if conn.bound else []
        conn.unbind()
        connections.append(out)
    result = {"ldap3": ldap3.__version__, "connections": connections}
    if spec.get("conformance"):
        result["conformance"] = conformance(spec["server"], spec["conformance"])
    if spec.get("definitions"):
        result["definitions"] = parse_definitions(spec["definitions"])
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
