import Foundation
import JPKIDomain
import JPKIStore
import Testing

/// The two registers (SQLite in a file, PostgreSQL on the server of `JPKI_TEST_POSTGRES_URL`), each
/// opened fresh per test. `scripts/test` starts a throw-away PostgreSQL cluster and sets the URL; under
/// CI a missing URL is a failure, by hand a PostgreSQL test without it only says so and passes.
enum RegisterBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres
    var testDescription: String { rawValue }

    static var postgresURL: String? { ProcessInfo.processInfo.environment["JPKI_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 } }

    struct PostgresMissing: Error, CustomStringConvertible {
        var description: String { "JPKI_TEST_POSTGRES_URL is not set (scripts/test starts a PostgreSQL cluster and sets it)" }
    }

    /// A fresh, empty register: a temporary SQLite file, or a new PostgreSQL database. Nil (with a
    /// message) when PostgreSQL is not available outside CI.
    func fresh() throws -> FreshRegister? {
        switch self {
        case .sqlite:
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jpki-store-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            return FreshRegister(location: dir.appendingPathComponent("register.sqlite").path, cleanup: { try? FileManager.default.removeItem(at: dir) })
        case .postgres:
            guard let server = Self.postgresURL else {
                if ProcessInfo.processInfo.environment["CI"] != nil { throw PostgresMissing() }
                print("skipped: \(PostgresMissing())")
                return nil
            }
            let name = "jpki_test_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased())"
            let url = try Store.createPostgresDatabase(url: server, name: name)
            return FreshRegister(location: url, cleanup: { try? Store.dropPostgresDatabase(url: server, name: name) })
        }
    }
}

final class FreshRegister: @unchecked Sendable {
    /// The SQLite path or the PostgreSQL URL.
    let location: String
    let cleanup: () -> Void
    init(location: String, cleanup: @escaping () -> Void) { self.location = location; self.cleanup = cleanup }
    deinit { cleanup() }

    /// A new store on the register: its own connections, as another process would have.
    func open() throws -> Store {
        Store.isPostgresURL(location) ? try Store(postgresURL: location) : try Store(path: location)
    }
}

@Suite("Register backends (SQLite and PostgreSQL, one suite)")
struct StoreBackendTests {
    static let table: MunicipalityTable = {
        try! MunicipalityTable(json: Data(contentsOf: Run.repoRoot.appendingPathComponent("ca-config/municipalities.json")))
    }()
    static let now = Date(timeIntervalSince1970: 1_795_000_000)

    static func application(_ name: String = "山田 太郎") throws -> ResidentApplication {
        try ResidentApplication(name: name, birth: "1980-12-31", sex: "male", address: "埼玉県川越市元町1丁目3番地1",
                                residenceUntil: nil, adultWard: false, table: table, today: try LocalDate(iso: "2026-11-21"))
    }

    static func certificate(_ serial: String, card: CardRecord, kind: CertificateKind = .auth, municipality: String = "112011",
                            generation: Int = 1) -> CertificateRecord {
        CertificateRecord(serial: serial, kind: kind, cardID: card.id, residentID: card.residentID, municipalityCode: municipality,
                          notBefore: now, notAfter: now.addingTimeInterval(86_400 * 365), der: [0x30, 0x03, 0x02, 0x01, 0x00, 0xFF],
                          keyPEM: "-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n",
                          pin: PINHash(salt: [1, 2, 3, 0], hash: [0, 9, 8, 7], iterations: 1000), pinFailures: 0, state: .issued,
                          revokedAt: nil, reason: nil, issuedAt: now, rootGeneration: generation)
    }

    /// A resident with a card and `count` authentication certificates S0000…, committed.
    static func seed(_ store: Store, count: Int) throws -> [String] {
        try store.write { tx in
            let r = try tx.insertResident(try application(), at: now)
            let card = try tx.insertCard(residentID: r.id, issuedAt: now, notAfter: now.addingTimeInterval(86_400 * 3650))
            return try (0..<count).map { i in
                let serial = String(format: "7%031X", i)
                try tx.insertCertificate(certificate(serial, card: card))
                return serial
            }
        }
    }

    /// Runs `body(i)` on `count` threads at once and waits for all.
    static func concurrently(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for i in 0..<count {
            group.enter()
            Thread.detachNewThread { body(i); group.leave() }
        }
        group.wait()
    }

    final class Box<T>: @unchecked Sendable {
        let lock = NSLock()
        var value: T
        init(_ value: T) { self.value = value }
        func update(_ f: (inout T) -> Void) { lock.lock(); f(&value); lock.unlock() }
    }

    @Test("migrations on a fresh register: every one, in order, once", arguments: RegisterBackend.allCases)
    func migrations(_ backend: RegisterBackend) throws {
        guard let register = try backend.fresh() else { return }
        let store = try register.open()
        #expect(try store.appliedMigrations() == Store.migrationOrder)
        // Opening again applies nothing twice.
        let again = try register.open()
        #expect(try again.appliedMigrations() == Store.migrationOrder)
        #expect(store.dialect == (backend == .sqlite ? .sqlite : .postgres))
    }

    @Test("the municipalities in use, per kind and root generation, each once in order (the CRL partitions)", arguments: RegisterBackend.allCases)
    func municipalitiesInUse(_ backend: RegisterBackend) throws {
        guard let register = try backend.fresh() else { return }
        let store = try register.open()
        try store.write { tx in
            let r = try tx.insertResident(try Self.application(), at: Self.now)
            let card = try tx.insertCard(residentID: r.id, issuedAt: Self.now, notAfter: Self.now.addingTimeInterval(1000))
            let placed: [(String, CertificateKind, Int)] = [("131016", .auth, 1), ("011002", .auth, 1), ("131016", .auth, 1), ("472115", .auth, 1),
                                                            ("011002", .auth, 1), ("271004", .sign, 1), ("131016", .auth, 2), ("472115", .auth, 2)]
            for (i, (code, kind, generation)) in placed.enumerated() {
                try tx.insertCertificate(Self.certificate(String(format: "71%030X", i), card: card, kind: kind, municipality: code,
                                                          generation: generation))
            }
        }
        try store.read { tx in
            let auth = try tx.municipalityCodes(kind: .auth)
            #expect(auth == ["011002", "131016", "472115"])
            #expect(try tx.municipalityCodes(kind: .auth, generation: 2) == ["131016", "472115"])
            #expect(try tx.municipalityCodes(kind: .sign) == ["271004"])
            #expect(try tx.municipalityCodes(kind: .sign, generation: 2).isEmpty)
        }
    }

    @Test("the typed operations read back what they wrote", arguments: RegisterBackend.allCases)
    func typedOperations(_ backend: RegisterBackend) throws {
        guard let register = try backend.fresh() else { return }
        let store = try register.open()
        let now = Self.now
        try store.write { tx in
            try tx.setMeta("k", "v1"); try tx.setMeta("k", "v2"); try tx.setMeta("gone", "x"); try tx.setMeta("gone", nil)
            let r = try tx.insertResident(try Self.application(), at: now)
            let card = try tx.insertCard(residentID: r.id, issuedAt: now, notAfter: now.addingTimeInterval(1000))
            try tx.insertCertificate(Self.certificate("7000000000000000000000000000000A", card: card))
            try tx.insertCertificate(Self.certificate("7000000000000000000000000000000B", card: card, kind: .sign))
            try tx.setCertificateState("7000000000000000000000000000000A", .revoked, reason: "keyCompromise", at: now)
            try tx.setRevocationEvent("7000000000000000000000000000000A", "lost")
            try tx.setCardStatus(card.id, .revoked, at: now)
            try tx.setPINFailures("7000000000000000000000000000000B", 3)
            try tx.addPoolKeys(["PEM-1", "PEM-2"], at: now)
            try tx.insertToken(TokenRecord(name: "ops", role: "operator", hash: String(repeating: "ab", count: 32), createdAt: now))
            let phone = try tx.insertPhone(residentID: r.id, cardID: card.id, platform: .android, at: now)
            #expect(phone.id > 0)
            let request = try tx.insertRequest(operation: "card-issue", arguments: ["a": "b"], residentID: r.id, at: now,
                                               answer: PINHash(salt: [9], hash: [8], iterations: 7))
            #expect(try tx.request(id: request)?.arguments == ["a": "b"])
            #expect(try tx.request(id: request)?.answer == PINHash(salt: [9], hash: [8], iterations: 7))
            try tx.insertRootGeneration(RootGenerationRecord(kind: .sign, generation: 2, der: [1, 2, 0, 3], createdAt: now,
                                                             newWithOld: nil, oldWithNew: [4, 0]))
            try tx.insertAudit(AuditEntry(sandboxTime: "2026-11-21T10:00:00+09:00", realTime: "2026-11-21T01:00:00Z", operation: "op",
                                          applicant: nil, residentID: r.id, serials: ["A", "B"], fee: 300, outcome: "ok", detail: "d",
                                          previousHash: "0", hash: "h1", actor: "ops"))
        }
        try store.read { tx in
            #expect(try tx.meta("k") == "v2")
            #expect(try tx.meta("gone") == nil)
            let residents = try tx.residents()
            #expect(residents.count == 1)
            #expect(residents.first?.name.value == "山田\u{3000}太郎")
            #expect(try tx.resident(id: residents[0].id) == residents[0])
            let cards = try tx.cards(residentID: residents[0].id)
            #expect(cards.map(\.status) == [.revoked])
            let a = try #require(try tx.certificate(serial: "7000000000000000000000000000000A"))
            #expect(a.der == [0x30, 0x03, 0x02, 0x01, 0x00, 0xFF])
            #expect(a.pin.salt == [1, 2, 3, 0])
            #expect(a.state == .revoked && a.reason == "keyCompromise" && a.revokedAt == now)
            #expect(try tx.certificate(serial: "7000000000000000000000000000000B")?.pinFailures == 3)
            #expect(try tx.serialExists("7000000000000000000000000000000A"))
            #expect(try !tx.serialExists("70"))
            #expect(try tx.certificates(cardID: cards[0].id).count == 2)
            #expect(try tx.certificates(kind: .sign).map(\.serial) == ["7000000000000000000000000000000B"])
            #expect(try tx.lastRevokedCardWasLost(residentID: residents[0].id))
            #expect(try tx.certificateLostBefore(cardID: cards[0].id, kind: .auth))
            #expect(try !tx.certificateLostBefore(cardID: cards[0].id, kind: .sign))
            let status = try #require(try tx.revocationStatus(serial: "7000000000000000000000000000000A"))
            #expect(status.state == .revoked && status.revokedAt == Int64(now.timeIntervalSince1970) && status.generation == 1)
            #expect(try tx.revokedCount(kind: .auth) == 1)
            var listed: [String] = []
            try tx.forEachRevoked(kind: .auth) { serial, revokedAt, reason, municipality in
                listed.append(String(decoding: serial, as: UTF8.self) + "|" + String(decoding: reason ?? UnsafeRawBufferPointer(start: nil, count: 0), as: UTF8.self)
                              + "|" + String(decoding: municipality, as: UTF8.self) + "|" + (revokedAt == nil ? "nil" : "t"))
            }
            #expect(listed == ["7000000000000000000000000000000A|keyCompromise|112011|t"])
            #expect(try tx.municipalityCodes(kind: .auth) == ["112011"])
            // status_log: two inserts and one revocation, in order.
            let changes = try tx.statusChanges(after: 0)
            #expect(changes.map(\.serial) == ["7000000000000000000000000000000A", "7000000000000000000000000000000B", "7000000000000000000000000000000A"])
            #expect(try tx.lastStatusChange() == changes.last?.seq)
            #expect(try tx.poolKeyCount() == 2)
            #expect(Set(try tx.poolKeys(limit: 5).map(\.pem)) == ["PEM-1", "PEM-2"])
            #expect(try tx.token(name: "ops")?.role == "operator")
            #expect(try tx.token(hash: String(repeating: "ab", count: 32))?.name == "ops")
            #expect(try tx.phones(residentID: residents[0].id).map(\.platform) == [.android])
            let generations = try tx.rootGenerations()
            #expect(generations.first?.der == [1, 2, 0, 3] && generations.first?.oldWithNew == [4, 0] && generations.first?.newWithOld == nil)
            #expect(try tx.currentRootGeneration(kind: .sign) == 2)
            #expect(try tx.currentRootGeneration(kind: .auth) == 1)
            let audit = try tx.auditEntries()
            #expect(audit.map(\.serials) == [["A", "B"]])
            #expect(audit.first?.actor == "ops" && audit.first?.fee == 300)
            #expect(try tx.lastAuditHash() == "h1")
            let counts = try tx.registerCounts()
            #expect(counts["certificates.auth.revoked"] == 1 && counts["certificates.sign.issued"] == 1 && counts["residents"] == 1)
            #expect(try tx.certificateSerials(since: nil).count == 2)
        }
        // A pool key is taken once.
        let id = try store.read { try $0.poolKeys(limit: 1)[0].id }
        #expect(try store.write { try $0.takePoolKey(id) })
        #expect(try !store.write { try $0.takePoolKey(id) })
        // A failed transaction leaves nothing.
        struct Boom: Error {}
        #expect(throws: Boom.self) { try store.write { tx in try tx.setMeta("k", "v3"); throw Boom() } }
        #expect(try store.read { try $0.meta("k") } == "v2")
    }

    @Test("two processes counting wrong PINs at once never lose a count", arguments: RegisterBackend.allCases)
    func pinCounterRace(_ backend: RegisterBackend) throws {
        guard let register = try backend.fresh() else { return }
        let serial = try Self.seed(try register.open(), count: 1)[0]
        let stores = [try register.open(), try register.open()]
        let perStore = 20
        let errors = Box<[String]>([])
        Self.concurrently(2) { i in
            for _ in 0..<perStore {
                do {
                    try stores[i].write { tx in
                        let failures = try tx.certificate(serial: serial)!.pinFailures
                        try tx.setPINFailures(serial, failures + 1)
                    }
                } catch { errors.update { $0.append("\(error)") } }
            }
        }
        #expect(errors.value == [])
        #expect(try register.open().read { try $0.certificate(serial: serial)?.pinFailures } == 2 * perStore)
    }

    @Test("two processes revoking the same certificates: each revoked once", arguments: RegisterBackend.allCases)
    func revocationRace(_ backend: RegisterBackend) throws {
        guard let register = try backend.fresh() else { return }
        let serials = try Self.seed(try register.open(), count: 10)
        let stores = [try register.open(), try register.open()]
        let wins = Box<[String]>([])
        Self.concurrently(2) { i in
            for serial in serials {
                let won = (try? stores[i].write { tx -> Bool in
                    guard try tx.certificate(serial: serial)?.state == .issued else { return false }
                    try tx.setCertificateState(serial, .revoked, reason: "unspecified", at: Self.now)
                    return true
                }) ?? false
                if won { wins.update { $0.append(serial) } }
            }
        }
        #expect(wins.value.sorted() == serials)
        // One status change for the insert and one for the revocation, per certificate.
        let changes = try register.open().read { try $0.statusChanges(after: 0) }
        #expect(changes.count == 2 * serials.count)
    }

    @Test("cRLNumbers allocated by concurrent processes never repeat", arguments: RegisterBackend.allCases)
    func crlNumberRace(_ backend: RegisterBackend) throws {
        guard let register = try backend.fresh() else { return }
        let stores = [try register.open(), try register.open(), try register.open()]
        let numbers = Box<[Int]>([])
        Self.concurrently(3) { i in
            for round in 0..<15 {
                let count = 1 + (round + i) % 3
                if let first = try? stores[i].write({ try $0.allocateCRLNumbers(kind: .sign, count: count) }) {
                    numbers.update { $0.append(contentsOf: first..<(first + count)) }
                }
            }
        }
        let all = numbers.value.sorted()
        #expect(Set(all).count == all.count)
        #expect(all == Array(1...all.count))
        #expect(try register.open().read { try $0.lastCRLNumber(kind: .sign) } == all.count)
    }

    @Test("a serial is stored once, whichever process inserts it first", arguments: RegisterBackend.allCases)
    func serialUniqueness(_ backend: RegisterBackend) throws {
        guard let register = try backend.fresh() else { return }
        let setup = try register.open()
        _ = try Self.seed(setup, count: 0)
        let card = try #require(try setup.read { tx in try tx.cards(residentID: tx.residents()[0].id).first })
        let stores = [try register.open(), try register.open()]
        let inserted = Box<Int>(0)
        Self.concurrently(2) { i in
            for n in 0..<10 {
                let serial = String(format: "6%031X", n)
                let ok = (try? stores[i].write { tx -> Bool in
                    guard try !tx.serialExists(serial) else { return false }
                    try tx.insertCertificate(Self.certificate(serial, card: card))
                    return true
                }) ?? false
                if ok { inserted.update { $0 += 1 } }
            }
        }
        #expect(inserted.value == 10)
        // And the key refuses a duplicate outright.
        #expect(throws: (any Error).self) { try setup.write { try $0.insertCertificate(Self.certificate(String(format: "6%031X", 0), card: card)) } }
        #expect(try setup.read { try $0.certificates(limit: 100).count } == 10)
    }

    @Test("the change probe sees another process's commit at once", arguments: RegisterBackend.allCases)
    func changeProbe(_ backend: RegisterBackend) throws {
        guard let register = try backend.fresh() else { return }
        let server = try register.open()
        let probe = try server.changeProbe()
        let before = try probe.dataVersion()
        #expect(try probe.dataVersion() == before)
        let other = try register.open()
        try other.write { try $0.setMeta("x", "1") }
        let after = try probe.dataVersion()
        #expect(after != before)
        try other.write { try $0.setMeta("x", "2") }
        #expect(try probe.dataVersion() != after)
    }

    @Test("the SQLite probe's wal-index fast path sees every commit of another process, through WAL checkpoints and restarts")
    func changeProbeAcrossProcesses() throws {
        guard let register = try RegisterBackend.sqlite.fresh() else { return }
        let server = try register.open()
        let probe = try server.changeProbe()
        #expect(probe.watchesWALIndex)
        // Another process commits 120 times; every tenth commit is followed by a checkpoint, every
        // thirtieth by one that truncates the WAL (the next commit restarts it from frame 1).
        // First, before it opens the database itself: this process still holds SQLite's shared lock on
        // the -shm file's dead-man byte (offset 128), so no other process takes itself for the first
        // and rebuilds the wal-index (a probe that closed a descriptor of its own on the file once
        // dropped every lock of the process, and a serve died of SIGBUS).
        let script = """
            import fcntl, os, sqlite3, sys
            fd = os.open(sys.argv[1] + "-shm", os.O_RDWR)
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 128)
                print("dms-free", flush=True)
                fcntl.lockf(fd, fcntl.LOCK_UN, 1, 128)
            except OSError:
                print("dms-held", flush=True)
            os.close(fd)
            db = sqlite3.connect(sys.argv[1], isolation_level=None)
            db.execute("PRAGMA busy_timeout = 15000")
            for line in sys.stdin:
                i = int(line)
                db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('probe', ?)", (str(i),))
                if i % 30 == 0: db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                elif i % 10 == 0: db.execute("PRAGMA wal_checkpoint(PASSIVE)")
                print(i, flush=True)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, register.location]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        var first = Data()
        while !first.contains(0x0A) { let chunk = output.fileHandleForReading.availableData; if chunk.isEmpty { break }; first += chunk }
        #expect(String(decoding: first, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "dms-held")
        var last = try probe.dataVersion()
        var unchangedSeen = 0, changedSeen = 0
        for i in 1...120 {
            input.fileHandleForWriting.write(Data("\(i)\n".utf8))
            // Wait for the other process to say it committed.
            var reply = Data()
            while !reply.contains(0x0A) { let chunk = output.fileHandleForReading.availableData; if chunk.isEmpty { break }; reply += chunk }
            #expect(String(decoding: reply, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "\(i)")
            let now = try probe.dataVersion()
            if now != last { changedSeen += 1 }
            // Asked again with nothing committed: the same number (the fast path).
            if try probe.dataVersion() == now { unchangedSeen += 1 }
            last = now
        }
        input.fileHandleForWriting.closeFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(changedSeen == 120)
        #expect(unchangedSeen == 120)
    }
}
