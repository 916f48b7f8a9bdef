import Foundation
import HTTPTypes
import Hummingbird
import JPKICA
import JPKIDomain
import JPKIStore
import Logging
import Mustache
import NIOCore
import OpenSSLKit

/// The operator console under `/console/` (docs/console.md): server-rendered HTML for people who do
/// not live in a terminal. It signs in with the admin API's tokens, keeps sessions in memory, and runs
/// every procedure through the same `JPKICA` services as the admin API and the CLI, with the token's
/// name as the audit actor. It knows HTML, forms, sessions and CSRF; the rules are the services'.
///
/// Who may reach it (`serve --admin-access`) is decided by the server before it calls `respond`.
public struct Console: Sendable {
    public static let prefix = "/console"
    static let cookie = "jpki_console"
    static let languageCookie = "jpki_console_lang"
    static let maximumBodyBytes = 64 * 1024

    let sandbox: Sandbox
    /// Cookies get `Secure` (serve runs with --tls-cert/--tls-key).
    let secure: Bool
    let logger: Logger
    let sessions = ConsoleSessionStore()

    public init(sandbox: Sandbox, secure: Bool, logger: Logger) {
        self.sandbox = sandbox; self.secure = secure; self.logger = logger
    }

    /// What one request is answered in: its language, whether it asked to change it, its session.
    struct Visit: Sendable {
        let lang: ConsoleLanguage
        let setLanguage: Bool
        let session: ConsoleSession?
        let path: String
    }

    // MARK: answering

    public func respond(to request: Request) async -> Response {
        let path = request.uri.path
        guard path.hasPrefix(Self.prefix + "/") else { return Self.redirect(Self.prefix + "/") }
        let segments = path.dropFirst(Self.prefix.count).split(separator: "/", omittingEmptySubsequences: true)
            .map { $0.removingPercentEncoding ?? String($0) }
        let cookies = Self.cookies(request)
        let (lang, setLanguage) = Self.language(request, cookies: cookies)
        let session = await currentSession(cookies[Self.cookie])
        let visit = Visit(lang: lang, setLanguage: setLanguage, session: session, path: path)
        var response: Response
        switch request.method {
        case .get, .head: response = await get(segments, request: request, visit: visit)
        case .post: response = await post(segments, request: request, visit: visit)
        default:
            response = page("message", title: "405", data: ["title": "405", "text": "\(request.method.rawValue) is not allowed here", "back": "/console/"],
                            visit: visit, status: .methodNotAllowed)
            response.headers[.allow] = "GET, POST"
        }
        if setLanguage {
            response.headers.append(HTTPField(name: .setCookie, value: "\(Self.languageCookie)=\(lang.rawValue); Path=/console; Max-Age=31536000; SameSite=Strict"
                                              + (secure ? "; Secure" : "")))
        }
        response.headers[.cacheControl] = response.headers[.cacheControl] ?? "no-store"
        response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[HTTPField.Name("Content-Security-Policy")!] =
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        return response
    }

    /// The session of the cookie, if it exists, has not ended, and its token is still live (a revoked
    /// token ends its sessions at once; a changed role is seen at once).
    func currentSession(_ id: String?) async -> ConsoleSession? {
        guard let id, id.count == 64, let s = sessions.get(id) else { return nil }
        let sandbox = self.sandbox, token = s.token
        guard let found = try? await Blocking.run({ try sandbox.authenticate(token: token) }), found.name == s.name else {
            sessions.remove(id)
            return nil
        }
        if found.role != s.role { sessions.update(id) { $0.role = found.role } }
        var current = s
        current.role = found.role
        return current
    }

    // MARK: GET

