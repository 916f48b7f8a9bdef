import Foundation
import JPKIDomain
import JPKIStore
import OpenSSLKit

/// What `populate` is asked for. Two runs with the same plan make the same register (see `populate`).
public struct PopulatePlan: Codable, Sendable, Equatable {
    public var residents: Int
    public var seed: UInt64
    /// Shares in percent of the residents.
    public var revoked: Double
    public var suspended: Double
    public var moved: Double
    public var minors: Double
    public var foreign: Double
    /// Municipality codes the residents live in (nil: every municipality of the table).
    public var municipalities: [String]?
    public var sharedKeys: Bool
    /// PBKDF2 cost of the synthetic holders' PIN hashes (cheap: they are fixtures, not people).
    public var pinIterations: Int

    public init(residents: Int, seed: UInt64 = 1, revoked: Double = 5, suspended: Double = 1, moved: Double = 2, minors: Double = 14,
                foreign: Double = 2.5, municipalities: [String]? = nil, sharedKeys: Bool = false, pinIterations: Int = 1000) {
        self.residents = residents; self.seed = seed; self.revoked = revoked; self.suspended = suspended; self.moved = moved
        self.minors = minors; self.foreign = foreign; self.municipalities = municipalities; self.sharedKeys = sharedKeys
        self.pinIterations = pinIterations
    }

    /// How many residents a share gives: N × P / 100 rounded half up, so the counts are exact.
    public static func count(_ percent: Double, of n: Int) -> Int { Int((Double(n) * percent / 100).rounded(.toNearestOrAwayFromZero)) }

    public var revokedCount: Int { Self.count(revoked, of: residents) }
    public var suspendedCount: Int { Self.count(suspended, of: residents) }
    public var movedCount: Int { Self.count(moved, of: residents) }
    public var minorsCount: Int { Self.count(minors, of: residents) }
    public var foreignCount: Int { Self.count(foreign, of: residents) }
}

/// A run of `populate` as the register keeps it (meta `populate.run`), updated by every batch.
struct PopulateRun: Codable, Equatable {
    var plan: PopulatePlan
    /// The run's number in this sandbox (serials are derived from the seed and it).
    var run: Int
    /// The sandbox time every card of the run is issued at (ISO storage form).
    var at: String
    var done: Int
}

/// One progress event of `populate`.
public struct PopulateProgress: Sendable, Codable {
    public let done: Int
    public let total: Int
    public let seconds: Double
    /// Residents per second in this process.
    public let rate: Double
    /// Estimated seconds left.
    public let eta: Double?
}

/// What `populate` did.
public struct PopulateResult: Sendable, Codable {
    public let residents: Int
    public let seed: UInt64
    public let run: Int
    public let issuedAt: String
    /// Residents registered by this process (0 when the run was already complete).
    public let registeredNow: Int
    /// Residents before this process continued an interrupted run (0 for a new run).
    public let resumedFrom: Int
    public let revoked: Int
    public let suspended: Int
    public let moved: Int
    public let minors: Int
    public let foreign: Int
    public let sharedKeys: Bool
    public let seconds: Double
    public let certificatesPerSecond: Double
    /// The whole register, by kind and state, and cards by status.
    public let register: [String: Int]
}

/// A small deterministic generator (SplitMix64): the same seed gives the same numbers on every machine.
struct PopulationGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// The generator of one resident: independent of batch boundaries, so a resumed run draws the same.
    static func forResident(seed: UInt64, index: Int, stream: UInt64) -> PopulationGenerator {
        var g = PopulationGenerator(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        g.state &+= UInt64(index) &* 0xA24B_AED4_963E_E407
        _ = g.next()
        return g
    }
}

/// What happens to a populated resident after the card is issued.
enum PopulateEvent: String { case none, revoked, suspended, moved }

