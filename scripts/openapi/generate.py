# Writes docs/openapi.json (the admin API contract). The document is checked in and is the contract;
# this script is how it was written: edit it (or the JSON by hand), run `python3 scripts/openapi/generate.py docs/openapi.json`,
# then scripts/sync-openapi. AdminAPITests holds the document against the served routes.
import json
S = lambda t, **k: dict(type=t, **k)
STR = {"type": "string"}; INT = {"type": "integer"}; BOOL = {"type": "boolean"}
NSTR = {"type": ["string", "null"]}; NINT = {"type": ["integer", "null"]}
ref = lambda n: {"$ref": f"#/components/schemas/{n}"}
def obj(props, required=None, additional=None):
    o = {"type": "object", "properties": props, "required": required if required is not None else list(props)}
    if additional is not None: o["additionalProperties"] = additional
    return o
schemas = {
 "Error": obj({"error": obj({"code": STR, "message": STR})}),
 "Resident": obj({"id": INT, "name": STR, "nameFlags": STR, "dateOfBirth": STR, "dateOfBirthCoded": STR, "sex": STR,
   "address": STR, "addressFlags": STR, "prefecture": STR, "municipality": STR, "municipalityCode": STR,
   "residenceUntil": NSTR, "adultWard": BOOL, "substituted": STR},
   ["id","name","nameFlags","dateOfBirth","dateOfBirthCoded","sex","address","addressFlags","prefecture","municipality","municipalityCode","residenceUntil","adultWard"]),
 "Certificate": obj({"serial": STR, "kind": {"type": "string", "enum": ["sign","auth"]}, "status": STR, "reason": STR, "revokedAt": STR,
   "notBefore": STR, "notAfter": STR, "cardId": INT, "residentId": INT, "subject": STR, "issuer": STR,
   "pinTriesLeft": INT, "locked": BOOL, "rootGeneration": {"type": "integer", "description": "the root generation that issued it (after a rollover)"}, "pem": STR}, ["serial","kind","status","notBefore","notAfter","cardId","residentId"]),
 "Card": obj({"id": INT, "residentId": INT, "status": STR, "issuedAt": STR, "notAfter": STR}),
}
schemas["CardDetail"] = obj({"card": ref("Card"), "certificates": {"type": "array", "items": ref("Certificate")}})
rd = json.loads(json.dumps(schemas["Resident"])); rd["properties"]["cards"] = {"type": "array", "items": ref("CardDetail")}; rd["required"].append("cards")
schemas["ResidentDetail"] = rd
schemas["ResidentList"] = obj({"residents": {"type": "array", "items": ref("Resident")}})
schemas["CertificateList"] = obj({"certificates": {"type": "array", "items": ref("Certificate")}})
schemas["ResidentUpdate"] = obj({"id": INT, "changed": {"type": "array", "items": STR}, "revoked": {"type": "array", "items": STR}, "note": STR, "resident": ref("Resident")}, ["id","changed","revoked","resident"])
schemas["CardIssuance"] = obj({"card": ref("Card"), "certificates": {"type": "array", "items": ref("Certificate")},
   "validity": {"type": "object", "additionalProperties": STR, "description": "card, sign, auth: the last valid day and the limit that set it"},
   "notIssued": {"type": "array", "items": obj({"kind": STR, "reason": STR})}, "revoked": {"type": "array", "items": STR}, "fee": INT},
   ["card","certificates","validity","fee"])
schemas["Issuance"] = obj({"revoked": NSTR, "certificate": ref("Certificate"), "validity": STR, "fee": INT})
schemas["Revocation"] = obj({"serial": STR, "status": STR, "reason": NSTR, "revokedAt": NSTR})
schemas["PINResult"] = obj({"serial": STR, "ok": BOOL, "triesLeft": INT, "locked": BOOL, "error": obj({"code": STR, "message": STR})}, ["serial","ok","triesLeft","locked"])
schemas["PendingRequest"] = obj({"request": obj({"id": INT, "operation": STR, "status": {"type": "string", "const": "pending"}, "residentId": INT,
   "createdAt": STR, "completableFrom": STR, "form": STR, "mailedAnswerCode": STR, "next": STR})})
schemas["CompletedRequest"] = obj({"request": obj({"id": INT, "operation": STR, "status": {"type": "string", "const": "completed"}}),
   "result": {"oneOf": [ref("CardIssuance"), ref("CardDetail"), ref("Issuance"), ref("Revocation"), ref("PINResult"), ref("ResidentUpdate")]}})