    func get(_ segments: [String], request: Request, visit: Visit) async -> Response {
        if segments == ["console.css"] {
            return Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=3600"],
                            body: .init(byteBuffer: ByteBuffer(string: ConsoleTemplates.css)))
        }
        if segments == ["signin"] {
            if visit.session != nil { return Self.redirect("/console/") }
            return page("signin", title: strings(visit)["signin"] ?? "", data: [:], visit: visit)
        }
        guard let session = visit.session else { return Self.redirect("/console/signin") }
        let query = Self.query(request)
        do {
            switch segments {
            case []:
                let q = query["q"] ?? ""
                let found = try await run(session) { try $0.findResidents(matching: q, limit: 200) }
                let rows: [[String: Any]] = found.map { r in
                    let x = ResidentResource(r)
                    return ["id": x.id, "name": x.name, "dateOfBirth": x.dateOfBirth, "address": x.address,
                            "municipality": x.municipality, "municipalityCode": x.municipalityCode]
                }
                return page("home", title: strings(visit)["residents"] ?? "", data: ["query": q, "residents": rows, "hasResidents": !rows.isEmpty], visit: visit)
            case let s where s.count == 2 && s[0] == "residents":
                guard let id = Int64(s[1]), id >= 0 else { throw SandboxError.invalid("a resident id is a whole number, not \"\(s[1])\"") }
                let p = try await run(session) { try $0.consoleResidentPage(id: id) }
                return page("resident", title: p.resident.name, data: residentData(p, visit: visit), visit: visit)
            case let s where s.count == 3 && s[0] == "certificates" && (s[2] == "cert.pem" || s[2] == "cert.der"):
                let serial = s[1], pem = s[2] == "cert.pem"
                let (name, bytes) = try await run(session) { sandbox -> (String, [UInt8]) in
                    let record = try sandbox.certificate(serial: serial)
                    return (record.serial, pem ? Array(try Certificate(der: record.der).pem().utf8) : record.der)
                }
                return Response(status: .ok, headers: [.contentType: pem ? "application/x-pem-file" : "application/pkix-cert",
                                                       .contentDisposition: "attachment; filename=\"\(name).\(pem ? "pem" : "der")\""],
                                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
            case ["requests"]:
                let all = try await run(session) { try $0.pendingRequests() }
                let rows = all.map { r -> [String: Any] in
                    let arguments: String = r.arguments.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                    return ["id": r.id, "operation": r.operation, "residentId": r.residentID, "createdAt": r.createdAt,
                            "completableFrom": r.completableFrom, "arguments": arguments]
                }
                return page("requests", title: strings(visit)["requests"] ?? "", data: ["requests": rows], visit: visit)
            case ["notices"]:
                let within = query["within"].flatMap { $0.isEmpty ? nil : $0 } ?? "3m"
                let (asOf, notices) = try await run(session) { sandbox in
                    (ISOTime.display(try sandbox.now()), try sandbox.expiryNotices(within: try SandboxDuration(parsing: within)))
                }
                let rows = notices.map { n -> [String: Any] in
                    let serial: String = n.serial ?? "card \(n.cardID)"
                    let kind: String = n.kind?.rawValue ?? ""
                    return ["residentId": n.resident.id, "name": n.resident.name.value, "subject": n.subject, "kind": kind,
                            "serial": serial, "notAfter": ISOTime.display(n.notAfter), "renewalOpens": n.renewalOpens.description]
                }
                return page("notices", title: strings(visit)["notices"] ?? "",
                            data: ["within": within, "asOf": asOf, "notices": rows, "hasNotices": !rows.isEmpty], visit: visit)
            case ["audit"]:
                let (entries, check) = try await run(session) { sandbox -> ([AuditEntry], Result<AuditVerifyResource, SandboxError>) in
                    let check: Result<AuditVerifyResource, SandboxError>
                    do { check = .success(try sandbox.checkAudit()) } catch { check = .failure(SandboxError.from(error)) }
                    return (try sandbox.auditEntries(), check)
                }
                let t = strings(visit)
                let shown = entries.suffix(300).reversed()
                let rows = shown.map { e -> [String: Any] in
                    let id: Int64 = e.id ?? 0
                    let applicant: String = e.applicant ?? "", actor: String = e.actor ?? ""
                    let resident: String = e.residentID.map { String($0) } ?? ""
                    return ["id": id, "sandboxTime": e.sandboxTime, "operation": e.operation, "applicant": applicant,
                            "actor": actor, "residentID": resident, "outcome": e.outcome, "detail": e.detail]
                }
                let (kind, text): (String, String) = switch check {
                case .success(let ok): ("ok", "\(t["auditOK"] ?? "ok") (\(ok.entries) \(t["entries"] ?? ""))")
                case .failure(let e): ("error", e.message)
                }
                return page("audit", title: t["audit"] ?? "", data: ["entries": rows, "checkKind": kind, "checkText": text,
                                                                    "shown": rows.count, "total": entries.count], visit: visit)
            case ["clock"]:
                let now = try await run(session) { ISOTime.display(try $0.now()) }
                return page("clock", title: strings(visit)["clock"] ?? "", data: ["now": now], visit: visit)
            case ["scenarios"]:
                let list = try await run(session) { try $0.scenarioList() }
                let rows = list.scenarios.map { x -> [String: Any] in
                    let description: String = visit.lang == .ja ? x.descriptionJa : x.description
                    return ["name": x.name, "description": description, "available": x.available]
                }
                return page("scenarios", title: strings(visit)["scenarios"] ?? "", data: ["scenarios": rows], visit: visit)
            case ["downloads"]:
                var roots: [[String: Any]] = CertificateKind.allCases.map {
                    ["href": "/ca/\($0.rawValue)-root.pem", "label": "\($0.rawValue)-root.pem"]
                }
                for root in sandbox.allRoots {
                    roots.append(["href": "/ca/\(root.kind.rawValue)-root-g\(root.generation).pem", "label": "\(root.kind.rawValue)-root-g\(root.generation).pem"])
                }
                let crls: [[String: Any]] = CertificateKind.allCases.map { ["href": "/crl/\($0.rawValue).crl", "label": "\($0.rawValue).crl"] }
                return page("downloads", title: strings(visit)["downloads"] ?? "", data: ["roots": roots, "crls": crls], visit: visit)
            default:
                throw SandboxError.notFound("no console page \(visit.path)")
            }
        } catch {
            return failure(error, visit: visit, back: "/console/")
        }
    }