/// The synthetic population: names, ages, addresses. Everything is drawn from the seed.
enum SyntheticPopulation {
    static let surnames = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田", "佐々木", "山口",
                           "松本", "井上", "木村", "林", "斎藤", "清水", "山崎", "森", "池田", "橋本", "阿部", "石川", "山下", "中島",
                           "石井", "小川", "前田", "岡田", "長谷川", "藤田", "後藤", "近藤", "村上", "遠藤", "青木", "坂本", "斉藤", "福田",
                           "太田", "西村", "藤井", "金子", "岡本", "藤原", "中野", "三浦", "原田", "中川", "松田", "竹内", "小野", "田村"]
    /// Characters outside JIS X 0208 as real registers hold them: the certificate gets 〓 and the flag (seed 001).
    static let substitutedSurnames = ["髙橋", "山﨑", "𠮷田", "德永", "濵田", "栁沢"]
    static let maleGiven = ["太郎", "一郎", "健太", "翔太", "大輔", "拓也", "直樹", "浩", "誠", "学", "悠真", "蓮", "湊", "陽翔", "大和",
                            "隆", "清", "茂", "博", "勇気"]
    static let femaleGiven = ["花子", "陽子", "恵子", "美咲", "葵", "陽菜", "結衣", "さくら", "愛", "由美", "真由美", "久美子", "明美",
                              "芽依", "凛", "紬", "幸子", "和子", "京子", "美穂"]
    static let foreignSurnames = ["スミス", "グエン", "キム", "ワン", "シルバ", "サントス", "パク", "リー", "ガルシア", "チャン"]
    static let foreignGiven = ["ジョン", "アン", "ミン", "ウェイ", "マリア", "ホセ", "ジヌ", "アナ", "トゥアン", "メイ"]
    static let streets = ["本町", "中央", "栄町", "緑町", "幸町", "旭町", "寿町", "南町", "東町", "西町"]

    /// Adult ages: more people in the middle years, fewer past 80 (a coarse Japanese pyramid).
    static let adultAgeBands: [(ClosedRange<Int>, Int)] = [(18...29, 13), (30...39, 13), (40...49, 16), (50...59, 15),
                                                            (60...69, 14), (70...79, 15), (80...99, 8)]

    static func pick<T>(_ list: [T], _ g: inout PopulationGenerator) -> T { list[Int(g.next() % UInt64(list.count))] }

    static func adultAge(_ g: inout PopulationGenerator) -> Int {
        let total = adultAgeBands.reduce(0) { $0 + $1.1 }
        var r = Int(g.next() % UInt64(total))
        for (band, weight) in adultAgeBands {
            if r < weight { return band.lowerBound + Int(g.next() % UInt64(band.count)) }
            r -= weight
        }
        return 40
    }

    struct Person {
        let name: String
        let birth: LocalDate
        let sex: Sex
        let address: String
        let residenceUntil: LocalDate?
        let movedAddress: String
    }

    static func person(index: Int, seed: UInt64, minor: Bool, foreign: Bool, today: LocalDate,
                       places: [(Prefecture, Municipality)]) -> Person {
        var g = PopulationGenerator.forResident(seed: seed, index: index, stream: 1)
        let sex: Sex = g.next() % 2 == 0 ? .male : .female
        let name: String
        if foreign {
            name = pick(foreignSurnames, &g) + " " + pick(foreignGiven, &g)
        } else {
            let surname = g.next() % 50 == 0 ? pick(substitutedSurnames, &g) : pick(surnames, &g)
            name = surname + " " + pick(sex == .male ? maleGiven : femaleGiven, &g)
        }
        let age = minor ? Int(g.next() % 18) : adultAge(&g)
        // A birthday between `age` and `age + 1` years before today.
        let latest = today.addingYears(-age)
        let birth = max(latest.addingDays(-Int(g.next() % 365)), latest.addingYears(-1).addingDays(1))
        func address(_ g: inout PopulationGenerator) -> String {
            let (p, m) = pick(places, &g)
            return "\(p.name)\(m.name)\(pick(streets, &g))\(1 + g.next() % 9)丁目\(1 + g.next() % 30)番\(1 + g.next() % 20)号"
        }
        let home = address(&g)
        var moved = address(&g)
        for _ in 0..<8 where moved == home { moved = address(&g) }
        let stay = foreign ? today.addingYears(1 + Int(g.next() % 5)).addingDays(Int(g.next() % 365)) : nil
        return Person(name: name, birth: birth, sex: sex, address: home, residenceUntil: stay, movedAddress: moved)
    }

    /// A permutation of 0..<n drawn from the seed (Fisher–Yates): who gets which share, exactly.
    static func permutation(_ n: Int, seed: UInt64, stream: UInt64) -> [Int32] {
        var p = (0..<Int32(n)).map { $0 }
        var g = PopulationGenerator(seed: seed ^ (stream &* 0x9E37_79B9_7F4A_7C15))
        if n > 1 {
            for i in stride(from: n - 1, to: 0, by: -1) {
                let j = Int(g.next() % UInt64(i + 1))
                p.swapAt(i, j)
            }
        }
        return p
    }

    /// The serial of a populated certificate: SHA-256 of the seed, the run, the resident and the kind,
    /// cut to 16 bytes with the first one in 01…7F as every serial of the sandbox.
    static func serial(seed: UInt64, run: Int, index: Int, kind: CertificateKind) -> [UInt8] {
        var bytes = Crypto.sha256(Array("jpki-sandbox populate \(seed) \(run) \(index) \(kind.rawValue)".utf8)).prefix(16).map { $0 }
        bytes[0] &= 0x7F
        if bytes[0] == 0 { bytes[0] = 1 }
        return bytes
    }
}

