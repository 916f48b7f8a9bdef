import DERKit
import Foundation
import JPKIDomain
import JPKIStore
import Logging
import OpenSSLKit

/// A root CA: its certificate and key.
public struct RootCA: Sendable {
    public let kind: CertificateKind
    public let certificate: Certificate
    let key: PrivateKey
    /// Signs the leaves of this root (prepared RSA contexts, one-pass encoding: `CertificateSigner`).
    let signer: CertificateSigner
    public let keyIdentifier: [UInt8]
    public let pem: String
    /// The subject Name as the certificate encodes it: the issuer of every leaf, byte for byte.
    public let subjectDER: [UInt8]
    /// The value of the root's subjectAltName (GeneralNames): the leaves' issuerAltName.
    public let alternativeName: [UInt8]
    /// 1 for the root `init` made; each `ca rollover` adds the next, under the same subject.
    public let generation: Int

    init(kind: CertificateKind, certificate: Certificate, key: PrivateKey, pem: String, fallbackAlternativeName: DistinguishedName,
         generation: Int = 1) {
        self.kind = kind; self.certificate = certificate; self.key = key; self.pem = pem; self.generation = generation
        signer = CertificateSigner(key: key)
        keyIdentifier = certificate.subjectKeyIdentifier ?? []
        subjectDER = certificate.subjectDER
        alternativeName = certificate.extensions.first { $0.oid == "2.5.29.17" }?.value
            ?? CertificateProfile.generalNames([CertificateProfile.directoryName(fallbackAlternativeName)])
    }
}

/// Who stands at the window (002, 003): the holder, a legal representative (same day), or a
/// voluntary agent (two visits, inquiry form mailed to the holder).
public enum Applicant: String, Sendable, CaseIterable, Codable {
    case `self` = "self"
    case legalRepresentative = "legal-representative"
    case agent
}

/// An opened sandbox: the CA services. Every operation that changes state runs in one transaction
/// with its audit entry.
public final class Sandbox: @unchecked Sendable {
    public let home: SandboxHome
    public let store: Store
    public let config: CAConfiguration
    public let table: MunicipalityTable
    /// The current (newest) generation of each root: the one that issues.
    public var roots: [CertificateKind: RootCA] { rootLock.lock(); defer { rootLock.unlock() }; return storedRoots }
    /// Every generation of each root, oldest first (the last is `roots[kind]`).
    public var rootGenerations: [CertificateKind: [RootCA]] { rootLock.lock(); defer { rootLock.unlock() }; return storedGenerations }
    private let rootLock = NSLock()
    private var storedRoots: [CertificateKind: RootCA]
    private var storedGenerations: [CertificateKind: [RootCA]]
    /// `--at`: a fixed instant for this process instead of the persisted clock.
    public let clockOverride: Date?
    let logger: Logger
    /// Where new leaf key pairs come from (default: generated on demand).
    public var keySource: any KeySource = FreshKeys()

    init(home: SandboxHome, store: Store, config: CAConfiguration, table: MunicipalityTable, rootGenerations: [CertificateKind: [RootCA]],
         clockOverride: Date?, logger: Logger) {
        self.home = home; self.store = store; self.config = config; self.table = table
        self.storedGenerations = rootGenerations
        self.storedRoots = rootGenerations.compactMapValues(\.last)
        self.clockOverride = clockOverride; self.logger = logger
    }

    public func root(_ kind: CertificateKind) -> RootCA { roots[kind]! }

    /// A given generation of a root; nil when there is none.
    public func root(_ kind: CertificateKind, generation: Int) -> RootCA? {
        rootGenerations[kind]?.first { $0.generation == generation }
    }

    /// Every root certificate of every generation, signing first, oldest first.
    public var allRoots: [RootCA] { CertificateKind.allCases.flatMap { rootGenerations[$0] ?? [] } }

    // MARK: Clock

    static let clockOffsetKey = "clock.offset"

    /// The sandbox clock: `--at` if given, else real time plus the persisted offset.
    public func clock() throws -> any SandboxClock {
        if let clockOverride { return FixedClock(clockOverride) }
        let offset = try store.read { try $0.meta(Self.clockOffsetKey) }.flatMap(Double.init) ?? 0
        return OffsetClock(offset: offset)
    }

    public func now() throws -> Date {
        // Whole seconds: certificates and the database keep no fractions.
        Date(timeIntervalSince1970: (try clock().now().timeIntervalSince1970).rounded(.down))
    }

    // MARK: Opening and creating