schemas["CompletedRequest"]["properties"]["result"] = {"type": "object", "description": "what the operation answers when done at once: CardIssuance, CardDetail, Issuance, Revocation, PINResult or ResidentUpdate"}
schemas["Notices"] = obj({"asOf": STR, "within": STR, "notices": {"type": "array", "items": obj({"subject": {"type": "string", "enum": ["card","certificate"]},
   "cardId": INT, "serial": NSTR, "kind": NSTR, "notAfter": STR, "renewalOpens": STR, "residentId": INT, "name": STR, "address": STR})}})
schemas["AuditEntry"] = obj({"id": INT, "sandboxTime": STR, "realTime": STR, "operation": STR, "applicant": NSTR, "residentId": NINT,
   "serials": {"type": "array", "items": STR}, "fee": INT, "outcome": STR, "detail": STR, "hash": STR,
   "actor": {"type": "string", "description": "the admin API token that acted; absent for the CLI"}},
   ["id","sandboxTime","realTime","operation","applicant","residentId","serials","fee","outcome","detail","hash"])
schemas["AuditList"] = obj({"entries": {"type": "array", "items": ref("AuditEntry")}})
schemas["AuditVerify"] = obj({"ok": BOOL, "entries": INT})
schemas["Clock"] = obj({"now": STR, "date": STR, "source": {"type": "string", "enum": ["sandbox clock", "real time", "--at"]}}, ["now","date"])
schemas["CRLList"] = obj({"crls": {"type": "array", "items": obj({"kind": STR, "scope": STR, "path": STR, "number": INT, "entries": INT,
   "thisUpdate": STR, "nextUpdate": STR}, ["kind","scope","path","number","entries","thisUpdate","nextUpdate"])}}, ["crls"])
schemas["Token"] = obj({"name": STR, "role": {"type": "string", "enum": ["viewer","operator","admin"]}, "status": {"type": "string", "enum": ["active","revoked"]},
   "createdAt": STR, "revokedAt": NSTR})
schemas["CreatedToken"] = obj({"name": STR, "role": {"type": "string", "enum": ["viewer","operator","admin"]}, "createdAt": STR,
   "token": {"type": "string", "description": "the bearer token, shown once"}, "note": STR})
schemas["ScenarioList"] = obj({"asOf": STR, "scenarios": {"type": "array", "items": obj({"name": STR, "description": STR, "descriptionJa": STR,
   "earliestStep": STR, "available": BOOL}, ["name","description","descriptionJa","available"])}})
schemas["ScenarioResult"] = obj({"scenario": STR, "description": STR, "asOf": STR, "resident": ref("Resident"), "card": ref("Card"),
   "pins": obj({"sign": STR, "auth": STR}, []),
   "certificates": {"type": "array", "items": obj({"label": STR, "certificate": ref("Certificate"),
       "expected": obj({"verdict": {"type": "string", "enum": ["good","revoked","expired","notYetValid"]}, "reason": STR, "revokedAt": STR,
                        "ocsp": STR, "ocspReason": STR}, ["verdict","ocsp"]),
       "ocspUrl": STR, "crlUrl": STR,
       "files": obj({"certificate": STR, "pkcs12": STR, "pem": STR, "root": STR}),
       "identity": obj({"pkcs12": {"type": "string", "contentEncoding": "base64"}, "pem": STR})}, ["label","certificate","expected"])},
   "request": {"$ref": "#/components/schemas/PendingRequest/properties/request"},
   "notices": {"$ref": "#/components/schemas/Notices/properties/notices"},
   "password": STR}, ["scenario","description","asOf","resident","pins","certificates"])
schemas["TokenList"] = obj({"tokens": {"type": "array", "items": ref("Token")}})

APPLICANT = {"type": "string", "enum": ["self", "legal-representative", "agent"], "description": "who applies at the window; an agent's first visit records a request (202)"}
PIN = {"type": "string", "description": "signing: 6–16 of A–Z and 0–9 mixing both; authentication: 4 digits"}
def body(props, required=()):
    return {"required": True, "content": {"application/json": {"schema": {"type": "object", "properties": props, "required": list(required), "additionalProperties": False}}}}
def resp(desc, schema): return {"description": desc, "content": {"application/json": {"schema": schema}}}
ERR = {"description": "an error: the CLI's error code, mapped to one HTTP status (docs/api.md)", "content": {"application/json": {"schema": ref("Error")}}}
PENDING = resp("a voluntary agent's first visit: the request, to be completed on a later day", ref("PendingRequest"))
def op(opid, summary, role, responses, params=(), req=None, tags=()):
    o = {"operationId": opid, "summary": summary, "tags": list(tags),
         "responses": dict(responses, default=ERR)}
    if role is None: o["security"] = []
    else: o["x-role"] = role; o["description"] = f"Needs a {role} token (or a higher role)."
    if params: o["parameters"] = list(params)
    if req: o["requestBody"] = req
    return o