extension Sandbox {
    static let populateRunKey = "populate.run"
    static let populateRunsKey = "populate.runs"
    /// The PINs of every populated holder (documented in docs/scale.md): they are fixtures.
    public static let populateSignPIN = "SANDBOX1"
    public static let populateAuthPIN = "1234"
    /// How many keys `--shared-keys` shares among all populated certificates.
    public static let sharedKeyCount = 8

    /// `populate`: registers `plan.residents` residents, issues their cards and applies the lifecycle
    /// events, `batchSize` residents per write transaction, each card with its audit entry. The run is
    /// recorded in the register with each batch, so running the same plan again after an interrupt
    /// continues it; a complete run is not repeated.
    ///
    /// Same plan (seed included) ⇒ the same residents (names, births, sexes, addresses, stays), the same
    /// cards and certificates with the same serials, states, reasons and validity, the same counts.
    /// Keys, signatures, PIN salts and the audit's real times differ (they are random or real-time).
    public func populate(_ plan: PopulatePlan, batchSize: Int = 200, progress: (PopulateProgress) -> Void = { _ in }) throws -> PopulateResult {
        guard plan.residents > 0 else { throw SandboxError.invalid("--residents must be at least 1") }
        for (name, share) in [("revoked", plan.revoked), ("suspended", plan.suspended), ("moved", plan.moved), ("minors", plan.minors), ("foreign", plan.foreign)] {
            guard share >= 0, share <= 100 else { throw SandboxError.invalid("--\(name) must be a share from 0% to 100%, not \(share)%") }
        }
        guard plan.revokedCount + plan.suspendedCount + plan.movedCount <= plan.residents else {
            throw SandboxError.invalid("--revoked, --suspended and --moved add up to more than 100% of the residents")
        }
        guard plan.minorsCount + plan.foreignCount <= plan.residents else {
            throw SandboxError.invalid("--minors and --foreign add up to more than 100% of the residents")
        }
        guard (1...10_000_000).contains(plan.pinIterations) else { throw SandboxError.invalid("--pin-iterations must be from 1 to 10000000") }
        var places: [(Prefecture, Municipality)] = table.prefectures.flatMap { p in p.municipalities.map { (p, $0) } }
        if let wanted = plan.municipalities {
            let unknown = wanted.filter { code in !places.contains { $0.1.code == code || $0.1.name == code } }
            guard unknown.isEmpty else {
                throw SandboxError.invalid("not in the municipality table (\(tableHint)): \(unknown.joined(separator: ", ")); give codes like 13101 or names like 千代田区")
            }
            places = places.filter { p in wanted.contains { $0 == p.1.code || $0 == p.1.name } }
        }
        guard !places.isEmpty else { throw SandboxError.config("the municipality table has no municipalities") }

        let decoder = JSONDecoder(), encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // A new run, or the unfinished one continued: decided and recorded in one transaction.
        let startNow = try now()
        let (state, resumedFrom) = try store.write { tx -> (PopulateRun, Int) in
            if let text = try tx.meta(Self.populateRunKey), let run = try? decoder.decode(PopulateRun.self, from: Data(text.utf8)) {
                if run.plan == plan { return (run, run.done) }
                if run.done < run.plan.residents {
                    throw SandboxError.refused("an unfinished populate run (\(run.done) of \(run.plan.residents) residents, seed \(run.plan.seed)) is in this sandbox; run the same command again to finish it before starting another")
                }
            }
            let number = (try tx.meta(Self.populateRunsKey).flatMap { Int($0) } ?? 0) + 1
            let run = PopulateRun(plan: plan, run: number, at: ISOTime.storage(startNow), done: 0)
            try tx.setMeta(Self.populateRunsKey, String(number))
            try tx.setMeta(Self.populateRunKey, String(decoding: try encoder.encode(run), as: UTF8.self))
            return (run, 0)
        }
        let at = try ISOTime.parse(state.at)
        let today = LocalDate(at)
        for kind in CertificateKind.allCases where at > root(kind).certificate.notAfter || at < root(kind).certificate.notBefore {
            throw SandboxError.refused("the \(kind.rawValue) root is not valid at \(ISOTime.display(at)); it issues nothing")
        }

        // Exact shares: a seeded permutation says who is revoked, suspended, moved, a minor, foreign.
        let n = plan.residents
        let events = SyntheticPopulation.permutation(n, seed: plan.seed, stream: 2)
        let kinds = SyntheticPopulation.permutation(n, seed: plan.seed, stream: 3)
        var eventOf = [UInt8](repeating: 0, count: n), groupOf = [UInt8](repeating: 0, count: n)
        for (rank, i) in events.enumerated() {
            eventOf[Int(i)] = rank < plan.revokedCount ? 1 : rank < plan.revokedCount + plan.suspendedCount ? 2
                : rank < plan.revokedCount + plan.suspendedCount + plan.movedCount ? 3 : 0
        }
        for (rank, i) in kinds.enumerated() {
            groupOf[Int(i)] = rank < plan.minorsCount ? 1 : rank < plan.minorsCount + plan.foreignCount ? 2 : 0
        }

        let shared = plan.sharedKeys ? try Self.makeSharedKeys(Self.sharedKeyCount) : []

        // The fixtures' PINs are published (docs/scale.md), so a salt per certificate would protect
        // nothing: each PIN is hashed once per process, with a random salt, at --pin-iterations.
        var pins: [CertificateKind: PINHash] = [:]
        for (kind, pin) in [(CertificateKind.sign, Self.populateSignPIN), (.auth, Self.populateAuthPIN)] {
            let salt = try Crypto.randomBytes(16)
            pins[kind] = PINHash(salt: salt, hash: try Crypto.pbkdf2SHA256(password: pin, salt: salt, iterations: plan.pinIterations),
                                 iterations: plan.pinIterations)
        }

        let started = Date()
        var done = state.done
        var certificatesNow = 0
        // A pipeline of two: the next batch is signed on every core while this one is written (one
        // writer), so the cores do not wait for the commit.
        func make(_ range: Range<Int>) -> PopulateBatchInFlight {
            PopulateBatchInFlight { [self, places, eventOf, groupOf, pins] in
                try makePopulateBatch(range, plan: plan, run: state.run, at: at, today: today, places: places,
                                      eventOf: eventOf, groupOf: groupOf, shared: shared, pins: pins)
            }
        }
        var inFlight: PopulateBatchInFlight? = done < n ? make(done..<min(n, done + batchSize)) : nil
        defer { _ = try? inFlight?.wait() }
        while done < n {
            let range = done..<min(n, done + batchSize)
            guard let current = inFlight else { break }
            let batch = try current.wait()
            inFlight = range.upperBound < n ? make(range.upperBound..<min(n, range.upperBound + batchSize)) : nil
            let expected = done
            try store.write { tx in
                // Check-and-act: the run is still where this process left it (no second populate at once).
                guard let text = try tx.meta(Self.populateRunKey), var run = try? decoder.decode(PopulateRun.self, from: Data(text.utf8)),
                      run.plan == plan, run.done == expected else {
                    throw SandboxError.refused("another populate changed this sandbox's run meanwhile; nothing of this batch was stored")
                }
                try writePopulateBatch(tx, batch, at: at, run: state.run)
                run.done = range.upperBound
                try tx.setMeta(Self.populateRunKey, String(decoding: try encoder.encode(run), as: UTF8.self))
            }
            certificatesNow += batch.reduce(0) { $0 + $1.certificates.count }
            done = range.upperBound
            let seconds = Date().timeIntervalSince(started)
            let rate = Double(done - state.done) / max(seconds, 0.001)
            progress(PopulateProgress(done: done, total: n, seconds: seconds, rate: rate, eta: rate > 0 ? Double(n - done) / rate : nil))
        }
        let seconds = Date().timeIntervalSince(started)
        let counts = try store.read { try $0.registerCounts() }
        return PopulateResult(residents: n, seed: plan.seed, run: state.run, issuedAt: ISOTime.display(at), registeredNow: n - resumedFrom,
                              resumedFrom: resumedFrom, revoked: plan.revokedCount, suspended: plan.suspendedCount, moved: plan.movedCount,
                              minors: plan.minorsCount, foreign: plan.foreignCount, sharedKeys: plan.sharedKeys, seconds: seconds,
                              certificatesPerSecond: Double(certificatesNow) / max(seconds, 0.001), register: counts)
    }