    /// Opens an existing sandbox.
    public static func open(home: SandboxHome, at: Date? = nil, logger: Logger = Logger(label: "jpki-sandbox")) throws -> Sandbox {
        guard home.exists else {
            throw SandboxError("no-sandbox", "no sandbox at \(home.url.path); create one with `jpki-sandbox init` (or point --home / JPKI_SANDBOX_HOME at one)")
        }
        let store: Store
        if let url = home.postgresURL {
            guard Store.isPostgresURL(url) else { throw SandboxError.invalid("--database must be a postgres:// URL, not \"\(url)\"") }
            store = try Store(postgresURL: url)
        } else {
            store = try Store(path: home.database.path)
        }
        guard let configJSON = try store.read({ try $0.meta("config") }) else {
            throw SandboxError("corrupt", "the sandbox at \(home.url.path) has no configuration; it was not initialised completely — remove it and run init again")
        }
        let config = try JSONDecoder().decode(CAConfiguration.self, from: Data(configJSON.utf8))
        let table = try MunicipalityTable(json: Data(contentsOf: home.municipalities))
        let roots = try loadRoots(home: home, store: store, config: config)
        return Sandbox(home: home, store: store, config: config, table: table, rootGenerations: roots, clockOverride: at, logger: logger)
    }

    /// Every generation of both roots: generation 1 from the files `init` wrote, the later ones as
    /// `root_generations` lists them (each file checked against the row).
    static func loadRoots(home: SandboxHome, store: Store, config: CAConfiguration) throws -> [CertificateKind: [RootCA]] {
        let later = try store.read { try $0.rootGenerations() }
        var roots: [CertificateKind: [RootCA]] = [:]
        for kind in CertificateKind.allCases {
            let generations = [1] + later.filter { $0.kind == kind }.map(\.generation)
            for generation in generations {
                let pem = try String(contentsOf: home.rootCertificate(kind, generation: generation), encoding: .utf8)
                let cert = try Certificate(pem: pem)
                let key = try PrivateKey(pem: String(contentsOf: home.rootKey(kind, generation: generation), encoding: .utf8))
                if let record = later.first(where: { $0.kind == kind && $0.generation == generation }), record.der != (try cert.der()) {
                    throw SandboxError("corrupt", "\(home.rootCertificate(kind, generation: generation).path) is not the \(kind.rawValue) root of generation \(generation) the register holds")
                }
                roots[kind, default: []].append(RootCA(kind: kind, certificate: cert, key: key, pem: pem,
                                                       fallbackAlternativeName: config.alternativeName, generation: generation))
            }
        }
        return roots
    }

    /// Reads the root generations again (a long-running `serve` after `ca rollover` in another
    /// process). Returns whether they changed.
    @discardableResult
    public func reloadRoots() throws -> Bool {
        let fresh = try Self.loadRoots(home: home, store: store, config: config)
        rootLock.lock(); defer { rootLock.unlock() }
        let before = storedGenerations.mapValues { $0.map(\.generation) }
        guard fresh.mapValues({ $0.map(\.generation) }) != before else { return false }
        storedGenerations = fresh
        storedRoots = fresh.compactMapValues(\.last)
        return true
    }

