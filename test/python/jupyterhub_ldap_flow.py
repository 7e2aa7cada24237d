#!/usr/bin/python3
"""JupyterHub LDAPAuthenticator's authenticate() sequence, driven with Debian's python3-ldap3.

Run by test/blackbox/ldap-jupyterhub.test.ts with Debian's /usr/bin/python3. Reads one JSON
document on stdin:

    {"server": {"host": "localhost", "port": 3389, "ca_file": "/path/ca.pem"},
     "config": {<LDAPAuthenticator settings, same names as the traitlets>},
     "attempts": [{"username": "...", "password": "..."}, ...],
     "probes": [{"kind": "raw_empty_password_bind" | "anonymous_whoami", "dn": "..."}]}

and prints one JSON document: {"attempts": [<result per attempt>], "probes": [...]}.

Each attempt follows ldapauthenticator 2.x's order (written here from its documented
behaviour, not copied):
  1. valid_username_regex (None skips it, so that hostile names reach the server);
  2. blank passwords refused before any LDAP traffic;
  3. lookup_dn: connect as lookup_dn_search_user (anonymous when it is None), StartTLS before
     the bind (tls_strategy "before_bind", the old use_ssl=False), search user_search_base
     (subtree) for lookup_dn_search_filter with the login escaped by escape_filter_chars, ask
     for lookup_dn_user_dn_attribute; exactly one entry with exactly one value of it, else refuse;
  4. bind as each bind_dn_template formatted with escape_rdn(username) (or the looked-up DN
     when there is no template) until one binds;
  5. allowed_groups: a base-scope search of each group DN for
     (|(member={userdn})(uniqueMember={userdn})(memberUid={uid})), both escaped, asking for
     member, uniqueMember and memberUid; refuse unless one group answers with an entry;
  6. auth_state_attributes (when set): a search of the user's DN for (objectClass=*) asking
     for them, on the user's own connection; the values become the auth state.
TLS trusts only the given CA and requires a valid certificate; verification is never off.

Connections are made as the authenticator makes them: ldap3.Server and ldap3.Connection with
ldap3's defaults for get_info (SCHEMA: the subschema is read after each bind) and check_names
(True: ldap3 refuses on the client side, before sending anything, a requested or filtered
attribute the subschema does not list). Such a refusal is recorded with "client_side": true
and raised, as it would be inside the authenticator.

Every LDAP operation's result is recorded, so the test can assert that no search failed
(a hostile name must give "no entry", never a filter or protocol error).
"""
import base64
import json
import re
import ssl
import sys
import traceback

import ldap3
from ldap3 import Server, Connection, Tls, SUBTREE, BASE, AUTO_BIND_TLS_BEFORE_BIND, AUTO_BIND_NO_TLS
from ldap3.core.exceptions import LDAPException, LDAPAttributeError, LDAPObjectClassError
from ldap3.operation.bind import bind_operation
from ldap3.protocol.rfc4511 import AuthenticationChoice, Simple
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn

DEFAULTS = {
    "tls_strategy": "before_bind",
    "bind_dn_template": [],
    "lookup_dn": False,
    "user_search_base": None,
    "user_attribute": None,
    "lookup_dn_search_filter": "({login_attr}={login})",
    "lookup_dn_search_user": None,
    "lookup_dn_search_password": None,
    "lookup_dn_user_dn_attribute": None,
    "allowed_groups": None,
    "group_search_filter": "(|(member={userdn})(uniqueMember={userdn})(memberUid={uid}))",
    "group_attributes": ["member", "uniqueMember", "memberUid"],
    "valid_username_regex": r"^[a-z][.a-z0-9_-]*$",
    "use_lookup_dn_username": False,
    "auth_state_attributes": [],
}


def who_am_i(conn):
    """The authorization identity the server holds for this connection (RFC 4532)."""
    who = conn.extend.standard.who_am_i()
    if isinstance(who, bytes):
        who = who.decode("utf-8", "replace")
    return who


