import Foundation
import Testing

/// Named scenarios (`scenario list`, `scenario create`), checked by relying parties we did not write:
/// `openssl verify` (fetching the CRL), `openssl ocsp` against a running `serve`, and
/// pyhanko-certvalidator for the signing certificates (scripts/interop/scenario_check.py).
@Suite struct ScenarioTests {
    typealias Verdict = (verdict: String, reason: String?)

    /// What each scenario must give, label by label, as the issue describes it (not read from the code).
    static let table: [String: [String: Verdict]] = [
        "good-adult": ["sign": ("good", nil), "auth": ("good", nil)],
        "minor": ["auth": ("good", nil)],
        "adult-ward": ["auth": ("good", nil)],
        "foreign-resident": ["sign": ("good", nil), "auth": ("good", nil)],
        "revoked-key-compromise": ["sign": ("revoked", "keyCompromise"), "auth": ("revoked", "keyCompromise")],
        "suspended": ["sign": ("revoked", "certificateHold"), "auth": ("revoked", "certificateHold")],
        "released": ["sign": ("good", nil), "auth": ("good", nil)],
        "moved": ["sign": ("revoked", "affiliationChanged"), "auth": ("good", nil)],
        "renewed": ["sign": ("good", nil), "auth": ("good", nil),
                    "sign-superseded": ("revoked", "superseded"), "auth-superseded": ("revoked", "superseded")],
        "expired": ["sign": ("expired", nil), "auth": ("expired", nil)],
        "expiring": ["sign": ("good", nil), "auth": ("good", nil)],
        "sign-pin-locked": ["sign": ("good", nil), "auth": ("good", nil)],
        "auth-pin-locked": ["sign": ("good", nil), "auth": ("good", nil)],
        "agent-pending": [:],
    ]