    /// Creates a sandbox: two self-signed RSA-2048 roots (signing, authentication) by the configuration.
    /// Refuses to touch an existing one.
    public static func initialize(home: SandboxHome, configFile: URL, at: Date? = nil, logger: Logger = Logger(label: "jpki-sandbox")) throws -> Sandbox {
        guard !home.exists else {
            throw SandboxError("exists", "a sandbox already exists at \(home.url.path); init never overwrites one (remove the folder to start again, or use another --home)")
        }
        let file = try ConfigFile(path: configFile)
        let tableData: Data
        do { tableData = try Data(contentsOf: file.municipalitiesPath) } catch {
            throw SandboxError.config("cannot read the municipality table \(file.municipalitiesPath.path) named in \(configFile.path)")
        }
        _ = try MunicipalityTable(json: tableData)
        let now = Date(timeIntervalSince1970: (at ?? Date()).timeIntervalSince1970.rounded(.down))

        // `[roots] generations`: every generation at 00:00 JST of its day, the last no later than now.
        let generationTimes = file.rootGenerationDates.isEmpty ? [now] : file.rootGenerationDates.map(\.startInTokyo)
        if let last = generationTimes.last, last > now {
            throw SandboxError.config("[roots] generations: \(ISOTime.display(last)) is after the time of init (\(ISOTime.display(now))); use --at to init later")
        }

        let fm = FileManager.default
        try fm.createDirectory(at: home.url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // An existing folder keeps its mode otherwise; the home holds keys.
        try fm.setAttributes([.posixPermissions: 0o700], ofItemAtPath: home.url.path)
        try fm.createDirectory(at: home.keysFolder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var laterGenerations: [RootGenerationRecord] = []
        for kind in CertificateKind.allCases {
            let now = generationTimes[0]
            // Leftovers of an init that died before creating the database are replaced.
            try? fm.removeItem(at: home.rootKey(kind))
            try? fm.removeItem(at: home.rootCertificate(kind))
            let rootConfig = file.configuration.root(kind)
            let key = try PrivateKey.generateRSA(bits: 2048)
            let spki = try key.publicKeyDER()
            let ski = try KeyIdentifier.method1(subjectPublicKeyInfo: spki)
            // J-LIS: valid until 23:59:59 JST on the day before the anniversary (2023-07-16 → 2033-07-15).
            let notAfter = LocalDate(now).addingYears(rootConfig.validityYears).addingDays(-1).endInTokyo
            let cert = try CertificateTemplate(
                serial: try randomSerial(), notBefore: now, notAfter: notAfter,
                issuer: rootConfig.subject, subject: rootConfig.subject, subjectPublicKey: spki,
                extensions: CertificateProfile.rootExtensions(root: rootConfig, alternativeName: file.configuration.rootAlternativeName(kind),
                                                              subjectKeyIdentifier: ski)
            ).sign(with: key)
            try SandboxHome.writePrivate(Array(try key.pem().utf8), to: home.rootKey(kind))
            try SandboxHome.writePrivate(Array(try cert.pem().utf8), to: home.rootCertificate(kind))
            var previous = cert
            for (index, time) in generationTimes.enumerated().dropFirst() {
                let generation = index + 1
                try? fm.removeItem(at: home.rootKey(kind, generation: generation))
                try? fm.removeItem(at: home.rootCertificate(kind, generation: generation))
                let key = try PrivateKey.generateRSA(bits: 2048)
                let next = try successorRoot(of: previous, key: key, at: time, validityYears: rootConfig.validityYears)
                try SandboxHome.writePrivate(Array(try key.pem().utf8), to: home.rootKey(kind, generation: generation))
                try SandboxHome.writePrivate(Array(try next.pem().utf8), to: home.rootCertificate(kind, generation: generation))
                laterGenerations.append(RootGenerationRecord(kind: kind, generation: generation, der: try next.der(), createdAt: time,
                                                             newWithOld: nil, oldWithNew: nil))
                previous = next
            }
        }
        try? fm.removeItem(at: home.municipalities)
        try SandboxHome.writePrivate(Array(tableData), to: home.municipalities)

        // PostgreSQL (`--database`, `[database] url`): the register is written in place, then the home
        // records its URL (the file's presence is what "a sandbox exists" means).
        if let url = home.databaseOption ?? file.databaseURL {
            guard Store.isPostgresURL(url) else { throw SandboxError.invalid("--database must be a postgres:// URL, not \"\(url)\"") }
            let store = try Store(postgresURL: url)
            let encoder = JSONEncoder(); encoder.outputFormatting = [.sortedKeys]
            let configJSON = String(decoding: try encoder.encode(file.configuration), as: UTF8.self)
            try store.write { tx in
                // Check and act in one transaction: two inits on one register never both win.
                guard try tx.meta("config") == nil else {
                    throw SandboxError("exists", "the register at \(store.path) already holds a sandbox; init never overwrites one (copy the home that made it, or use an empty database)")
                }
                try tx.setMeta("config", configJSON)
                try tx.setMeta("created", ISOTime.storage(now))
                for record in laterGenerations { try tx.insertRootGeneration(record) }
                try Audit.append(tx, at: now, operation: "init", applicant: nil, residentID: nil, serials: [], fee: 0,
                                 outcome: "ok", detail: "roots created from \(configFile.lastPathComponent), register in PostgreSQL"
                                    + (generationTimes.count > 1 ? ", \(generationTimes.count) generations each (\(file.rootGenerationDates.map(\.description).joined(separator: ", ")))" : ""))
            }
            try? fm.removeItem(at: home.databaseURLFile)
            try SandboxHome.writePrivate(Array(url.utf8), to: home.databaseURLFile)
            logger.info("sandbox initialised", metadata: ["home": "\(home.url.path)", "register": "\(store.path)"])
            return try open(home: SandboxHome(home.url, database: url), at: at, logger: logger)
        }

        // The database comes last: its presence is what "a sandbox exists" means.
        let partial = home.url.appendingPathComponent("sandbox.sqlite.partial")
        for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: partial.path + suffix) }
        do {
            let store = try Store(path: partial.path)
            let encoder = JSONEncoder(); encoder.outputFormatting = [.sortedKeys]
            let configJSON = String(decoding: try encoder.encode(file.configuration), as: UTF8.self)
            try store.write { tx in
                try tx.setMeta("config", configJSON)
                try tx.setMeta("created", ISOTime.storage(now))
                for record in laterGenerations { try tx.insertRootGeneration(record) }
                try Audit.append(tx, at: now, operation: "init", applicant: nil, residentID: nil, serials: [], fee: 0,
                                 outcome: "ok", detail: "roots created from \(configFile.lastPathComponent)"
                                    + (generationTimes.count > 1 ? ", \(generationTimes.count) generations each (\(file.rootGenerationDates.map(\.description).joined(separator: ", ")))" : ""))
            }
            try store.checkpoint()
        }
        for suffix in ["-wal", "-shm"] { try? fm.removeItem(atPath: partial.path + suffix) }
        try fm.moveItem(at: partial, to: home.database)
        logger.info("sandbox initialised", metadata: ["home": "\(home.url.path)"])
        return try open(home: home, at: at, logger: logger)
    }

    /// A random positive serial of 128 bits whose first byte is 01…7F, so its hex form always has 32 digits.
    static func randomSerial() throws -> [UInt8] {
        var bytes = try Crypto.randomBytes(16)
        bytes[0] = bytes[0] & 0x7F
        if bytes[0] == 0 { bytes[0] = 1 }
        return bytes
    }
}