    // MARK: POST

    /// A state-changing form: who may send it, whether it asks for confirmation first, and the service
    /// calls it makes (run with the token's name as the audit actor).
    struct Action: Sendable {
        let role: TokenRole
        /// What the confirmation page says; nil: no confirmation step.
        let confirm: String?
        let work: @Sendable (Sandbox, [String: String]) throws -> Outcome
    }

    enum Outcome: Sendable {
        /// A message on the next page, and where to go (nil: the form's `back`).
        case message(ConsoleFlash.Kind, String, to: String?)
        case download(bytes: [UInt8], type: String, filename: String)
    }

    func post(_ segments: [String], request: Request, visit: Visit) async -> Response {
        let form: [String: String]
        do {
            form = try await Self.form(request)
        } catch {
            return failure(error, visit: visit, back: "/console/")
        }
        if segments == ["signin"] { return await signIn(form, visit: visit) }
        let t = strings(visit)
        // The checks, in order; a refused POST changes nothing and writes nothing.
        guard let session = visit.session else {
            return refusal(visit, "you are signed out (or your session ended, or its token was revoked): sign in again", status: .forbidden)
        }
        guard let sent = form["csrf"], ConsoleSessionStore.same(sent, session.csrf) else {
            logger.warning("console POST without this session's CSRF token refused", metadata: ["path": "\(visit.path)", "token": "\(session.name)"])
            return refusal(visit, "the form's CSRF token is missing or is not this session's: reload the page and try again", status: .forbidden)
        }
        if segments == ["signout"] {
            sessions.remove(session.id)
            await auditCall(session.name, "POST", "/console/signout", 303)
            var r = Self.redirect("/console/signin")
            r.headers.append(HTTPField(name: .setCookie, value: "\(Self.cookie)=; Path=/console; Max-Age=0; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")))
            return r
        }
        guard let action = Self.action(segments, form: form) else {
            return page("message", title: t["notFound"] ?? "", data: ["title": t["notFound"] ?? "", "text": "no console action \(visit.path)", "back": "/console/"],
                        visit: visit, status: .notFound)
        }
        guard session.role.allows(action.role) else {
            return refusal(visit, "the token \(session.name) is a \(session.role.rawValue); this needs \(action.role.rawValue)", status: .forbidden)
        }
        let back = Self.safeBack(form["back"])
        if let what = action.confirm, form["confirmed"] != "yes" {
            let fields: [[String: Any]] = form.filter { $0.key != "csrf" && $0.key != "confirmed" }.sorted { $0.key < $1.key }
                .map { ["name": $0.key, "value": $0.value] }
            return page("confirm", title: t["confirmTitle"] ?? "", data: ["what": what, "action": visit.path, "fields": fields, "back": back], visit: visit)
        }
        let sandbox = self.sandbox, name = session.name, work = action.work
        do {
            let outcome = try await Blocking.run { try AuditActor.$name.withValue(name) { try work(sandbox, form) } }
            switch outcome {
            case .message(let kind, let text, let to):
                let title = kind == .ok ? t["done"] ?? "" : kind == .info ? t["pending"] ?? "" : t["refused"] ?? ""
                sessions.update(session.id) { $0.flash = ConsoleFlash(kind: kind, title: title, text: text) }
                return Self.redirect(to ?? back)
            case .download(let bytes, let type, let filename):
                return Response(status: .ok, headers: [.contentType: type, .contentDisposition: "attachment; filename=\"\(filename)\""],
                                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
            }
        } catch {
            let e = SandboxError.from(error)
            sessions.update(session.id) { $0.flash = ConsoleFlash(kind: .error, title: t["refused"] ?? "", text: e.message) }
            return Self.redirect(back)
        }
    }

