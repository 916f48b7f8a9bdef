import Foundation
import JPKIDomain
import JPKIStore
import OpenSSLKit

/// How `createScenario` hands out the test identities.
public struct ScenarioOptions: Sendable {
    /// Write each certificate's files (PEM, PKCS#12, PEM bundle) under `out/<scenario>/`, and the roots under `out/roots/`.
    public var out: URL?
    /// Put each certificate's PKCS#12 (base64) and PEM bundle in the answer (the admin API's way).
    public var includeIdentities: Bool
    /// The PKCS#12 password; a random one when nil.
    public var password: String?

    public init(out: URL? = nil, includeIdentities: Bool = false, password: String? = nil) {
        self.out = out; self.includeIdentities = includeIdentities; self.password = password
    }
}

extension Sandbox {
    // MARK: The catalogue

    /// The scenarios, each with whether this sandbox is old enough for it now (`scenario list`).
    public func scenarioList() throws -> ScenarioListResource {
        let now = try now()
        return ScenarioListResource(asOf: ISOTime.display(now), scenarios: ScenarioCatalogue.entries.map { e in
            let earliest = earliestStep(e, today: LocalDate(now))
            return ScenarioInfo(name: e.name, description: e.description, descriptionJa: e.descriptionJa,
                                earliestStep: earliest.map { LocalDate($0).description },
                                available: earliest.map { historyRefusal(e, issueAt: $0) == nil } ?? true)
        })
    }

    /// The instant of a past scenario's first step (its card issued five years back, at 10:00 in Tokyo).
    func earliestStep(_ e: ScenarioCatalogue.Entry, today: LocalDate) -> Date? {
        guard let days = e.lastValidDayFromToday else { return nil }
        return ScenarioCatalogue.pastPlan(lastValidDay: today.addingDays(days)).issueDay.startInTokyo.addingTimeInterval(10 * 3600)
    }

    /// Why the sandbox cannot act at `issueAt` (its roots did not exist yet, or no longer issue), or nil.
    func historyRefusal(_ e: ScenarioCatalogue.Entry, issueAt: Date) -> String? {
        let created = CertificateKind.allCases.map { root($0).certificate.notBefore }.max()!
        let expires = CertificateKind.allCases.map { root($0).certificate.notAfter }.min()!
        if issueAt < created {
            let suggestion = LocalDate(issueAt).addingYears(-1)
            return "the \(e.name) scenario acts in the past: its card is issued on \(LocalDate(issueAt)), five years before its certificates end, "
                + "but this sandbox's roots were created on \(LocalDate(created)) and a certificate cannot predate its issuer. "
                + "Use a sandbox initialised earlier (e.g. `jpki-sandbox init --at \(suggestion)`; see docs/scenarios.md); nothing was changed"
        }
        if issueAt > expires {
            return "the \(e.name) scenario's first step (\(LocalDate(issueAt))) falls after the roots expired (\(LocalDate(expires))); nothing was changed"
        }
        return nil
    }

    /// This sandbox acting at a fixed instant: the same register, roots and key source, another clock.
    /// Scenarios make their past steps through it, without moving the shared clock.
    func acting(at instant: Date) -> Sandbox {
        let other = Sandbox(home: home, store: store, config: config, table: table, rootGenerations: rootGenerations, clockOverride: instant, logger: logger)
        other.keySource = keySource
        return other
    }

    // MARK: Creating

    /// Makes the named scenario: a fresh resident (a new id each call) brought into the scenario's state
    /// through the CA services, each step one transaction with its audit entry, then one `scenario.create`
    /// audit entry. Returns the resident, card, certificates with the verdict a relying party must reach
    /// now, the PINs, and (by `options`) the exported identities.
    ///
    /// An unknown name is `not-found` and a sandbox too young for a scenario's past steps is `refused`,
    /// both before anything changes. The steps are separate transactions: concurrent scenarios never
    /// share a resident, so they do not interfere.
    public func createScenario(_ name: String, options: ScenarioOptions = ScenarioOptions()) throws -> ScenarioResult {
        let entry = try ScenarioCatalogue.entry(name)
        if let password = options.password, password.isEmpty { throw SandboxError.invalid("the PKCS#12 password must not be empty") }
        let now = try now()
        let today = LocalDate(now)
        if let issueAt = earliestStep(entry, today: today), let why = historyRefusal(entry, issueAt: issueAt) {
            throw SandboxError.refused(why)
        }
        if let out = options.out { try Self.prepareFolder(out) }
        let person = try ScenarioPerson(table: table)
        let made = try perform(entry, person: person, now: now, today: today)
        return try result(entry, made: made, options: options)
    }