class Flow:
    def __init__(self, server_spec, config):
        self.cfg = dict(DEFAULTS)
        self.cfg.update(config)
        if isinstance(self.cfg["bind_dn_template"], str):
            self.cfg["bind_dn_template"] = [self.cfg["bind_dn_template"]]
        self.cfg["bind_dn_template"] = [t for t in self.cfg["bind_dn_template"] if t]
        self.host = server_spec["host"]
        self.port = server_spec["port"]
        self.tls = Tls(ca_certs_file=server_spec["ca_file"], validate=ssl.CERT_REQUIRED,
                       version=ssl.PROTOCOL_TLS_CLIENT)
        self.operations = []

    # -- connections -------------------------------------------------------------------
    def server(self):
        on_connect = self.cfg["tls_strategy"] == "on_connect"
        # get_info left at ldap3's default (SCHEMA), as ldapauthenticator leaves it.
        return Server(self.host, port=self.port, use_ssl=on_connect, tls=self.tls, connect_timeout=10)

    def auto_bind(self):
        return AUTO_BIND_TLS_BEFORE_BIND if self.cfg["tls_strategy"] == "before_bind" else AUTO_BIND_NO_TLS

    def get_connection(self, userdn, password):
        """A bound connection, or None when the bind is refused (as the authenticator does)."""
        try:
            conn = Connection(self.server(), user=userdn, password=password, auto_bind=self.auto_bind(),
                              receive_timeout=20, raise_exceptions=False)
        except ldap3.core.exceptions.LDAPBindError as e:
            self.operations.append({"op": "bind", "dn": userdn, "ok": False, "error": type(e).__name__, "message": str(e)})
            return None
        # Client-side refusals (LDAPPasswordIsMandatoryError for an empty password) count as
        # refusals too; connectivity and TLS errors propagate and fail the attempt loudly.
        except (ldap3.core.exceptions.LDAPPasswordIsMandatoryError, ldap3.core.exceptions.LDAPUserNameIsMandatoryError) as e:
            self.operations.append({"op": "bind", "dn": userdn, "ok": False, "error": type(e).__name__, "message": str(e), "client_side": True})
            return None
        self.operations.append({"op": "bind", "dn": userdn, "ok": True, "tls": conn.tls_started or self.cfg["tls_strategy"] == "on_connect"})
        return conn

    @staticmethod
    def text(value):
        """A value as the test can compare it: bytes (Octet String, JPEG syntaxes) as UTF-8 text or base64."""
        if isinstance(value, bytes):
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                return "base64:" + base64.b64encode(value).decode()
        return str(value)

    def search(self, conn, base, scope, flt, attributes):
        try:
            conn.search(search_base=base, search_scope=scope, search_filter=flt, attributes=attributes)
        except (LDAPAttributeError, LDAPObjectClassError) as e:
            self.operations.append({"op": "search", "base": base, "filter": flt, "attributes": attributes,
                                    "client_side": True, "error": type(e).__name__, "message": str(e)})
            raise
        result = conn.result or {}
        entries = [{"dn": e.entry_dn, "attributes": {k: [self.text(v) for v in vals] for k, vals in e.entry_attributes_as_dict.items()}}
                   for e in conn.entries]
        self.operations.append({
            "op": "search", "base": base, "filter": flt, "attributes": attributes,
            # The server's SearchResultDone (a client-side refusal leaves none).
            "answered": result.get("type") == "searchResDone",
            "result": result.get("result"), "description": result.get("description"), "message": result.get("message"),
            "entries": len(entries),
        })
        return entries

    # -- authenticate() -----------------------------------------------------------------
    def resolve_username(self, login):
        conn = self.get_connection(self.cfg["lookup_dn_search_user"], self.cfg["lookup_dn_search_password"])
        if conn is None:
            return None, None, "lookup_bind_failed"
        try:
            flt = self.cfg["lookup_dn_search_filter"].format(login_attr=self.cfg["user_attribute"], login=escape_filter_chars(login))
            attr = self.cfg["lookup_dn_user_dn_attribute"]
            entries = self.search(conn, self.cfg["user_search_base"], SUBTREE, flt, [attr])
        finally:
            conn.unbind()
        if len(entries) != 1:
            return None, None, "lookup_no_entry" if not entries else "lookup_not_unique"
        values = next((v for k, v in entries[0]["attributes"].items() if k.lower() == attr.lower()), [])
        if len(values) != 1:
            return None, None, "lookup_attribute_missing" if not values else "lookup_attribute_multivalued"
        return values[0], entries[0]["dn"], None

    def authenticate(self, login, password):
        self.operations = []
        out = {"username": login, "allowed": False, "refused_at": None, "name": None, "userdn": None, "groups": []}
        regex = self.cfg["valid_username_regex"]
        if regex is not None and not re.match(regex, login):
            out["refused_at"] = "valid_username_regex"
            return out
        if not self.cfg.get("skip_blank_password_check") and (password is None or password.strip() == ""):
            out["refused_at"] = "blank_password"
            return out
        templates = list(self.cfg["bind_dn_template"])
        resolved = login
        if self.cfg["lookup_dn"]:
            resolved, resolved_dn, why = self.resolve_username(login)
            if resolved_dn is None:
                out["refused_at"] = why
                return out
            if not templates:
                templates = [resolved_dn]
        conn = None
        userdn = None
        for template in templates:
            userdn = template.format(username=escape_rdn(resolved))
            conn = self.get_connection(userdn, password)
            if conn is not None:
                break
        if conn is None:
            out["refused_at"] = "bind"
            return out
        out["userdn"] = userdn
        try:
            # The bound identity, as the server sees it (RFC 4532).
            out["whoami"] = who_am_i(conn)
            if self.cfg["allowed_groups"]:
                for group in self.cfg["allowed_groups"]:
                    flt = self.cfg["group_search_filter"].format(userdn=escape_filter_chars(userdn), uid=escape_filter_chars(resolved))
                    if self.search(conn, group, BASE, flt, self.cfg["group_attributes"]):
                        out["groups"].append(group)
                if not out["groups"]:
                    out["refused_at"] = "allowed_groups"
                    return out
            if self.cfg["auth_state_attributes"]:
                found = self.search(conn, userdn, SUBTREE, "(objectClass=*)", self.cfg["auth_state_attributes"])
                out["auth_state"] = found[0]["attributes"] if found else {}
        finally:
            conn.unbind()
        out["allowed"] = True
        out["name"] = resolved if self.cfg["use_lookup_dn_username"] else login
        return out

    # -- probes below the authenticator --------------------------------------------------
    def raw_empty_password_bind(self, dn):
        """A simple bind with a DN and an empty password (RFC 4513 §5.1.2), which ldap3 will not
        send on its own: the server must not authenticate it, and WhoAmI stays anonymous."""
        conn = Connection(self.server(), raise_exceptions=False, receive_timeout=20)
        conn.open()
        conn.start_tls()
        request = bind_operation(3, ldap3.SIMPLE, dn, "placeholder")
        request["authentication"] = AuthenticationChoice().setComponentByName("simple", Simple(""))
        response = conn.post_send_single_response(conn.send("bindRequest", request, None))
        result = response[0] if response else {}
        who = who_am_i(conn)
        conn.unbind()
        return {"kind": "raw_empty_password_bind", "dn": dn, "result": result.get("result"), "description": result.get("description"),
                "whoami": who}

    def anonymous_whoami(self):
        """ldap3's anonymous bind (user=None): what an empty search account turns into."""
        conn = Connection(self.server(), raise_exceptions=False, receive_timeout=20)
        conn.open()
        conn.start_tls()
        bound = conn.bind()
        result = dict(conn.result or {})
        who = None
        if bound:
            who = who_am_i(conn)
        conn.unbind()
        return {"kind": "anonymous_whoami", "bound": bound, "result": result.get("result"), "whoami": who}


def main():
    spec = json.load(sys.stdin)
    flow = Flow(spec["server"], spec.get("config", {}))
    results = []
    for attempt in spec.get("attempts", []):
        try:
            r = flow.authenticate(attempt["username"], attempt["password"])
        except LDAPException as e:
            r = {"username": attempt["username"], "allowed": False, "refused_at": "exception",
                 "exception": type(e).__name__, "message": str(e), "trace": traceback.format_exc()}
        r["label"] = attempt.get("label")
        r["operations"] = flow.operations
        results.append(r)
    probes = []
    for probe in spec.get("probes", []):
        if probe["kind"] == "raw_empty_password_bind":
            probes.append(flow.raw_empty_password_bind(probe["dn"]))
        elif probe["kind"] == "anonymous_whoami":
            probes.append(flow.anonymous_whoami())
    json.dump({"attempts": results, "probes": probes, "ldap3": ldap3.__version__}, sys.stdout)


if __name__ == "__main__":
    main()
