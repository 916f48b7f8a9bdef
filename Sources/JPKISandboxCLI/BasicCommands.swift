import ArgumentParser
import Foundation
import JPKICA
import JPKIDomain
import JPKIStore
import OpenSSLKit

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a sandbox: two self-signed RSA-2048 roots (signing, authentication) and an empty register.",
        discussion: "Reads the configuration (DNs, policy OIDs, CPS URL, validity, public base URL) and refuses to overwrite an existing sandbox.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "The CA configuration.") var config = "ca-config/sandbox.toml"

    func run() throws {
        try global.run {
            let sandbox = try Sandbox.initialize(home: global.sandboxHome, configFile: URL(fileURLWithPath: config), at: try global.atDate())
            return InitResource(home: sandbox.home.url.path, roots: CertificateKind.allCases.map { kind in
                let root = sandbox.root(kind)
                return RootResource(kind: kind.rawValue, subject: root.certificate.subjectText, serial: root.certificate.serialHex,
                                    notAfter: root.certificate.notAfter, file: sandbox.home.rootCertificate(kind, generation: root.generation).path,
                                    generations: sandbox.rootGenerations[kind]?.count ?? 1)
            })
        }
    }
}

struct ResidentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resident", abstract: "Register and look up residents (the four basic details).",
        subcommands: [Add.self, Update.self, Show.self, List.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a resident.",
            discussion: """
            The name takes an ASCII or ideographic space between surname and given name and is stored with U+3000. \
            Characters outside JIS X 0208 are replaced by 〓 and flagged. The address is written from the prefecture on; \
            its digits and hyphens become full-width. Example:
              jpki-sandbox resident add --name "山田 太郎" --birth 1980-12-31 --sex male --address "埼玉県川越市元町1丁目3番地1"
            """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "氏名: surname and given name, separated by a space.") var name: String
        @Option(help: ArgumentHelp("生年月日, YYYY-MM-DD.", valueName: "YYYY-MM-DD")) var birth: String
        @Option(help: ArgumentHelp("性別: male, female or unknown.", valueName: "male|female|unknown")) var sex: String
        @Option(help: "住所, from the prefecture on (200 characters at most).") var address: String
        @Option(help: ArgumentHelp("Last day of a foreign resident's period of stay; it bounds the card and certificates.", valueName: "YYYY-MM-DD"))
        var residenceUntil: String?
        @Flag(help: "成年被後見人: an adult ward, who may not hold a signing certificate.") var adultWard = false

        func run() throws {
            try global.run {
                let sandbox = try global.openSandbox()
                return ResidentResource(try sandbox.addResident(name: name, birth: birth, sex: sex, address: address,
                                                             residenceUntil: residenceUntil, adultWard: adultWard))
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a resident with their cards and certificates.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Resident id.") var id: Int64

        func run() throws {
            try global.run {
                try global.openSandbox().residentDetail(id: id)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List residents.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "At most this many.") var limit = 100
        @Option(help: "Skip this many.") var offset = 0

        func run() throws {
            try global.run {
                let sandbox = try global.openSandbox()
                return ResidentListResource(try sandbox.residents(limit: limit, offset: offset).map(ResidentResource.init))
            }
        }
    }
}

struct CardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "card", abstract: "Issue and look up My Number Cards and their certificates.",
        subcommands: [Issue.self, Show.self, Renew.self, Suspend.self, Resume.self, Revoke.self, Insert.self, Eject.self])

    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a card with its authentication certificate and, when the holder may have one, its signing certificate.",
            discussion: """
            Signing certificates are not issued to under-15s nor to adult wards; the answer says why none was. \
            Validity: 5th birthday after issuance, bounded by the card (10th birthday for adults, 5th for minors) and \
            by a foreign resident's period of stay; notAfter is 23:59:59 JST of the last day.
            PINs: signing 6–16 of A–Z and 0–9 mixing both; authentication exactly 4 digits.
            """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "Resident id.") var resident: Int64
        @Option(help: SecretInput.help("署名用パスワード: 6–16 of A–Z and 0–9, mixing letters and digits. Not needed when no signing certificate is issued.", option: "sign-pin"))
        var signPin: String?
        @Option(help: SecretInput.help("利用者証明用暗証番号: 4 digits. (An agent gives the PINs when completing the request.)", option: "auth-pin")) var authPin: String?
        @Option(help: ArgumentHelp("Who applies: self, legal-representative or agent.", valueName: "self|legal-representative|agent"))
        var applicant: String = "self"

        func run() throws {
            try global.run {
                let sandbox = try global.openSandbox()
                guard let who = Applicant(rawValue: applicant) else {
                    throw SandboxError.invalid("--applicant must be self, legal-representative or agent, not \"\(applicant)\"")
                }
                _ = try sandbox.resident(id: resident)
                let signPin = try SecretInput.value(self.signPin, option: "sign-pin")
                let authPin = try SecretInput.value(self.authPin, option: "auth-pin")
                return try sandbox.window(.cardIssue(resident: resident, signPIN: signPin, authPIN: authPin), applicant: who)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a card and its certificates.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Card id.") var id: Int64

        func run() throws {
            try global.run {
                try global.openSandbox().cardDetail(id: id)
            }
        }
    }
}