    /// The day six years back in Tokyo: a sandbox initialised then can act five years in the past.
    static var sixYearsAgo: String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Tokyo")!
        let d = calendar.dateComponents([.year, .month, .day], from: calendar.date(byAdding: .year, value: -6, to: Date())!)
        return String(format: "%04d-%02d-%02d", d.year!, d.month!, min(d.day!, 28))
    }

    /// A sandbox initialised six years back whose certificates name the test's server, and that server.
    struct Served {
        let home: TempHome
        let server: ServerProcess
    }

    func serve() throws -> Served {
        let home = TempHome()
        let port = ServerProcess.freePort()
        let r = try Run.cli(["init", "--config", try home.config(port: port).path, "--at", Self.sixYearsAgo, "--json"], home: home.sandbox)
        #expect(r.status == 0, "init: \(r.stderr)\(r.stdout)")
        return Served(home: home, server: try ServerProcess(home: home.sandbox, port: port, folder: home.url))
    }

    /// What openssl concludes: `verify` with the CRL fetched from the certificate's distribution point,
    /// and the OCSP answer of the certificate's responder.
    struct Observed: CustomStringConvertible {
        var verdict: String
        var ocsp: String
        var ocspReason: String?
        var detail: String
        var description: String { "verify: \(verdict), ocsp: \(ocsp) \(ocspReason ?? "") — \(detail)" }
    }

    static func observe(certificate: URL, root: URL, ocspURL: String) throws -> Observed {
        let v = try Run.openssl(["verify", "-crl_check", "-crl_download", "-CAfile", root.path, certificate.path])
        let vText = v.stdout + v.stderr
        var verdict = "good"
        if v.status != 0 {
            verdict = vText.contains("error 23 at") ? "revoked" : vText.contains("error 10 at") ? "expired" : vText.contains("error 9 at") ? "notYetValid" : "error"
        }
        let o = try Run.openssl(["ocsp", "-issuer", root.path, "-cert", certificate.path, "-url", ocspURL, "-CAfile", root.path])
        let oText = o.stdout + o.stderr
        var ocsp = "error"
        if o.status == 0, oText.contains("Response verify OK"), let first = o.stdout.split(separator: "\n").first {
            ocsp = first.components(separatedBy: ": ").last ?? "error"
        }
        let reason = o.stdout.split(separator: "\n").first { $0.contains("Reason: ") }.map { $0.components(separatedBy: "Reason: ").last! }
        return Observed(verdict: verdict, ocsp: ocsp, ocspReason: reason, detail: vText + oText)
    }

    /// Checks every certificate of a scenario answer (or manifest entry) against the table and openssl.
    /// `base`: the folder its file names are relative to.
    static func check(_ s: [String: Any], base: URL) throws {
        let name = s["scenario"] as? String ?? "?"
        let certificates = s["certificates"] as? [[String: Any]] ?? []
        let wanted = try #require(table[name], "a scenario the table does not know: \(name)")
        #expect(Set(certificates.map { $0["label"] as? String ?? "" }) == Set(wanted.keys), "\(name): labels")
        for c in certificates {
            let label = c["label"] as? String ?? ""
            let expected = c["expected"] as? [String: Any] ?? [:]
            let verdict = expected["verdict"] as? String
            guard let want = wanted[label] else { continue }
            #expect(verdict == want.verdict && expected["reason"] as? String == want.reason,
                    "\(name)/\(label): the answer expects \(expected), the issue says \(want)")
            let files = try #require(c["files"] as? [String: String], "\(name)/\(label): files")
            #expect(files.values.allSatisfy { !$0.hasPrefix("/") }, "relative paths: \(files)")
            let cert = base.appendingPathComponent(files["certificate"]!)
            let pem = (c["certificate"] as? [String: Any])?["pem"] as? String
            #expect(try String(contentsOf: cert, encoding: .utf8) == pem, "\(name)/\(label): the file is the certificate answered")
            let seen = try observe(certificate: cert, root: base.appendingPathComponent(files["root"]!), ocspURL: c["ocspUrl"] as? String ?? "")
            #expect(seen.verdict == verdict, "\(name)/\(label): \(seen)")
            #expect(seen.ocsp == expected["ocsp"] as? String && seen.ocspReason == expected["ocspReason"] as? String,
                    "\(name)/\(label): expected OCSP \(expected["ocsp"] ?? "-") \(expected["ocspReason"] ?? "-"), \(seen)")
            // The OCSP expectation follows the verdict: revoked with the same reason, otherwise good.
            #expect(expected["ocsp"] as? String == (verdict == "revoked" ? "revoked" : "good"), "\(name)/\(label): \(expected)")
        }
    }

    /// pyhanko-certvalidator (and openssl again) over the given answers, through scenario_check.py.
    static func pyhanko(_ files: [URL], signing: Int) throws {
        guard Run.venvPython != nil else {
            #expect(!Run.interopRequired, "JPKI_REQUIRE_INTEROP=1 but \(InteropMissing())")
            return
        }
        let r = try Run.interop("scenario_check.py", files.map(\.path))
        #expect(r.status == 0, "scenario_check: \(r.stdout)\(r.stderr)")
        #expect(r.json["pyhanko"] as? Int == signing, "every signing certificate validated by pyhanko: \(r.stdout)")
        #expect((r.json["mismatches"] as? [Any])?.isEmpty == true, "\(r.stdout)")
    }

    static func signingCount() -> Int { table.values.reduce(0) { $0 + $1.keys.filter { $0.hasPrefix("sign") }.count } }

    @Test("every scenario made through the CLI, concurrently: openssl verify, openssl ocsp and pyhanko-certvalidator reach exactly the verdict of its answer")
    func eachScenario() throws {
        let s = try serve()
        defer { s.server.stop() }
        let list = try s.home.cli(["scenario", "list", "--json"])
        let names = (list.json["scenarios"] as? [[String: Any]] ?? []).map { $0["name"] as? String ?? "" }
        #expect(Set(names) == Set(Self.table.keys), "the catalogue: \(list.stdout)")
        #expect((list.json["scenarios"] as? [[String: Any]] ?? []).allSatisfy { $0["available"] as? Bool == true })

        let out = s.home.url.appendingPathComponent("single")
        final class Answers: @unchecked Sendable { var byName: [String: Run.Result] = [:]; let lock = NSLock() }
        let answers = Answers()
        // Three at a time: the scenarios share the register, each with residents of its own.
        let homePath = s.home.sandbox
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 3
        for name in names {
            queue.addOperation {
                let r = (try? Run.cli(["scenario", "create", name, "--out", out.path, "--json"], home: homePath)) ?? Run.Result(status: -1, stdout: "", stderr: "did not run")
                answers.lock.lock(); answers.byName[name] = r; answers.lock.unlock()
            }
        }
        queue.waitUntilAllOperationsAreFinished()

        var files: [URL] = []
        var residents = Set<Int>()
        for name in names {
            let r = try #require(answers.byName[name])
            #expect(r.status == 0, "\(name): \(r.stdout)\(r.stderr)")
            let file = out.appendingPathComponent("\(name).json")
            try r.stdout.write(to: file, atomically: true, encoding: .utf8)
            files.append(file)
            #expect(r.json["scenario"] as? String == name)
            residents.insert((r.json["resident"] as? [String: Any])?["id"] as? Int ?? -1)
            try Self.check(r.json, base: out)
        }
        #expect(residents.count == names.count, "a fresh resident for each scenario")
        try Self.pyhanko(files, signing: Self.signingCount())

        // The states behind the verdicts.
        func answer(_ name: String) -> [String: Any] { answers.byName[name]?.json ?? [:] }
        func certificate(_ name: String, _ label: String) -> [String: Any] {
            (answer(name)["certificates"] as? [[String: Any]] ?? []).first { $0["label"] as? String == label }?["certificate"] as? [String: Any] ?? [:]
        }
        func pins(_ name: String) -> [String: String] { answer(name)["pins"] as? [String: String] ?? [:] }

        #expect(pins("minor")["sign"] == nil && pins("minor")["auth"] != nil)
        #expect((answer("suspended")["card"] as? [String: Any])?["status"] as? String == "suspended")
        #expect((answer("released")["card"] as? [String: Any])?["status"] as? String == "active")
        let stay = (answer("foreign-resident")["resident"] as? [String: Any])?["residenceUntil"] as? String
        #expect(stay != nil && (certificate("foreign-resident", "sign")["notAfter"] as? String)?.hasPrefix(stay ?? "-") == true)
        #expect((certificate("renewed", "sign-superseded")["notAfter"] as? String ?? "") < (certificate("renewed", "sign")["notAfter"] as? String ?? ""))
        let notices = (answer("expiring")["notices"] as? [[String: Any]] ?? []).compactMap { $0["serial"] as? String }
        #expect(Set(notices) == Set([certificate("expiring", "sign")["serial"] as? String ?? "?", certificate("expiring", "auth")["serial"] as? String ?? "?"]))
        // A locked PIN refuses even the right one.
        for (name, label) in [("sign-pin-locked", "sign"), ("auth-pin-locked", "auth")] {
            #expect(certificate(name, label)["locked"] as? Bool == true)
            let right = try s.home.cli(["pin", "verify", certificate(name, label)["serial"] as? String ?? "", "--pin", pins(name)[label] ?? "", "--json"])
            #expect(right.status == 1 && right.json["locked"] as? Bool == true, "\(name): \(right.stdout)")
        }
        // The agent's request is real: its second visit, the next day, issues the card with the PINs given.
        let request = try #require(answer("agent-pending")["request"] as? [String: Any])
        #expect(request["status"] as? String == "pending" && answer("agent-pending")["card"] == nil)
        let second = try s.home.cli(["request", "complete", String(request["id"] as? Int ?? 0), "--answer", request["mailedAnswerCode"] as? String ?? "",
                                     "--sign-pin", pins("agent-pending")["sign"] ?? "", "--auth-pin", pins("agent-pending")["auth"] ?? "",
                                     "--at", request["completableFrom"] as? String ?? "", "--json"])
        #expect(second.status == 0, "second visit: \(second.stdout)\(second.stderr)")
        // The PKCS#12 opens with the answer's password and holds the certificate.
        let ga = answer("good-adult")
        let files0 = ((ga["certificates"] as? [[String: Any]])?.first?["files"] as? [String: String]) ?? [:]
        let p12 = try Run.openssl(["pkcs12", "-in", out.appendingPathComponent(files0["pkcs12"] ?? "").path, "-passin", "pass:\(ga["password"] as? String ?? "")", "-nokeys", "-clcerts"])
        #expect(p12.status == 0 && p12.stdout.contains(String((certificate("good-adult", "sign")["pem"] as? String ?? "-").split(separator: "\n")[1])), "\(p12.stderr)")
    }

    @Test("scenario create --all --out DIR: the fixture folder, copied into a fresh directory, passes the same checks against its manifest")
    func fixtureFolder() throws {
        let s = try serve()
        defer { s.server.stop() }
        let made = s.home.url.appendingPathComponent("made")
        let r = try s.home.cli(["scenario", "create", "--all", "--out", made.path, "--json"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let copy = s.home.url.appendingPathComponent("elsewhere/fixtures")
        try FileManager.default.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: made, to: copy)
        try FileManager.default.removeItem(at: made)

        let manifestFile = copy.appendingPathComponent("manifest.json")
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: manifestFile)) as? [String: Any])
        #expect(manifest["format"] as? String == "jpki-sandbox-scenarios/1")
        let scenarios = manifest["scenarios"] as? [[String: Any]] ?? []
        #expect(Set(scenarios.compactMap { $0["scenario"] as? String }) == Set(Self.table.keys))
        #expect((r.json["scenarios"] as? [Any])?.count == scenarios.count, "the answer is the manifest")
        #expect((manifest["roots"] as? [String: String])?.values.allSatisfy { FileManager.default.fileExists(atPath: copy.appendingPathComponent($0).path) } == true)
        for scenario in scenarios { try Self.check(scenario, base: copy) }
        try Self.pyhanko([manifestFile], signing: Self.signingCount())
    }

    @Test("an unknown scenario is not-found, a sandbox too young for the past is refused, bad arguments and an unusable --out are refused: nothing changes; identities inline")
    func refusals() throws {
        let home = TempHome()
        let now = ISO8601DateFormatter().string(from: Date())
        try home.initialize(at: now)
        let before = try home.snapshot()

        let unknown = try home.cli(["scenario", "create", "no-such-scenario", "--json"])
        #expect(unknown.status == 1 && unknown.errorCode == "not-found", "\(unknown.stdout)")
        #expect(unknown.errorMessage.contains("good-adult"), "the message names the scenarios: \(unknown.errorMessage)")
        let text = try home.cli(["scenario", "create", "no-such-scenario"])
        #expect(text.status == 1 && text.stderr.contains("no scenario named"), "\(text.stderr)")

        let young = try home.cli(["scenario", "create", "expired", "--json"])
        #expect(young.status == 1 && young.errorCode == "refused" && young.errorMessage.contains("init --at"), "\(young.stdout)")
        let all = try home.cli(["scenario", "create", "--all", "--out", home.file("fx").path, "--json"])
        #expect(all.status == 1 && all.errorCode == "refused", "\(all.stdout)")
        #expect(!FileManager.default.fileExists(atPath: home.file("fx").appendingPathComponent("manifest.json").path))
        for args in [["scenario", "create", "--json"], ["scenario", "create", "good-adult", "--all", "--out", "x", "--json"],
                     ["scenario", "create", "--all", "--json"], ["scenario", "create", "good-adult", "--password", "", "--json"]] {
            let r = try home.cli(args)
            #expect(r.status != 0 && ["bad-arguments", "invalid-input"].contains(r.errorCode ?? ""), "\(args): \(r.stdout)")
        }
        let unwritable = try home.cli(["scenario", "create", "good-adult", "--out", "/dev/null/fixtures", "--json"])
        #expect(unwritable.status == 1 && unwritable.errorCode == "io", "\(unwritable.stdout)")
        #expect(try home.snapshot() == before, "nothing changed, the audit log included")

        let list = try home.cli(["scenario", "list", "--json"])
        let available = Dictionary(uniqueKeysWithValues: (list.json["scenarios"] as? [[String: Any]] ?? []).map { ($0["name"] as? String ?? "", $0["available"] as? Bool) })
        #expect(available["good-adult"] == true && available["expired"] == false && available["renewed"] == false, "\(list.stdout)")

        // Identities in the answer (the admin API's way): a PKCS#12 that opens with the password, audited.
        let inline = try home.cli(["scenario", "create", "good-adult", "--identities", "--json"], env: ["JPKI_PASSWORD": "pw-123456"])
        #expect(inline.status == 0, "\(inline.stdout)\(inline.stderr)")
        #expect(inline.json["password"] as? String == "pw-123456")
        let first = (inline.json["certificates"] as? [[String: Any]])?.first
        let identity = try #require(first?["identity"] as? [String: String])
        let p12 = home.file("inline.p12")
        try #require(Data(base64Encoded: identity["pkcs12"] ?? "")).write(to: p12)
        #expect(try Run.openssl(["pkcs12", "-in", p12.path, "-passin", "pass:pw-123456", "-nokeys"]).status == 0)
        #expect(identity["pem"]?.contains("PRIVATE KEY") == true)
        let audit = try home.cli(["audit", "--json"])
        let last = (audit.json["entries"] as? [[String: Any]])?.last
        #expect(last?["operation"] as? String == "scenario.create" && (last?["detail"] as? String ?? "").contains("identities exported"), "\(last ?? [:])")
    }
}