    /// Every scenario, its files under `out`, and `out/manifest.json` (docs/scenarios.md). Refused before
    /// anything changes when the sandbox is too young for one of them.
    public func createAllScenarios(out: URL, password: String? = nil) throws -> ScenarioManifest {
        if let password, password.isEmpty { throw SandboxError.invalid("the PKCS#12 password must not be empty") }
        let today = LocalDate(try now())
        for e in ScenarioCatalogue.entries {
            if let issueAt = earliestStep(e, today: today), let why = historyRefusal(e, issueAt: issueAt) { throw SandboxError.refused(why) }
        }
        try Self.prepareFolder(out)
        let password = try password ?? ScenarioPerson.randomPassword()
        // Side by side, one per core: each scenario has residents of its own and each step is one transaction.
        final class Slots: @unchecked Sendable {
            var results: [Result<ScenarioResult, any Error>?]
            let lock = NSLock()
            init(_ n: Int) { results = Array(repeating: nil, count: n) }
        }
        let entries = ScenarioCatalogue.entries
        let slots = Slots(entries.count)
        DispatchQueue.concurrentPerform(iterations: entries.count) { i in
            let r = Result { try createScenario(entries[i].name, options: ScenarioOptions(out: out, password: password)) }
            slots.lock.lock(); slots.results[i] = r; slots.lock.unlock()
        }
        let results = try slots.results.map { try $0!.get() }
        let manifest = ScenarioManifest(
            format: ScenarioManifest.formatName, asOf: ISOTime.display(try now()),
            roots: Dictionary(uniqueKeysWithValues: CertificateKind.allCases.map { ($0.rawValue, Self.rootFile($0)) }),
            ocspUrl: config.ocspInCertificates ? config.effectiveOCSPURL : nil, password: password, scenarios: results)
        try AtomicFile.write(Array(try ResourceJSON.data(manifest, pretty: true)) + [0x0A], to: out.appendingPathComponent("manifest.json"), mode: 0o644)
        return manifest
    }

    static func rootFile(_ kind: CertificateKind) -> String { "roots/\(kind.rawValue)-root.pem" }

    /// The output folder and its `roots/`, made before any step, so that an unusable folder changes nothing.
    static func prepareFolder(_ out: URL) throws {
        do {
            try FileManager.default.createDirectory(at: out.appendingPathComponent("roots"), withIntermediateDirectories: true)
        } catch {
            throw SandboxError("io", "cannot create the folder \(out.path): \(error.localizedDescription); nothing was changed")
        }
    }

    /// What the steps left behind, for the answer.
    struct ScenarioMade {
        var residentID: Int64
        var pins: ScenarioPINs
        var request: AgentRequestResource.Request?
    }