def pp(name, schema, desc=""): return {"name": name, "in": "path", "required": True, "schema": schema, "description": desc}
def qp(name, schema, desc=""): return {"name": name, "in": "query", "required": False, "schema": schema, "description": desc}
ID = pp("id", {"type": "integer", "minimum": 0}); SERIAL = pp("serial", {"type": "string", "pattern": "^[0-9A-Fa-f:]{1,95}$"}, "hexadecimal serial number")
P = {}
def add(path, method, o): P.setdefault(path, {})[method] = o
add("/admin/v1/openapi.json", "get", op("getOpenAPI", "This document (no token needed)", None, {"200": resp("the OpenAPI document", {"type": "object"})}, tags=["meta"]))
add("/admin/v1/residents", "get", op("listResidents", "List residents (resident list)", "viewer", {"200": resp("residents", ref("ResidentList"))},
    [qp("limit", {"type": "integer", "minimum": 0, "maximum": 10000, "default": 100}), qp("offset", {"type": "integer", "minimum": 0, "maximum": 2147483647, "default": 0})], tags=["residents"]))
add("/admin/v1/residents", "post", op("addResident", "Register a resident (resident add)", "operator", {"201": resp("the resident", ref("Resident"))},
    req=body({"name": {"type": "string", "description": "surname and given name separated by a space"}, "birth": {"type": "string", "description": "YYYY-MM-DD"},
              "sex": {"type": "string", "enum": ["male","female","unknown"]}, "address": {"type": "string"}, "residenceUntil": {"type": ["string","null"], "description": "YYYY-MM-DD"},
              "adultWard": {"type": ["boolean","null"]}}, ["name","birth","sex","address"]), tags=["residents"]))
add("/admin/v1/residents/{id}", "get", op("showResident", "A resident with cards and certificates (resident show)", "viewer", {"200": resp("the resident", ref("ResidentDetail"))}, [ID], tags=["residents"]))
add("/admin/v1/residents/{id}", "patch", op("updateResident", "Change a basic detail (resident update): valid signing certificates are revoked (affiliationChanged)", "operator",
    {"200": resp("what changed", ref("ResidentUpdate")), "202": PENDING}, [ID],
    body({"name": {"type": ["string","null"]}, "address": {"type": ["string","null"]}, "birth": {"type": ["string","null"]}, "sex": {"type": ["string","null"]}, "applicant": APPLICANT}), tags=["residents"]))
add("/admin/v1/cards", "post", op("issueCard", "Issue a card with its certificates (card issue)", "operator", {"201": resp("the card", ref("CardIssuance")), "202": PENDING},
    req=body({"resident": {"type": "integer", "minimum": 0}, "signPin": PIN, "authPin": PIN, "applicant": APPLICANT}, ["resident"]), tags=["cards"]))
add("/admin/v1/cards/{id}", "get", op("showCard", "A card and its certificates (card show)", "viewer", {"200": resp("the card", ref("CardDetail"))}, [ID], tags=["cards"]))
add("/admin/v1/cards/{id}/renew", "post", op("renewCard", "Renew a card (card renew)", "operator", {"201": resp("the new card", ref("CardIssuance")), "202": PENDING}, [ID],
    body({"signPin": PIN, "authPin": PIN, "applicant": APPLICANT, "noticeForm": {"type": "boolean"}}), tags=["cards"]))
add("/admin/v1/cards/{id}/suspend", "post", op("suspendCard", "Suspend a card (card suspend)", "operator", {"200": resp("the card", ref("CardDetail"))}, [ID], body({"applicant": APPLICANT}), tags=["cards"]))
add("/admin/v1/cards/{id}/resume", "post", op("resumeCard", "Release a suspended card (card resume)", "operator", {"200": resp("the card", ref("CardDetail")), "202": PENDING}, [ID],
    body({"pin": PIN, "applicant": APPLICANT}), tags=["cards"]))
add("/admin/v1/cards/{id}/revoke", "post", op("revokeCard", "Give up a card (card revoke)", "operator", {"200": resp("the card", ref("CardDetail")), "202": PENDING}, [ID],
    body({"reason": {"type": "string", "description": "RFC 5280 name or window event; default cessationOfOperation"}, "applicant": APPLICANT}), tags=["cards"]))
