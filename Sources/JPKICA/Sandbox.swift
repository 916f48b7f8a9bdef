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
    public let keyIdentifier: [UInt8]
    public let pem: String
    /// The subject Name as the certificate encodes it: the issuer of every leaf, byte for byte.
    public let subjectDER: [UInt8]
    /// The value of the root's subjectAltName (GeneralNames): the leaves' issuerAltName.
    public let alternativeName: [UInt8]

    init(kind: CertificateKind, certificate: Certificate, key: PrivateKey, pem: String, fallbackAlternativeName: DistinguishedName) {
        self.kind = kind; self.certificate = certificate; self.key = key; self.pem = pem
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
    public let roots: [CertificateKind: RootCA]
    /// `--at`: a fixed instant for this process instead of the persisted clock.
    public let clockOverride: Date?
    let logger: Logger
    /// Where new leaf key pairs come from (default: generated on demand).
    public var keySource: any KeySource = FreshKeys()

    init(home: SandboxHome, store: Store, config: CAConfiguration, table: MunicipalityTable, roots: [CertificateKind: RootCA],
         clockOverride: Date?, logger: Logger) {
        self.home = home; self.store = store; self.config = config; self.table = table; self.roots = roots
        self.clockOverride = clockOverride; self.logger = logger
    }

    public func root(_ kind: CertificateKind) -> RootCA { roots[kind]! }

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
        let store = try Store(path: home.database.path)
        guard let configJSON = try store.read({ try $0.meta("config") }) else {
            throw SandboxError("corrupt", "the sandbox at \(home.url.path) has no configuration; it was not initialised completely — remove it and run init again")
        }
        let config = try JSONDecoder().decode(CAConfiguration.self, from: Data(configJSON.utf8))
        let table = try MunicipalityTable(json: Data(contentsOf: home.municipalities))
        var roots: [CertificateKind: RootCA] = [:]
        for kind in CertificateKind.allCases {
            let pem = try String(contentsOf: home.rootCertificate(kind), encoding: .utf8)
            let cert = try Certificate(pem: pem)
            let key = try PrivateKey(pem: String(contentsOf: home.rootKey(kind), encoding: .utf8))
            roots[kind] = RootCA(kind: kind, certificate: cert, key: key, pem: pem, fallbackAlternativeName: config.alternativeName)
        }
        return Sandbox(home: home, store: store, config: config, table: table, roots: roots, clockOverride: at, logger: logger)
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

        let fm = FileManager.default
        try fm.createDirectory(at: home.url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // An existing folder keeps its mode otherwise; the home holds keys.
        try fm.setAttributes([.posixPermissions: 0o700], ofItemAtPath: home.url.path)
        try fm.createDirectory(at: home.keysFolder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        for kind in CertificateKind.allCases {
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
        }
        try? fm.removeItem(at: home.municipalities)
        try SandboxHome.writePrivate(Array(tableData), to: home.municipalities)

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
                try Audit.append(tx, at: now, operation: "init", applicant: nil, residentID: nil, serials: [], fee: 0,
                                 outcome: "ok", detail: "roots created from \(configFile.lastPathComponent)")
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