    /// The steps of each scenario: calls of the CA services, nothing else.
    private func perform(_ e: ScenarioCatalogue.Entry, person p: ScenarioPerson, now: Date, today: LocalDate) throws -> ScenarioMade {
        let pins = ScenarioPINs(sign: p.signPIN, auth: p.authPIN)
        func adult(birth: LocalDate = p.birth, residenceUntil: String? = nil, adultWard: Bool = false, at sandbox: Sandbox? = nil) throws -> Resident {
            try (sandbox ?? self).addResident(name: p.name, birth: birth.description, sex: p.sex, address: p.address,
                                              residenceUntil: residenceUntil, adultWard: adultWard)
        }
        func issue(_ r: Resident, sign: Bool = true, applicant: Applicant = .self, at sandbox: Sandbox? = nil) throws -> CardIssuance {
            try (sandbox ?? self).issueCard(residentID: r.id, signPIN: sign ? p.signPIN : nil, authPIN: p.authPIN, applicant: applicant)
        }
        func serial(_ issued: CardIssuance, _ kind: CertificateKind) throws -> String {
            guard let s = issued.certificates.first(where: { $0.kind == kind })?.serial else {
                throw SandboxError("internal", "the \(e.name) scenario expected a \(kind.englishName); the card has none")
            }
            return s
        }

        switch e.name {
        case "good-adult":
            let r = try adult()
            _ = try issue(r)
            return ScenarioMade(residentID: r.id, pins: pins)
        case "minor":
            let r = try adult(birth: today.addingYears(-10).addingDays(-p.dayOfYear))
            _ = try issue(r, sign: false, applicant: .legalRepresentative)
            return ScenarioMade(residentID: r.id, pins: ScenarioPINs(sign: nil, auth: p.authPIN))
        case "adult-ward":
            let r = try adult(adultWard: true)
            _ = try issue(r, sign: false)
            return ScenarioMade(residentID: r.id, pins: ScenarioPINs(sign: nil, auth: p.authPIN))
        case "foreign-resident":
            let r = try adult(residenceUntil: today.addingDays(60).description)
            _ = try issue(r)
            return ScenarioMade(residentID: r.id, pins: pins)
        case "revoked-key-compromise":
            let r = try adult()
            let issued = try issue(r)
            for cert in issued.certificates {
                _ = try revokeCertificate(serial: cert.serial, request: RevocationRequest(reason: .keyCompromise, event: "lost"))
            }
            return ScenarioMade(residentID: r.id, pins: pins)
        case "suspended":
            let r = try adult()
            _ = try suspendCard(id: try issue(r).card.id)
            return ScenarioMade(residentID: r.id, pins: pins)
        case "released":
            let r = try adult()
            let card = try issue(r).card.id
            _ = try suspendCard(id: card)
            _ = try resumeCard(id: card, pin: p.authPIN)
            return ScenarioMade(residentID: r.id, pins: pins)
        case "moved":
            let r = try adult()
            _ = try issue(r)
            _ = try updateResident(id: r.id, name: nil, address: p.newAddress, birth: nil, sex: nil)
            return ScenarioMade(residentID: r.id, pins: pins)
        case "renewed", "expired", "expiring":
            // The card is issued five years back by this sandbox acting then (not by editing rows).
            let plan = ScenarioCatalogue.pastPlan(lastValidDay: today.addingDays(e.lastValidDayFromToday ?? 0))
            let past = acting(at: plan.issueDay.startInTokyo.addingTimeInterval(10 * 3600))
            let r = try adult(birth: plan.birth, at: past)
            let issued = try issue(r, at: past)
            if e.name == "renewed" {
                // Authentication first: the new signing certificate is bounded by it.
                _ = try renewCertificate(serial: try serial(issued, .auth))
                _ = try renewCertificate(serial: try serial(issued, .sign))
            }
            return ScenarioMade(residentID: r.id, pins: pins)
        case "sign-pin-locked", "auth-pin-locked":
            let kind: CertificateKind = e.name == "sign-pin-locked" ? .sign : .auth
            let r = try adult()
            let target = try serial(try issue(r), kind)
            for _ in 0..<PINPolicy.maxFailures(kind) {
                _ = try verifyPIN(serial: target, pin: kind == .sign ? p.wrongSignPIN : p.wrongAuthPIN)
            }
            return ScenarioMade(residentID: r.id, pins: pins)
        case "agent-pending":
            let r = try adult()
            // `card issue --applicant agent`: the window records the first visit (PINs come at the second).
            guard case .pending(let pending) = try window(.cardIssue(resident: r.id, signPIN: nil, authPIN: nil), applicant: .agent) else {
                throw SandboxError("internal", "a voluntary agent's card issue finished at once")
            }
            return ScenarioMade(residentID: r.id, pins: pins, request: pending.request)
        default:
            throw SandboxError("internal", "scenario \(e.name) is in the catalogue but has no steps")
        }
    }