add("/admin/v1/certificates", "get", op("listCertificates", "List certificates, newest first (cert list)", "viewer", {"200": resp("certificates", ref("CertificateList"))},
    [qp("resident", {"type": "integer", "minimum": 0}), qp("kind", {"type": "string", "enum": ["sign","auth"]}), qp("limit", {"type": "integer", "minimum": 0, "maximum": 10000, "default": 100})], tags=["certificates"]))
add("/admin/v1/certificates", "post", op("issueCertificate", "Issue a certificate on a valid card (cert issue)", "operator", {"201": resp("the certificate", ref("Issuance")), "202": PENDING},
    req=body({"card": {"type": "integer", "minimum": 0}, "kind": {"type": "string", "enum": ["sign","auth"]}, "pin": PIN, "applicant": APPLICANT}, ["card","kind"]), tags=["certificates"]))
add("/admin/v1/certificates/{serial}", "get", op("showCertificate", "A certificate with subject and PEM (cert show)", "viewer", {"200": resp("the certificate", ref("Certificate"))}, [SERIAL], tags=["certificates"]))
add("/admin/v1/certificates/{serial}/renew", "post", op("renewCertificate", "Renew a certificate (cert renew)", "operator", {"201": resp("the new certificate", ref("Issuance")), "202": PENDING}, [SERIAL],
    body({"pin": PIN, "applicant": APPLICANT, "noticeForm": {"type": "boolean"}}), tags=["certificates"]))
add("/admin/v1/certificates/{serial}/revoke", "post", op("revokeCertificate", "Revoke a certificate (cert revoke)", "operator", {"200": resp("the revocation", ref("Revocation")), "202": PENDING}, [SERIAL],
    body({"reason": {"type": "string", "description": "unspecified, keyCompromise, affiliationChanged, superseded, cessationOfOperation, or a window event (lost, stolen, moved, …)"}, "applicant": APPLICANT}, ["reason"]), tags=["certificates"]))
add("/admin/v1/certificates/{serial}/export", "post", op("exportIdentity", "Export a leaf identity: PKCS#12 with a password, or PEM (export); audited", "operator",
    {"200": {"description": "the identity: key, certificate and root", "content": {"application/x-pkcs12": {"schema": {"type": "string", "format": "binary"}}, "application/x-pem-file": {"schema": {"type": "string"}}}}}, [SERIAL],
    body({"format": {"type": "string", "enum": ["pkcs12","pem"], "default": "pkcs12"}, "password": {"type": "string", "minLength": 1}}), tags=["certificates"]))
add("/admin/v1/certificates/{serial}/pin/verify", "post", op("verifyPIN", "Check a PIN like the card does (pin verify); a wrong PIN costs a try", "operator",
    {"200": resp("right PIN", ref("PINResult")), "422": resp("wrong PIN (code wrong-pin)", ref("PINResult")), "423": resp("locked (code pin-locked)", ref("PINResult"))}, [SERIAL], body({"pin": {"type": "string"}}, ["pin"]), tags=["pins"]))
add("/admin/v1/certificates/{serial}/pin/change", "post", op("changePIN", "Change a PIN (pin change)", "operator",
    {"200": resp("changed", ref("PINResult")), "422": resp("wrong PIN (code wrong-pin)", ref("PINResult")), "423": resp("locked (code pin-locked)", ref("PINResult"))}, [SERIAL],
    body({"pin": {"type": "string"}, "newPin": PIN}, ["pin","newPin"]), tags=["pins"]))
add("/admin/v1/certificates/{serial}/pin/reset", "post", op("resetPIN", "Reset a PIN at the window (pin reset)", "operator", {"200": resp("reset", ref("PINResult")), "202": PENDING}, [SERIAL],
    body({"newPin": PIN, "applicant": APPLICANT}), tags=["pins"]))
add("/admin/v1/requests/{id}/complete", "post", op("completeRequest", "A voluntary agent's second visit (request complete)", "operator", {"200": resp("done", ref("CompletedRequest"))}, [ID],
    body({"answer": {"type": "string", "description": "the answer code of the mailed form"}, "signPin": PIN, "authPin": PIN, "pin": PIN, "newPin": PIN}, ["answer"]), tags=["requests"]))
add("/admin/v1/notices", "get", op("listNotices", "Expiry notices due within a window (notices)", "viewer", {"200": resp("notices", ref("Notices"))},
    [qp("within", {"type": "string", "default": "3m"}, "3m, 90d, 1y, P2M…")], tags=["notices"]))
add("/admin/v1/audit", "get", op("listAudit", "The audit log (audit list)", "viewer", {"200": resp("entries", ref("AuditList"))},
    [qp("since", {"type": "string"}, "2027-02-27 or a date-time"), qp("resident", {"type": "integer", "minimum": 0})], tags=["audit"]))