    /// The keys `--shared-keys` shares, generated on every core.
    static func makeSharedKeys(_ count: Int) throws -> [(key: PrivateKey, pem: String)] {
        final class Slots: @unchecked Sendable { var keys: [Result<(key: PrivateKey, pem: String), any Error>?] = [] }
        let slots = Slots()
        slots.keys = Array(repeating: nil, count: count)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: count) { i in
            let made = Result { () throws -> (key: PrivateKey, pem: String) in
                let key = try PrivateKey.generateRSA(bits: 2048)
                return (key, try key.pem())
            }
            lock.lock(); slots.keys[i] = made; lock.unlock()
        }
        return try slots.keys.map { try $0!.get() }
    }

    struct PopulatedResident {
        let index: Int
        let application: ResidentApplication
        let moved: ResidentApplication?
        let event: PopulateEvent
        let applicant: Applicant
        let cardLimit: LastValidDay
        let signRefusal: String?
        /// Minted with resident id 0 and card id 0; the ids are set in the transaction.
        let certificates: [CertificateRecord]
        let sharedKeyIndexes: [Int?]
    }

    /// The slow part of a batch, outside any transaction and on every core: PIN hashes, keys, signatures.
    private func makePopulateBatch(_ range: Range<Int>, plan: PopulatePlan, run: Int, at: Date, today: LocalDate,
                                   places: [(Prefecture, Municipality)], eventOf: [UInt8], groupOf: [UInt8],
                                   shared: [(key: PrivateKey, pem: String)], pins: [CertificateKind: PINHash]) throws -> [PopulatedResident] {
        final class Slots: @unchecked Sendable {
            var results: [Result<PopulatedResident, any Error>?]
            init(_ n: Int) { results = Array(repeating: nil, count: n) }
        }
        let slots = Slots(range.count)
        let lock = NSLock()
        let lower = range.lowerBound
        DispatchQueue.concurrentPerform(iterations: range.count) { offset in
            let r = Result { () throws -> PopulatedResident in
                let i = lower + offset
                let person = SyntheticPopulation.person(index: i, seed: plan.seed, minor: groupOf[i] == 1, foreign: groupOf[i] == 2,
                                                        today: today, places: places)
                let application = try ResidentApplication(name: person.name, birth: person.birth.description, sex: person.sex.rawValue,
                                                          address: person.address, residenceUntil: person.residenceUntil?.description,
                                                          adultWard: false, table: table, today: today, tableHint: tableHint)
                let event: PopulateEvent = [.none, .revoked, .suspended, .moved][Int(eventOf[i])]
                let moved = event == .moved
                    ? try ResidentApplication(name: person.name, birth: person.birth.description, sex: person.sex.rawValue,
                                              address: person.movedAddress, residenceUntil: person.residenceUntil?.description,
                                              adultWard: false, table: table, today: today, tableHint: tableHint) : nil
                let resident = Resident(id: 0, name: application.name, dateOfBirth: application.dateOfBirth, sex: application.sex,
                                        address: application.address, locality: application.locality,
                                        residenceUntil: application.residenceUntil, adultWard: false)
                let age = Birthday.age(of: resident.dateOfBirth, on: today)
                let applicant: Applicant = WindowRule.applicantRefusal(age: age, applicantIsLegalRepresentative: false) == nil ? .self : .legalRepresentative
                let (signRefusal, cardLimit, authLimit, signLimit) = Self.issuancePlan(resident: resident, today: today)
                var kinds: [(CertificateKind, LastValidDay, String)] = [(.auth, authLimit, Self.populateAuthPIN)]
                if signRefusal == nil { kinds.append((.sign, signLimit, Self.populateSignPIN)) }
                var certificates: [CertificateRecord] = []
                var sharedIndexes: [Int?] = []
                for (kind, limit, _) in kinds {
                    let hash = pins[kind]!
                    var given: (key: PrivateKey, pem: String)?
                    var sharedIndex: Int?
                    if !shared.isEmpty {
                        sharedIndex = (i * 2 + (kind == .sign ? 1 : 0)) % shared.count
                        given = shared[sharedIndex!]
                    }
                    certificates.append(try mint(kind, resident: resident, cardID: 0, pin: hash, notBefore: at, limit: limit, key: given,
                                                 serial: SyntheticPopulation.serial(seed: plan.seed, run: run, index: i, kind: kind)))
                    sharedIndexes.append(sharedIndex)
                }
                return PopulatedResident(index: i, application: application, moved: moved, event: event, applicant: applicant,
                                         cardLimit: cardLimit, signRefusal: signRefusal, certificates: certificates, sharedKeyIndexes: sharedIndexes)
            }
            lock.lock(); slots.results[offset] = r; lock.unlock()
        }
        return try slots.results.map { try $0!.get() }
    }

    /// One batch in the caller's transaction: residents, cards, certificates, the lifecycle events with
    /// the same state changes and audit entries as `card revoke`, `card suspend` and `resident update`.
    private func writePopulateBatch(_ tx: Transaction, _ batch: [PopulatedResident], at: Date, run: Int) throws {
        var previous = try tx.lastAuditHash() ?? Audit.genesis
        let realTime = ISOTime.storage(Date())
        let sandboxTime = ISOTime.storage(at)
        func audit(_ operation: String, _ applicant: Applicant?, _ residentID: Int64, _ serials: [String], _ detail: String) throws {
            var entry = AuditEntry(sandboxTime: sandboxTime, realTime: realTime, operation: operation, applicant: applicant?.rawValue,
                                   residentID: residentID, serials: serials, fee: 0, outcome: "ok", detail: detail, previousHash: previous, hash: "")
            entry.hash = Audit.hash(entry)
            try tx.insertAudit(entry)
            previous = entry.hash
        }
        for p in batch {
            let resident = try tx.insertResident(p.application, at: at)
            try audit("resident.add", nil, resident.id, [], substitutionNote(resident).isEmpty ? "populate run \(run) #\(p.index)"
                                                                 : "populate run \(run) #\(p.index); " + substitutionNote(resident))
            let card = try tx.insertCard(residentID: resident.id, issuedAt: at, notAfter: p.cardLimit.notAfter)
            var serials: [String] = []
            for (cert, shared) in zip(p.certificates, p.sharedKeyIndexes) {
                let record = cert.forPopulate(residentID: resident.id, cardID: card.id)
                try tx.insertCertificate(record)
                if let shared { try tx.markSharedKey(serial: record.serial, keyIndex: shared) }
                serials.append(record.serial)
            }
            try audit("card.issue", p.applicant, resident.id, serials, "card \(card.id)" + (p.signRefusal.map { "; \($0)" } ?? "")
                      + (p.sharedKeyIndexes.contains { $0 != nil } ? "; shared keys (populate --shared-keys): never signs" : ""))
            switch p.event {
            case .none: break
            case .revoked:
                // 廃止 after a loss, as `card revoke --reason lost` does it.
                for s in serials { try tx.setCertificateState(s, .revoked, reason: RevocationReason.keyCompromise.rawValue, at: at) }
                for s in serials { try tx.setRevocationEvent(s, "lost") }
                try tx.setCardStatus(card.id, .revoked, at: at)
                try audit("card.revoke", p.applicant, resident.id, serials, "card \(card.id): keyCompromise (lost)")
            case .suspended:
                // 一時停止, as `card suspend` does it.
                for s in serials { try tx.setCertificateState(s, .hold, reason: RevocationReason.certificateHold.rawValue, at: at) }
                try tx.setCardStatus(card.id, .suspended, at: at)
                try audit("card.suspend", p.applicant, resident.id, serials, "card \(card.id)")
            case .moved:
                // 転出入: a new address revokes the signing certificate (affiliationChanged), as `resident update` does.
                guard let moved = p.moved else { break }
                var updated = resident
                updated.address = moved.address; updated.locality = moved.locality
                try tx.updateResident(updated, at: at)
                let sign = zip(p.certificates, serials).filter { $0.0.kind == .sign }.map(\.1)
                for s in sign { try tx.setCertificateState(s, .revoked, reason: RevocationReason.affiliationChanged.rawValue, at: at) }
                try audit("resident.update", p.applicant, resident.id, sign, "changed address")
            }
        }
    }
}

/// A batch of `populate` being made on other threads; `wait` gives it (or its error).
final class PopulateBatchInFlight: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<[Sandbox.PopulatedResident], any Error>?

    init(_ work: @escaping @Sendable () throws -> [Sandbox.PopulatedResident]) {
        DispatchQueue.global().async { [self] in
            result = Result { try work() }
            done.signal()
        }
    }

    /// The batch; once waited for, later calls return the same at once.
    func wait() throws -> [Sandbox.PopulatedResident] {
        if !waited { done.wait(); waited = true }
        return try result!.get()
    }
    private var waited = false
}

extension CertificateRecord {
    /// The minted record with the ids the transaction gave (every other field as minted).
    func forPopulate(residentID: Int64, cardID: Int64) -> CertificateRecord {
        var record = self
        record.residentID = residentID
        record.cardID = cardID
        return record
    }
}
