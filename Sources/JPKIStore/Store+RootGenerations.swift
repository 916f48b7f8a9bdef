import Foundation
import GRDB
import JPKIDomain

/// A root generation after the first (`ca rollover`, or `init` with `[roots] generations`): a new key
/// and self-signed certificate under the same subject. Generation 1 is the pair `init` wrote
/// (`sign-root.pem`, `keys/sign-root.key`) and has no row: every sandbox has it, including those made
/// before generations existed.
public struct RootGenerationRecord: Sendable, Hashable {
    public let kind: CertificateKind
    public let generation: Int
    /// The root certificate (public; its key stays in the home).
    public let der: [UInt8]
    public let createdAt: Date
    /// The link certificates made with it (`--link`), when asked: the new key certified by the
    /// previous generation, and the previous key certified by the new one.
    public let newWithOld: [UInt8]?
    public let oldWithNew: [UInt8]?

    public init(kind: CertificateKind, generation: Int, der: [UInt8], createdAt: Date, newWithOld: [UInt8]?, oldWithNew: [UInt8]?) {
        self.kind = kind; self.generation = generation; self.der = der; self.createdAt = createdAt
        self.newWithOld = newWithOld; self.oldWithNew = oldWithNew
    }
}

extension Store {
    /// `v4-root-generations`: the later root generations, each certificate's issuing generation, and
    /// the CRL index by generation (a generation's CRL lists its own certificates only).
    static func registerRootGenerationMigration(_ m: inout DatabaseMigrator) {
        m.registerMigration("v4-root-generations") { db in
            try db.execute(sql: """
            CREATE TABLE root_generations (
                kind TEXT NOT NULL CHECK (kind IN ('sign', 'auth')),
                generation INTEGER NOT NULL CHECK (generation >= 2),
                der BLOB NOT NULL,
                created_at TEXT NOT NULL,
                new_with_old BLOB, old_with_new BLOB,
                PRIMARY KEY (kind, generation));
            ALTER TABLE certificates ADD COLUMN root_generation INTEGER NOT NULL DEFAULT 1;
            DROP INDEX certificates_crl;
            CREATE INDEX certificates_crl ON certificates(kind, root_generation, state, serial, revoked_at, reason, municipality_code)
                WHERE state IN ('revoked', 'hold');
            """)
        }
    }
}

extension Transaction {
    /// The generations after the first, oldest first.
    public func rootGenerations() throws -> [RootGenerationRecord] {
        try all("SELECT * FROM root_generations ORDER BY kind, generation").map { row in
            RootGenerationRecord(kind: CertificateKind(rawValue: try row.get("kind")) ?? .auth, generation: try row.get("generation"),
                                 der: [UInt8](try row.get("der") as Data), createdAt: try Self.storedDate(row.get("created_at")),
                                 newWithOld: (try row.get("new_with_old") as Data?).map { [UInt8]($0) },
                                 oldWithNew: (try row.get("old_with_new") as Data?).map { [UInt8]($0) })
        }
    }

    public func insertRootGeneration(_ r: RootGenerationRecord) throws {
        try exec("INSERT INTO root_generations(kind, generation, der, created_at, new_with_old, old_with_new) VALUES (?, ?, ?, ?, ?, ?)",
                 [r.kind.rawValue, r.generation, r.der, ISOTime.storage(r.createdAt), r.newWithOld, r.oldWithNew])
    }

    /// How many generations after the first there are, both roots together.
    public func rootGenerationCount() throws -> Int {
        try scalar(Int.self, "SELECT COUNT(*) FROM root_generations") ?? 0
    }

    /// The newest generation of `kind` (1 when there was no rollover).
    public func currentRootGeneration(kind: CertificateKind) throws -> Int {
        try scalar(Int.self, "SELECT MAX(generation) FROM root_generations WHERE kind = ?", [kind.rawValue]) ?? 1
    }

    /// Records which generation issued a certificate (kept out of `insertCertificate`'s column list).
    public func setRootGeneration(serial: String, _ generation: Int) throws {
        guard generation != 1 else { return }
        try exec("UPDATE certificates SET root_generation = ? WHERE serial = ?", [generation, serial])
    }
}
