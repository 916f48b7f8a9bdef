import ArgumentParser
import Foundation
import JPKICA
import JPKIDomain
import OpenSSLKit

/// `efiling`: inputs and signed fixtures in the e-filing shapes, for relying-party developers.
struct EFilingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "efiling",
        abstract: "Unsigned samples and signed fixtures in the e-filing shapes (e-Tax, e-Gov, PDF).",
        subcommands: [Sample.self, BlankPDF.self, Fixtures.self])

    struct Sample: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write an unsigned e-Tax file (return.xtx), e-Gov package (egov/) and PDF (filing.pdf) into --out.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The folder to write into.") var out: String
        @Option(help: "Pad the e-Gov attachment and the PDF to about this many bytes (for benchmarks).") var size = 0

        func run() throws {
            try global.run {
                let dir = URL(fileURLWithPath: out)
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                try writeFile(EFilingSamples.etax(name: "山田　太郎"), to: dir.appendingPathComponent("return.xtx").path, mode: 0o644)
                try EFilingSamples.egov(name: "山田　太郎", attachmentBytes: size).write(to: dir.appendingPathComponent("egov"))
                try writeFile(EFilingSamples.pdf(title: "registration filing", padding: size), to: dir.appendingPathComponent("filing.pdf").path, mode: 0o644)
                return ["etax": dir.appendingPathComponent("return.xtx").path, "egov": dir.appendingPathComponent("egov").path,
                        "pdf": dir.appendingPathComponent("filing.pdf").path]
            }
        }
    }

    struct BlankPDF: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "blank-pdf", abstract: "Write a one-page PDF to sign.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Where to write it.") var out: String
        @Option(help: "Pad it to about this many more bytes.") var size = 0

        func run() throws {
            try global.run {
                let bytes = EFilingSamples.pdf(title: "blank", padding: size)
                try writeFile(bytes, to: out, mode: 0o644)
                return FileWritten(file: out, bytes: bytes.count)
            }
        }
    }

    struct Fixtures: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a sandbox in DIR/home and signed filings for a good, a revoked, a suspended and an expired signer.",
            discussion: """
            DIR/<signer>/return.xtx (e-Tax), DIR/<signer>/egov/ (e-Gov package), DIR/<signer>/filing.pdf (PDF, adbe.pkcs7.detached),
            DIR/sign-root.pem, and DIR/expected.json with the verdict and exit code each should get from
              jpki-sandbox verify --home DIR/home --in FILE
            (or from any verifier that trusts sign-root.pem and asks `jpki-sandbox serve --home DIR/home` for revocation).
            The sandbox is initialised six years back, so that the expired signer's certificate (issued then) has run out.
            """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "The folder to write into (must not hold a sandbox yet).") var out: String
        @Option(help: "The CA configuration.") var config = "ca-config/sandbox.toml"

        func run() throws {
            try global.run {
                let dir = URL(fileURLWithPath: out)
                let home = SandboxHome(dir.appendingPathComponent("home"))
                let now = try global.atDate() ?? Date()
                let past = now.addingTimeInterval(-6 * 365.25 * 86400)
                _ = try Sandbox.initialize(home: home, configFile: URL(fileURLWithPath: config), at: past)
                let root = try Sandbox.open(home: home, at: past).home.rootCertificate(.sign)
                try FileManager.default.copyItem(at: root, to: dir.appendingPathComponent("sign-root.pem"))
                var expected: [FixturesSummary.Fixture] = []
                let signers: [(String, String, SignatureStatus)] = [
                    ("good", "山田 太郎", .valid), ("revoked", "佐藤 花子", .revoked), ("suspended", "鈴木 次郎", .suspended), ("expired", "高橋 三郎", .expired),
                ]
                for (label, name, status) in signers {
                    // The expired signer's card is issued and used six years back; the others now.
                    let at = status == .expired ? past.addingTimeInterval(86400) : now
                    let sandbox = try Sandbox.open(home: home, at: at)
                    let resident = try sandbox.addResident(name: name, birth: "1980-05-26", sex: status == .revoked ? "female" : "male",
                                                           address: "埼玉県川越市元町1丁目3番地1", residenceUntil: nil, adultWard: false)
                    let issued = try sandbox.issueCard(residentID: resident.id, signPIN: "ABC123", authPIN: "1234")
                    guard let serial = issued.certificates.first(where: { $0.kind == .sign })?.serial else { continue }
                    let folder = dir.appendingPathComponent(label)
                    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                    try writeFile(try sandbox.signETax(serial: serial, pin: "ABC123", xml: EFilingSamples.etax(name: name)),
                                  to: folder.appendingPathComponent("return.xtx").path, mode: 0o644)
                    try sandbox.signEGov(serial: serial, pin: "ABC123", package: EFilingSamples.egov(name: name), cosign: false)
                        .write(to: folder.appendingPathComponent("egov"))
                    try writeFile(try sandbox.signPDF(serial: serial, pin: "ABC123", pdf: EFilingSamples.pdf(title: "filing by \(label) signer"), filter: nil, pades: false).pdf,
                                  to: folder.appendingPathComponent("filing.pdf").path, mode: 0o644)
                    let later = try Sandbox.open(home: home, at: now.addingTimeInterval(1))
                    if status == .revoked { _ = try later.revokeCertificate(serial: serial, reason: .keyCompromise) }
                    if status == .suspended { _ = try later.suspendCard(id: issued.card.id) }
                    expected.append(.init(signer: label, serial: serial, status: status.rawValue, exitCode: Int(status.exitCode),
                                          files: ["return.xtx", "egov", "filing.pdf"].map { "\(label)/\($0)" }))
                }
                let summary = FixturesSummary(home: home.url.path, root: dir.appendingPathComponent("sign-root.pem").path, fixtures: expected)
                try writeFile(Array((try ResourceJSON.string(summary) + "\n").utf8), to: dir.appendingPathComponent("expected.json").path, mode: 0o644)
                return summary
            }
        }
    }
}

/// A file written and its size.
struct FileWritten: Codable { var file: String; var bytes: Int }

/// `efiling fixtures`' expected.json: each signer's verdict and exit code.
struct FixturesSummary: Codable {
    struct Fixture: Codable { var signer: String; var serial: String; var status: String; var exitCode: Int; var files: [String] }
    var home: String
    var root: String
    var fixtures: [Fixture]
}