struct CertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cert", abstract: "Look up, revoke and renew certificates.", subcommands: [Show.self, List.self, Issue.self, Renew.self, Revoke.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a certificate: status, validity, subject and PEM.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Serial number (hexadecimal).") var serial: String

        func run() throws {
            try global.run {
                let sandbox = try global.openSandbox()
                let record = try sandbox.certificate(serial: serial)
                var resource = try CertificateResource(full: record, now: try sandbox.now())
                resource.sharedKey = try sandbox.sharedKeyNote(serial: record.serial)
                return resource
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List certificates, newest first.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this resident's.") var resident: Int64?
        @Option(help: ArgumentHelp("Only this kind: sign or auth.", valueName: "sign|auth")) var kind: String?
        @Option(help: "At most this many.") var limit = 100

        func run() throws {
            try global.run {
                let sandbox = try global.openSandbox()
                var k: CertificateKind?
                if let kind {
                    guard let parsed = CertificateKind(rawValue: kind) else { throw SandboxError.invalid("--kind must be sign or auth") }
                    k = parsed
                }
                let now = try sandbox.now()
                return CertificateListResource(try sandbox.certificates(residentID: resident, kind: k, limit: limit).map { CertificateResource(summary: $0, now: now) })
            }
        }
    }
}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a test identity: PKCS#12 (key, certificate, root) or a PEM bundle.",
        discussion: "PKCS#12 uses AES-256-CBC and an HMAC-SHA-256 MAC (OpenSSL 3 defaults); `openssl pkcs12 -in FILE.p12 -info` reads it.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Serial number.") var serial: String
    @Option(help: "Where to write.") var out: String
    @Option(help: SecretInput.help("PKCS#12 password.", option: "password")) var password: String?
    @Flag(help: "Write PEM (certificate, unencrypted key, root) instead of PKCS#12.") var pem = false

    func run() throws {
        try global.run {
            let sandbox = try global.openSandbox()
            let bytes: [UInt8]
            if pem {
                bytes = Array(try sandbox.exportPEMBundle(serial: serial).utf8)
            } else {
                guard let password = try SecretInput.value(self.password, option: "password") else {
                    throw SandboxError.invalid("give --password for the PKCS#12 file (- to read it from standard input, or $JPKI_PASSWORD), or --pem for a PEM bundle")
                }
                bytes = try sandbox.exportPKCS12(serial: serial, password: password)
            }
            try writeFile(bytes, to: out, mode: 0o600)
            return ExportResource(serial: try Sandbox.normalizeSerial(serial), file: out, format: pem ? "pem" : "pkcs12")
        }
    }
}

struct CACommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ca", abstract: "The sandbox's root certificates and their generations.",
                                                    subcommands: [Export.self, Rollover.self])

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the roots to a folder: every generation, the link certificates, and bundles.",
            discussion: """
            sign-root.pem and auth-root.pem are the current generation of each root (the one that issues);             sign-root-g1.pem, sign-root-g2.pem, … every generation (they share one subject: tell them apart by key);             sign-roots.pem, auth-roots.pem and roots-bundle.pem every generation, oldest first;             sign-root-g2-by-g1.pem and the like the link certificates of `ca rollover --link`.             The roots' private keys never leave the sandbox home.
            """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "Folder to write into (created if missing).") var out: String

        func run() throws {
            try global.run {
                let sandbox = try global.openSandbox()
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                let folder = URL(fileURLWithPath: out)
                var files: [String: String] = [:]
                var generations: [RootGenerationResource] = []
                for kind in CertificateKind.allCases {
                    let path = folder.appendingPathComponent("\(kind.rawValue)-root.pem").path
                    try writeFile(Array(sandbox.root(kind).pem.utf8), to: path, mode: 0o644)
                    files[kind.rawValue] = path
                    let all = sandbox.rootGenerations[kind] ?? []
                    for root in all {
                        let file = folder.appendingPathComponent("\(kind.rawValue)-root-g\(root.generation).pem").path
                        try writeFile(Array(root.pem.utf8), to: file, mode: 0o644)
                        generations.append(RootGenerationResource(root, current: root.generation == all.last?.generation, file: file))
                    }
                    try writeFile(Array(all.map(\.pem).joined().utf8), to: folder.appendingPathComponent("\(kind.rawValue)-roots.pem").path, mode: 0o644)
                }
                let bundle = folder.appendingPathComponent("roots-bundle.pem").path
                try writeFile(Array(sandbox.allRoots.map(\.pem).joined().utf8), to: bundle, mode: 0o644)
                var links: [RootLinkResource] = []
                for link in try sandbox.rootLinks() {
                    let file = folder.appendingPathComponent("\(link.kind.rawValue)-root-g\(link.subject)-by-g\(link.issuer).pem").path
                    try writeFile(Array(try link.certificate.pem().utf8), to: file, mode: 0o644)
                    links.append(RootLinkResource(kind: link.kind.rawValue, subjectGeneration: link.subject, issuerGeneration: link.issuer,
                                                  serial: link.certificate.serialHex, file: file))
                }
                return RootsExportResource(roots: files, generations: generations, bundle: bundle, links: links)
            }
        }
    }
}

struct ClockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clock", abstract: "The sandbox clock: expiry and renewal windows reachable in a second.",
        subcommands: [Show.self, Set.self, Advance.self, Reset.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the time the sandbox acts at.")
        @OptionGroup var global: GlobalOptions
        func run() throws {
            try global.run {
                let sandbox = try global.openSandbox()
                return ClockResource(now: try sandbox.now())
            }
        }
    }
}

/// Writes a file atomically with the given permissions (`AtomicFile`: an unguessable temporary name
/// opened with O_EXCL|O_NOFOLLOW, fsync, rename over the target).
func writeFile(_ bytes: [UInt8], to path: String, mode: mode_t) throws {
    try AtomicFile.write(bytes, to: URL(fileURLWithPath: path), mode: mode)
}