    /// The answer: the register as it now is, the expected verdicts, the audit entry, then the identities.
    private func result(_ e: ScenarioCatalogue.Entry, made: ScenarioMade, options: ScenarioOptions) throws -> ScenarioResult {
        let asOf = try now()
        let (resident, cards, records, statuses) = try store.read { tx in
            let records = try tx.certificates(residentID: made.residentID)
            return (try tx.resident(id: made.residentID), try tx.cards(residentID: made.residentID), records,
                    try records.map { try tx.revocationStatus(serial: $0.serial) })
        }
        guard let resident else { throw SandboxError("internal", "resident \(made.residentID) vanished") }
        let exporting = options.out != nil || options.includeIdentities
        let password = exporting ? try options.password ?? ScenarioPerson.randomPassword() : nil

        var certificates: [ScenarioCertificate] = []
        for (record, status) in zip(records, statuses) {
            let cert = try Certificate(der: record.der)
            let label = record.reason == RevocationReason.superseded.rawValue ? "\(record.kind.rawValue)-superseded" : record.kind.rawValue
            certificates.append(ScenarioCertificate(
                label: label, certificate: try CertificateResource(full: record, now: asOf),
                expected: Self.expectedVerdict(record, status: status, at: asOf),
                ocspUrl: SignatureVerifier.ocspURL(cert), crlUrl: SignatureVerifier.crlURL(cert), files: nil, identity: nil))
        }
        let order = ["sign", "auth", "sign-superseded", "auth-superseded"]
        certificates.sort { (order.firstIndex(of: $0.label) ?? 9, $0.certificate.notBefore) < (order.firstIndex(of: $1.label) ?? 9, $1.certificate.notBefore) }

        let notices = try expiryNotices(within: SandboxDuration(parsing: "3m")).filter { $0.resident.id == made.residentID }.map(NoticeResource.init)

        // The export is audited before any key leaves.
        try store.write { tx in
            try Audit.append(tx, at: asOf, operation: "scenario.create", applicant: nil, residentID: made.residentID,
                             serials: records.map(\.serial), fee: 0, outcome: "ok",
                             detail: e.name + (exporting ? "; identities exported (PKCS#12, PEM)" : ""))
        }
        if let password {
            for i in certificates.indices {
                let serial = certificates[i].certificate.serial
                let kind = CertificateKind(rawValue: certificates[i].certificate.kind) ?? .auth
                // Audited above, once for the scenario (scenario.create … identities exported).
                let record = try certificate(serial: serial)
                let p12 = try pkcs12(record, password: password)
                let bundle = try pemBundle(record)
                if options.includeIdentities {
                    certificates[i].identity = ScenarioIdentity(pkcs12: Data(p12).base64EncodedString(), pem: bundle)
                }
                if let out = options.out {
                    certificates[i].files = try writeIdentity(out: out, scenario: e.name, label: certificates[i].label, kind: kind,
                                                              certificatePEM: certificates[i].certificate.pem ?? "", pkcs12: p12, bundle: bundle)
                }
            }
        }
        return ScenarioResult(
            scenario: e.name, description: e.description, asOf: ISOTime.display(asOf), resident: ResidentResource(resident),
            card: cards.max(by: { $0.id < $1.id }).map { CardResource($0, now: asOf) }, pins: made.pins,
            certificates: certificates, request: made.request, notices: notices.isEmpty ? nil : notices, password: password)
    }

    /// The verdict from the status a relying party sees (`CertificateRecord.status(at:)`) and the OCSP
    /// answer from the responder's own decision (`RevocationService.status`).
    static func expectedVerdict(_ record: CertificateRecord, status: RevocationStatusRecord?, at now: Date) -> ExpectedVerdict {
        var v = ExpectedVerdict(verdict: "good", reason: nil, revokedAt: nil, ocsp: "good", ocspReason: nil)
        switch record.status(at: now) {
        case "revoked": v.verdict = "revoked"; v.reason = record.reason
        case "suspended": v.verdict = "revoked"; v.reason = RevocationReason.certificateHold.rawValue
        case let other: v.verdict = other
        }
        if v.verdict == "revoked" { v.revokedAt = record.revokedAt.map(ISOTime.display) }
        if case .revoked(_, let code) = RevocationService.status(status, kind: record.kind, generation: record.rootGeneration, serial: record.serial, responder: nil).0 {
            v.ocsp = "revoked"
            v.ocspReason = RevocationReason.allCases.first { $0.code == code }?.rawValue
        }
        return v
    }

    /// Writes `<label>.pem`, `<label>.p12` and `<label>.bundle.pem` under `out/<scenario>/`, and the root under `out/roots/`.
    private func writeIdentity(out: URL, scenario: String, label: String, kind: CertificateKind, certificatePEM: String,
                               pkcs12: [UInt8], bundle: String) throws -> ScenarioFiles {
        let fm = FileManager.default
        let folder = out.appendingPathComponent(scenario)
        do {
            try fm.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw SandboxError("io", "cannot create \(folder.path): \(error.localizedDescription)")
        }
        let files = ScenarioFiles(certificate: "\(scenario)/\(label).pem", pkcs12: "\(scenario)/\(label).p12",
                                  pem: "\(scenario)/\(label).bundle.pem", root: Self.rootFile(kind))
        try AtomicFile.write(Array(certificatePEM.utf8), to: out.appendingPathComponent(files.certificate), mode: 0o644)
        try AtomicFile.write(pkcs12, to: out.appendingPathComponent(files.pkcs12), mode: 0o600)
        try AtomicFile.write(Array(bundle.utf8), to: out.appendingPathComponent(files.pem), mode: 0o600)
        try AtomicFile.write(Array(root(kind).pem.utf8), to: out.appendingPathComponent(files.root), mode: 0o644)
        return files
    }
}