    func signIn(_ form: [String: String], visit: Visit) async -> Response {
        let token = (form["token"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let sandbox = self.sandbox
        guard let found = try? await Blocking.run({ try sandbox.authenticate(token: token) }),
              let session = try? sessions.create(token: token, name: found.name, role: found.role) else {
            return page("signin", title: strings(visit)["signin"] ?? "", data: ["failed": true], visit: visit, status: .unauthorized)
        }
        await auditCall(found.name, "POST", "/console/signin", 303)
        var r = Self.redirect("/console/")
        r.headers.append(HTTPField(name: .setCookie, value: "\(Self.cookie)=\(session.id); Path=/console; Max-Age=\(Int(ConsoleSessionStore.lifetime)); HttpOnly; SameSite=Strict"
                                   + (secure ? "; Secure" : "")))
        return r
    }

    /// Sign-in and sign-out are in the audit log as the token's calls (as the admin API's calls are).
    func auditCall(_ actor: String, _ method: String, _ path: String, _ status: Int) async {
        let sandbox = self.sandbox
        do {
            try await Blocking.run { try AuditActor.$name.withValue(actor) { try sandbox.auditAPICall(method: method, path: path, status: status) } }
        } catch {
            logger.error("could not audit a console call", metadata: ["error": "\(error)"])
        }
    }

    /// The forms of the console and the services each calls: the admin API's routes (AdminRoutes.swift)
    /// call the same ones in the same way.
    static func action(_ s: [String], form: [String: String]) -> Action? {
        @Sendable func value(_ key: String) -> String? { form[key].flatMap { $0.isEmpty ? nil : $0 } }
        @Sendable func applicant() throws -> Applicant {
            let text = value("applicant") ?? "self"
            guard let a = Applicant(rawValue: text) else { throw SandboxError.invalid("applicant must be self, legal-representative or agent, not \"\(text)\"") }
            return a
        }
        @Sendable func id(_ text: String?, _ what: String) throws -> Int64 {
            guard let text, let v = Int64(text), v >= 0 else { throw SandboxError.invalid("\(what) must be a whole number from 0 up, not \"\(text ?? "")\"") }
            return v
        }
        switch s {
        case ["residents"]:
            return Action(role: .operator, confirm: nil) { sandbox, _ in
                let r = try sandbox.addResident(name: value("name") ?? "", birth: value("birth") ?? "", sex: value("sex") ?? "",
                                                address: value("address") ?? "", residenceUntil: value("residenceUntil"),
                                                adultWard: value("adultWard") == "yes")
                return .message(.ok, "resident \(r.id) registered: \(r.name.value)", to: "/console/residents/\(r.id)")
            }
        case let s where s.count == 3 && s[0] == "residents" && s[2] == "update":
            let what = "change of details of resident \(s[1]): " + ["name", "address", "birth", "sex"].compactMap { k in value(k).map { "\(k) → \($0)" } }.joined(separator: ", ")
            return Action(role: .operator, confirm: what) { sandbox, _ in
                let rid = try id(s[1], "the resident id")
                return window(try sandbox.window(.residentUpdate(id: rid, name: value("name"), address: value("address"), birth: value("birth"), sex: value("sex")),
                                                 applicant: try applicant()))
            }
        case ["cards"]:
            return Action(role: .operator, confirm: nil) { sandbox, _ in
                let rid = try id(value("resident"), "the resident id")
                return window(try sandbox.window(.cardIssue(resident: rid, signPIN: value("signPin"), authPIN: value("authPin")), applicant: try applicant()))
            }
        case let s where s.count == 3 && s[0] == "cards":
            switch s[2] {
            case "suspend":
                return Action(role: .operator, confirm: "suspend card \(s[1]) and its certificates (certificateHold)") { sandbox, _ in
                    let (card, certs) = try sandbox.suspendCard(id: try id(s[1], "the card id"), applicant: try applicant())
                    return .message(.ok, "card \(card.id) \(card.status.rawValue); " + certs.map { "\($0.serial) \($0.state.rawValue)" }.joined(separator: ", "), to: nil)
                }
            case "resume":
                return Action(role: .operator, confirm: nil) { sandbox, _ in
                    window(try sandbox.window(.cardResume(card: try id(s[1], "the card id"), pin: value("pin")), applicant: try applicant()))
                }
            case "revoke":
                let reason = value("reason") ?? "cessationOfOperation"
                return Action(role: .operator, confirm: "revoke card \(s[1]) and all its certificates (\(reason))") { sandbox, _ in
                    window(try sandbox.window(.cardRevoke(card: try id(s[1], "the card id"), reason: reason), applicant: try applicant()))
                }
            case "renew":
                return Action(role: .operator, confirm: nil) { sandbox, _ in
                    window(try sandbox.window(.cardRenew(card: try id(s[1], "the card id"), signPIN: value("signPin"), authPIN: value("authPin")),
                                              applicant: try applicant(), noticeForm: value("noticeForm") == "yes"))
                }
            default: return nil
            }
        case ["certificates"]:
            return Action(role: .operator, confirm: nil) { sandbox, _ in
                guard let kind = value("kind").flatMap(CertificateKind.init) else { throw SandboxError.invalid("kind must be sign or auth") }
                return window(try sandbox.window(.certificateIssue(card: try id(value("card"), "the card id"), kind: kind, pin: value("pin")), applicant: try applicant()))
            }
        case let s where s.count == 3 && s[0] == "certificates":
            let serial = s[1]
            switch s[2] {
            case "renew":
                return Action(role: .operator, confirm: nil) { sandbox, _ in
                    let old = try sandbox.certificate(serial: serial)
                    return window(try sandbox.window(.certificateRenew(serial: old.serial, pin: value("pin")), applicant: try applicant(),
                                                     noticeForm: value("noticeForm") == "yes"))
                }
            case "revoke":
                let reason = value("reason") ?? ""
                return Action(role: .operator, confirm: "revoke certificate \(serial) (\(reason))") { sandbox, _ in
                    guard !reason.isEmpty else { throw SandboxError("bad-arguments", "choose a reason") }
                    return window(try sandbox.window(.certificateRevoke(serial: serial, reason: reason), applicant: try applicant()))
                }
            case "pin-reset":
                return Action(role: .operator, confirm: nil) { sandbox, _ in
                    let record = try sandbox.certificate(serial: serial)
                    return window(try sandbox.window(.pinReset(serial: record.serial, newPIN: value("newPin")), applicant: try applicant()))
                }
            case "export":
                return Action(role: .operator, confirm: nil) { sandbox, _ in
                    let bytes = try sandbox.exportPKCS12(serial: serial, password: form["password"] ?? "")
                    return .download(bytes: bytes, type: "application/x-pkcs12", filename: "\(try Sandbox.normalizeSerial(serial)).p12")
                }
            default: return nil
            }
        case let s where s.count == 3 && s[0] == "requests" && s[2] == "complete":
            return Action(role: .operator, confirm: nil) { sandbox, _ in
                let r = try sandbox.completeRequest(id: try id(s[1], "the request id"), answer: value("answer") ?? "",
                                                    secrets: WindowSecrets(signPIN: value("signPin"), authPIN: value("authPin"), pin: value("pin"), newPIN: value("newPin")))
                return .message(.ok, "request \(r.request.id) \(r.request.status): " + summary(r.result), to: "/console/requests")
            }
        case ["clock", "advance"]:
            return Action(role: .admin, confirm: nil) { sandbox, _ in
                let now = try sandbox.advanceClock(by: value("duration") ?? "")
                return .message(.ok, "the sandbox clock is now \(ISOTime.display(now))", to: "/console/clock")
            }
        case let s where s.count == 2 && s[0] == "scenarios":
            return Action(role: .operator, confirm: nil) { sandbox, _ in
                let r = try sandbox.createScenario(s[1], options: ScenarioOptions())
                return .message(.ok, "scenario \(r.scenario): resident \(r.resident.id) \(r.resident.name); " +
                                r.certificates.map { "\($0.certificate.serial) \($0.certificate.kind) \($0.expected.verdict)" }.joined(separator: ", "),
                                to: "/console/residents/\(r.resident.id)")
            }
        case ["crls"]:
            return Action(role: .operator, confirm: nil) { sandbox, _ in
                let crls = try sandbox.generateCRLs(partitions: true)
                return .message(.ok, "\(crls.count) CRLs generated", to: "/console/downloads")
            }
        default:
            return nil
        }
    }

    /// A window procedure's answer as the message of the next page.
    static func window(_ answer: WindowAnswer) -> Outcome {
        switch answer {
        case .done(let result): .message(.ok, summary(result), to: nil)
        case .pending(let r):
            .message(.info, "request \(r.request.id) (\(r.request.operation)) awaits the agent's second visit on \(r.request.completableFrom) or later; answer code mailed to the holder: \(r.request.mailedAnswerCode)",
                     to: nil)
        }
    }

    static func summary(_ result: WindowResult) -> String {
        switch result {
        case .cardIssued(let r):
            var parts = ["card \(r.card.id) issued, valid until \(r.validity["card"] ?? r.card.notAfter)"]
            parts += r.certificates.map { "\($0.kind) certificate \($0.serial) until \(r.validity[$0.kind] ?? $0.notAfter)" }
            parts += (r.notIssued ?? []).map { "\($0.kind): \($0.reason)" }
            if let revoked = r.revoked { parts.append("revoked: " + revoked.joined(separator: ", ")) }
            parts.append("fee \(r.fee) yen")
            return parts.joined(separator: "; ")
        case .card(let d):
            return "card \(d.card.id) \(d.card.status); " + d.certificates.map { "\($0.serial) \($0.status)" }.joined(separator: ", ")
        case .certificateIssued(let r):
            return "\(r.certificate.kind) certificate \(r.certificate.serial) until \(r.validity)" + (r.revoked.map { "; \($0) superseded" } ?? "") + "; fee \(r.fee) yen"
        case .revocation(let r):
            return "certificate \(r.serial) \(r.status)" + (r.reason.map { " (\($0))" } ?? "")
        case .pin(let p):
            return p.ok ? "PIN of \(p.serial) reset; \(p.triesLeft) tries left" : (p.error?.message ?? "PIN not reset")
        case .residentUpdated(let u):
            return "resident \(u.id): changed \(u.changed.joined(separator: ", "))" + (u.revoked.isEmpty ? "" : "; revoked \(u.revoked.joined(separator: ", "))")
                + (u.note.map { "; \($0)" } ?? "")
        }
    }

    // MARK: pages

    func strings(_ visit: Visit) -> [String: String] { ConsoleStrings.strings(visit.lang) }

    /// A page: `template` rendered into the layout, with the session's name, role, CSRF token and message.
    func page(_ template: String, title: String, data: [String: Any], visit: Visit, status: HTTPResponse.Status = .ok) -> Response {
        var context = data
        context["t"] = strings(visit)
        context["lang"] = visit.lang.rawValue
        context["isJa"] = visit.lang == .ja
        context["pageTitle"] = title
        if let s = visit.session {
            context["user"] = true
            context["name"] = s.name
            context["role"] = s.role.rawValue
            context["csrf"] = s.csrf
            context["canOperate"] = s.role.allows(.operator)
            context["canAdmin"] = s.role.allows(.admin)
            if let f = sessions.takeFlash(s.id) {
                context["flash"] = ["kind": f.kind.rawValue, "aria": f.kind == .error ? "alert" : "status", "title": f.title, "text": f.text]
            }
        }
        context["body"] = ConsoleTemplates.library.render(context, withTemplate: template) ?? ""
        let html = ConsoleTemplates.library.render(context, withTemplate: "layout") ?? ""
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    func refusal(_ visit: Visit, _ text: String, status: HTTPResponse.Status) -> Response {
        let t = strings(visit)
        return page("message", title: t["forbidden"] ?? "", data: ["title": t["forbidden"] ?? "", "text": text, "back": "/console/"], visit: visit, status: status)
    }

    func failure(_ error: any Error, visit: Visit, back: String) -> Response {
        let e = SandboxError.from(error)
        let t = strings(visit)
        let status: HTTPResponse.Status = e.code == "not-found" ? .notFound : e.code == "invalid-input" || e.code == "bad-arguments" ? .badRequest : .unprocessableContent
        if status.code >= 500 { logger.error("console page failed", metadata: ["path": "\(visit.path)", "error": "\(e.message)"]) }
        return page("message", title: t[status == .notFound ? "notFound" : "refused"] ?? "", data: ["title": t[status == .notFound ? "notFound" : "refused"] ?? "", "text": e.message, "back": back],
                    visit: visit, status: status)
    }

    static let reasonOptions: [(value: String, label: String)] = {
        // The window's events first, the commonest first; any other event the domain knows after them.
        let common = ["lost", "stolen", "pin-leaked", "misuse", "moved", "death", "stop", "voluntary-stop", "damaged", "destroyed-before-delivery"]
        let events = common.filter { RevocationReason.windowEvents[$0] != nil }
            + RevocationReason.windowEvents.keys.filter { !common.contains($0) }.sorted()
        var out = events.compactMap { e in RevocationReason.windowEvents[e].map { (e, "\(e) → \($0.rawValue)") } }
        out += RevocationReason.allCases.filter { $0 != .certificateHold }.map { ($0.rawValue, $0.rawValue) }
        return out
    }()

    func residentData(_ p: ConsoleResidentPage, visit: Visit) -> [String: Any] {
        let t = strings(visit)
        let back = "/console/residents/\(p.resident.id)"
        let reasons: [[String: Any]] = Self.reasonOptions.map { ["value": $0.value, "label": $0.label] }
        func limit(_ l: ValidityLimit) -> String { t["limit." + l.rawValue] ?? l.rawValue }
        let r = p.resident
        var resident: [String: Any] = [
            "id": r.id, "name": r.name, "dateOfBirth": r.dateOfBirth, "age": p.age, "sex": t[r.sex] ?? r.sex, "address": r.address,
            "prefecture": r.prefecture, "municipality": r.municipality, "municipalityCode": r.municipalityCode, "adultWard": r.adultWard,
        ]
        if let until = r.residenceUntil { resident["residenceUntil"] = until }
        let cards: [[String: Any]] = p.cards.map { c in
            let certs: [[String: Any]] = c.certificates.map { x in
                let cr = x.resource
                var row: [String: Any] = ["serial": cr.serial, "kind": cr.kind, "kindLabel": t[cr.kind] ?? cr.kind, "form": cr.form, "status": cr.status,
                                          "reason": cr.reason ?? "", "notBefore": cr.notBefore, "notAfter": cr.notAfter, "limit": limit(x.limit),
                                          "inWindow": x.inRenewalWindow, "pinTriesLeft": cr.pinTriesLeft ?? 0,
                                          "locked": cr.locked ?? false, "live": cr.status == "good"]
                if let opens = x.renewalOpens { row["renewalOpens"] = opens }   // absent, not "": a section shows for any string
                return row
            }
            return ["id": c.card.id, "status": c.card.status, "issuedAt": c.card.issuedAt, "notAfter": c.card.notAfter, "limit": limit(c.limit),
                    "canSuspend": c.card.status == "active", "canResume": c.card.status == "suspended", "canRevoke": c.card.status != "revoked",
                    "certificates": certs]
        }
        let pending: [[String: Any]] = p.pending.map { ["id": $0.id, "operation": $0.operation, "completableFrom": $0.completableFrom] }
        return ["r": resident, "cards": cards, "pending": pending, "hasPending": !pending.isEmpty, "back": back, "reasons": reasons]
    }

    // MARK: HTTP helpers

    static func redirect(_ to: String) -> Response {
        Response(status: .seeOther, headers: [.location: to])
    }

    /// Only a path of this console (no scheme, no host, no `//`) is followed after a form.
    static func safeBack(_ text: String?) -> String {
        guard let text, text.hasPrefix("/console/"), !text.contains("//"), !text.contains("\\"),
              text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f }) else { return "/console/" }
        return text
    }

    static func cookies(_ request: Request) -> [String: String] {
        var out: [String: String] = [:]
        for field in request.headers[values: .cookie] {
            for pair in field.split(separator: ";") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                guard kv.count == 2 else { continue }
                out[kv[0].trimmingCharacters(in: .whitespaces)] = kv[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return out
    }

    /// `?lang=ja|en` (remembered in a cookie), else the cookie, else the browser's first choice.
    static func language(_ request: Request, cookies: [String: String]) -> (ConsoleLanguage, Bool) {
        if let asked = query(request)["lang"].flatMap(ConsoleLanguage.init(rawValue:)) { return (asked, true) }
        if let kept = cookies[languageCookie].flatMap(ConsoleLanguage.init(rawValue:)) { return (kept, false) }
        let accept = request.headers[.acceptLanguage]?.lowercased() ?? ""
        return (accept.hasPrefix("ja") ? .ja : .en, false)
    }

    static func query(_ request: Request) -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in request.uri.queryParameters { out[String(k)] = String(v) }
        return out
    }

    /// An `application/x-www-form-urlencoded` body (what every console form sends).
    static func form(_ request: Request) async throws -> [String: String] {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maximumBodyBytes {
            throw SandboxError("too-large", "a form must be under \(maximumBodyBytes) bytes")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maximumBodyBytes)
        } catch {
            throw SandboxError("too-large", "a form must be under \(maximumBodyBytes) bytes")
        }
        return decodeForm(String(buffer: buffer))
    }

    static func decodeForm(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { (String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding) ?? "" }
            let key = decode(kv[0])
            guard !key.isEmpty else { continue }
            out[key] = kv.count > 1 ? decode(kv[1]) : ""
        }
        return out
    }

    /// Reads through the CA services off the cooperative pool, with the token's name bound.
    func run<T: Sendable>(_ session: ConsoleSession, _ work: @escaping @Sendable (Sandbox) throws -> T) async throws -> T {
        let sandbox = self.sandbox, name = session.name
        return try await Blocking.run { try AuditActor.$name.withValue(name) { try work(sandbox) } }
    }
}