add("/admin/v1/audit/verify", "get", op("verifyAudit", "Check the audit hash chain (audit verify); audit-broken (409) names the first bad entry", "viewer", {"200": resp("intact", ref("AuditVerify"))}, tags=["audit"]))
add("/admin/v1/crls", "post", op("generateCRLs", "Generate the CRLs now (crl generate); served at /crl/…", "operator", {"201": resp("the CRLs", ref("CRLList"))},
    req=body({"partitions": {"type": "boolean", "default": True}}), tags=["crls"]))
add("/admin/v1/clock", "get", op("showClock", "The sandbox clock (clock show)", "viewer", {"200": resp("the clock", ref("Clock"))}, tags=["clock"]))
add("/admin/v1/clock/set", "post", op("setClock", "Set the sandbox clock (clock set)", "admin", {"200": resp("the clock", ref("Clock"))},
    req=body({"when": {"type": "string", "description": "2027-02-27 (00:00 Asia/Tokyo) or 2027-02-27T10:00:00+09:00"}}, ["when"]), tags=["clock"]))
add("/admin/v1/clock/advance", "post", op("advanceClock", "Move the sandbox clock forward (clock advance)", "admin", {"200": resp("the clock", ref("Clock"))},
    req=body({"duration": {"type": "string", "description": "90d, 3m, 1y, 2w, 12h, 30min or P1Y2M"}}, ["duration"]), tags=["clock"]))
add("/admin/v1/clock/reset", "post", op("resetClock", "Put the sandbox clock back to real time (clock reset)", "admin", {"200": resp("the clock", ref("Clock"))}, req=body({}), tags=["clock"]))
add("/admin/v1/scenarios", "get", op("listScenarios", "The named scenarios, and whether this sandbox can make each now (scenario list)", "viewer",
    {"200": resp("the catalogue", ref("ScenarioList"))}, tags=["scenarios"]))
add("/admin/v1/scenarios/{name}", "post", op("createScenario", "Make a named scenario: a fresh resident, card and certificates in a known state, with the verdict a relying party must reach (scenario create)", "operator",
    {"201": resp("the scenario", ref("ScenarioResult"))},
    [pp("name", {"type": "string", "pattern": "^[a-z][a-z0-9-]{0,63}$"}, "good-adult, minor, adult-ward, foreign-resident, revoked-key-compromise, suspended, released, moved, renewed, expired, expiring, sign-pin-locked, auth-pin-locked, agent-pending")],
    body({"includeIdentities": {"type": "boolean", "default": False, "description": "put each identity (PKCS#12 as base64, PEM bundle) in the answer"},
          "password": {"type": "string", "minLength": 1, "description": "the PKCS#12 password (default: a random one, in the answer)"}}), tags=["scenarios"]))
add("/admin/v1/tokens", "get", op("listTokens", "List tokens (token list)", "admin", {"200": resp("tokens", ref("TokenList"))}, tags=["tokens"]))
add("/admin/v1/tokens", "post", op("createToken", "Create a token, shown once (token create)", "admin", {"201": resp("the token", ref("CreatedToken"))},
    req=body({"name": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"}, "role": {"type": "string", "enum": ["viewer","operator","admin"]}}, ["name","role"]), tags=["tokens"]))
add("/admin/v1/tokens/{name}/revoke", "post", op("revokeToken", "Revoke a token (token revoke)", "admin", {"200": resp("the token", ref("Token"))},
    [pp("name", {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"})], body({}), tags=["tokens"]))
for path in P.values():
    for o in path.values():
        if "requestBody" in o and not o["requestBody"]["content"]["application/json"]["schema"]["required"]:
            o["requestBody"]["required"] = False
doc = {"openapi": "3.1.0",
 "info": {"title": "JPKI Sandbox admin API", "version": "1.0.0",
   "description": "The admin API of `jpki-sandbox serve`: the window operations of the CLI over HTTP, JSON in and out, bearer tokens with roles (viewer < operator < admin). Errors are {\"error\": {\"code\", \"message\"}} with the CLI's codes; docs/api.md maps each code to its status. The OCSP, CRL and root routes (/ocsp, /crl/…, /ca/…) are public and outside this document."},
 "servers": [{"url": "http://127.0.0.1:8080"}],
 "security": [{"bearer": []}],
 "paths": P,
 "components": {"schemas": schemas, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "a token from `jpki-sandbox token create` (stored hashed)"}}}}
import sys
open(sys.argv[1], "w").write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