/// A fresh made-up person for one scenario: name, sex, birth, address, PINs, all random.
struct ScenarioPerson {
    let name: String
    let sex: String
    let birth: LocalDate
    let address: String
    /// Another municipality's address (moved).
    let newAddress: String
    let signPIN: String
    let authPIN: String
    let wrongSignPIN: String
    let wrongAuthPIN: String
    /// 1…300, to vary a minor's birthday.
    let dayOfYear: Int

    static let surnames = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田", "佐々木", "山口", "松本", "井上"]
    static let givenNames = [("male", "太郎"), ("male", "健太"), ("male", "翔"), ("male", "大輔"), ("male", "誠"), ("male", "拓也"),
                             ("female", "花子"), ("female", "陽子"), ("female", "美咲"), ("female", "愛"), ("female", "由美"), ("female", "彩")]
    /// Municipalities of the default table (ca-config/municipalities.json); those missing from a custom table are skipped.
    static let places = ["北海道札幌市中央区北一条西", "宮城県仙台市青葉区国分町", "埼玉県川越市元町", "東京都千代田区千代田", "東京都新宿区西新宿",
                         "神奈川県横浜市中区日本大通", "愛知県名古屋市中区三の丸", "大阪府大阪市北区中之島", "福岡県福岡市中央区天神", "沖縄県那覇市泉崎"]

    init(table: MunicipalityTable) throws {
        var r = try ScenarioRandom()
        let given = Self.givenNames[r.below(Self.givenNames.count)]
        name = Self.surnames[r.below(Self.surnames.count)] + " " + given.1
        sex = given.0
        birth = LocalDate(year: 1955 + r.below(40), month: 1 + r.below(12), day: 1 + r.below(28))!
        let usable = Self.places.filter { (try? table.locate($0, tableHint: "")) != nil }
        guard usable.count >= 2 else {
            throw SandboxError.config("the municipality table lacks the places scenarios use (\(Self.places.joined(separator: ", ")))")
        }
        let first = r.below(usable.count)
        let second = (first + 1 + r.below(usable.count - 1)) % usable.count
        address = "\(usable[first])\(1 + r.below(9))丁目\(1 + r.below(30))番\(1 + r.below(20))号"
        newAddress = "\(usable[second])\(1 + r.below(9))丁目\(1 + r.below(30))番\(1 + r.below(20))号"
        let letters = Array("ABCDEFGHJKLMNPQRSTUVWXYZ"), digits = Array("0123456789")
        let l = String((0..<4).map { _ in letters[r.below(letters.count)] }), d = String((0..<4).map { _ in digits[r.below(10)] })
        signPIN = l + d
        wrongSignPIN = d + l          // valid in form, never equal (digits first)
        let auth = r.below(10_000)
        authPIN = String(format: "%04d", auth)
        wrongAuthPIN = String(format: "%04d", (auth + 1 + r.below(9_999)) % 10_000)
        dayOfYear = 1 + r.below(300)
    }

    /// A PKCS#12 password: 16 letters and digits.
    static func randomPassword() throws -> String {
        var r = try ScenarioRandom()
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        return String((0..<16).map { _ in alphabet[r.below(alphabet.count)] })
    }
}

/// Random numbers from OpenSSL's generator (a pool of bytes, refilled as needed).
struct ScenarioRandom {
    private var bytes: [UInt8] = []
    init() throws { bytes = try Crypto.randomBytes(256) }

    /// A uniform number in 0..<n (n ≥ 1), by rejection.
    mutating func below(_ n: Int) -> Int {
        precondition(n >= 1)
        let limit = UInt32.max - UInt32.max % UInt32(n)
        while true {
            if bytes.count < 4 { bytes += (try? Crypto.randomBytes(256)) ?? (0..<256).map { _ in UInt8.random(in: 0...255) } }
            let v = bytes.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            bytes.removeFirst(4)
            if v < limit { return Int(v % UInt32(n)) }
        }
    }
}
