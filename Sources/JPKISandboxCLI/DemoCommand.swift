import ArgumentParser
import Foundation
import JPKICA
import JPKIDomain
import JPKIServer
import JPKIStore
import Logging
import OpenSSLKit

/// A guided run for a newcomer: a throw-away sandbox, a few residents at the seed pages' city halls,
/// their cards, and what each certificate says, with the `openssl` command that shows the same.
struct DemoCommand: AsyncCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "A guided tour: make a throw-away sandbox, register residents, issue cards, explain the certificates.")

    @Option(help: "Where to make the demo sandbox (default: a new temporary folder).") var home: String?
    @Option(help: "The CA configuration.") var config = "ca-config/sandbox.toml"
    @Option(help: "Port for the demo's OCSP server on 127.0.0.1 (0: any free port).") var port = 0

    struct Person {
        let name, birth, sex, address: String
        let residenceUntil: String?
        let adultWard: Bool
        let applicant: Applicant
        let note: String
    }

    func runAsync() async throws {
        let folder = home ?? NSTemporaryDirectory() + "jpki-sandbox-demo-\(getpid())"
        let homeURL = URL(fileURLWithPath: folder)
        say("""
        JPKI Sandbox demo
        =================
        A My Number Card carries two certificates: a signing certificate (署名用電子証明書) with the
        holder's four basic details, and an authentication certificate (利用者証明用電子証明書) without them.
        This demo makes a throw-away sandbox in \(folder).

        """)
        let sandbox: Sandbox
        do {
            sandbox = try Sandbox.initialize(home: SandboxHome(homeURL), configFile: URL(fileURLWithPath: config))
        } catch {
            throw ValidationError(SandboxError.from(error).message)
        }
        let rootFiles = CertificateKind.allCases.map { sandbox.home.rootCertificate($0).path }
        say("1. Two self-signed roots, as in real JPKI (one per kind):")
        for kind in CertificateKind.allCases {
            say("   \(kind.rawValue): \(sandbox.root(kind).certificate.subjectText)")
        }
        say("   openssl x509 -in \(rootFiles[0]) -noout -text\n")

        let today = LocalDate(try sandbox.now())
        let childBirth = today.addingYears(-14).addingDays(-30).description
        var firstSigning: (serial: String, file: String)?
        let people = [
            Person(name: "山田 太郎", birth: "1980-12-31", sex: "male", address: "埼玉県川越市元町1丁目3番地1", residenceUntil: nil,
                   adultWard: false, applicant: .self, note: "an adult at Kawagoe city hall's address (seed 000)"),
            Person(name: "髙橋 花子", birth: "1992-02-29", sex: "female", address: "静岡県沼津市御幸町16番1号", residenceUntil: nil,
                   adultWard: false, applicant: .self, note: "髙 is outside JIS X 0208, and a 29 February birthday (seed 002's Numazu)"),
            Person(name: "鈴木 一郎", birth: childBirth, sex: "male", address: "東京都板橋区板橋2丁目66番1号", residenceUntil: nil,
                   adultWard: false, applicant: .legalRepresentative, note: "a 14-year-old: no signing certificate (seed 003's Itabashi)"),
            Person(name: "SMITH JOHN", birth: "1985-06-15", sex: "male", address: "東京都町田市森野2丁目2番22号",
                   residenceUntil: today.addingYears(2).description, adultWard: false, applicant: .self,
                   note: "a foreign resident whose stay ends in two years (seed 004's Machida)"),
        ]
        say("2. Residents registered at the window, and their cards:")
        for (index, person) in people.enumerated() {
            let resident = try sandbox.addResident(name: person.name, birth: person.birth, sex: person.sex, address: person.address,
                                                   residenceUntil: person.residenceUntil, adultWard: person.adultWard)
            let issued = try sandbox.issueCard(residentID: resident.id, signPIN: "ABC123", authPIN: "1234", applicant: person.applicant)
            say("""

               [\(index + 1)] \(resident.name.value) — \(person.note)
                   born \(resident.dateOfBirth) (coded \(EraDate.encode(resident.dateOfBirth))), \(resident.sex.rawValue), \(resident.address.value)
                   card \(issued.card.id) valid to \(issued.cardLimit.day) (\(issued.cardLimit.limit.rawValue))
               """)
            if resident.name.hasSubstitutions { say("       name as certified: \(resident.name.value), flags \(resident.name.flags)") }
            for record in issued.certificates {
                let file = homeURL.appendingPathComponent("\(record.kind.rawValue)-\(record.serial).pem").path
                let cert = try Certificate(der: record.der)
                try writeFile(Array(try cert.pem().utf8), to: file, mode: 0o644)
                say("       \(record.kind.japaneseName) (\(record.kind.englishName)) \(record.serial)")
                say("         subject \(cert.subjectText)")
                say("         valid \(ISOTime.display(record.notBefore)) → \(ISOTime.display(record.notAfter)) (\(issued.limits[record.kind]!.limit.rawValue))")
                if record.kind == .sign {
                    say("         the four basic details are otherNames 1.2.392.200149.8.5.5.1–.6 in its subjectAltName")
                }
                if record.kind == .sign && firstSigning == nil { firstSigning = (record.serial, file) }
                say("         openssl x509 -in \(file) -noout -text")
                say("         openssl verify -CAfile \(sandbox.home.rootCertificate(record.kind).path) \(file)")
            }
            for (_, reason) in issued.notIssued { say("       \(reason)") }
        }
        if let firstSigning {
            try await revocation(sandbox: sandbox, serial: firstSigning.serial, file: firstSigning.file)
        }
        say("""

        4. Try the CLI on this sandbox:
           export JPKI_SANDBOX_HOME=\(folder)
           jpki-sandbox resident list
           jpki-sandbox cert list --json
           jpki-sandbox serve          # OCSP, CRLs and roots on http://127.0.0.1:8080 (docs/revocation.md)
        """)
        await virtualCard(sandbox: sandbox, cardID: 1)
    }

    /// Starts the OCSP responder and CRL server in this process, shows `openssl ocsp` answering good,
    /// revokes the certificate as a window would for a lost card, and shows the answer turn to revoked.
    func revocation(sandbox: Sandbox, serial: String, file: String) async throws {
        var logger = Logger(label: "jpki-sandbox.demo")
        logger.logLevel = .warning
        let service = try RevocationService(sandbox: sandbox, logger: logger)
        let server = try await RevocationServer(service: service, host: "127.0.0.1", port: port, logger: logger).start()
        let url = "http://127.0.0.1:\(server.port)"
        let root = sandbox.home.rootCertificate(.sign).path
        let ocsp = ["ocsp", "-issuer", root, "-cert", file, "-url", "\(url)/ocsp", "-CAfile", root]
        say("""

        3. Revocation: the OCSP responder and the CRLs are being served on \(url) (`jpki-sandbox serve` does the same).
           Relying parties ask whether a certificate still holds:
           $ openssl \(ocsp.joined(separator: " "))
        """)
        showOpenSSL(ocsp)

        // An e-Tax return signed with the card before the loss (the e-Tax shape), checked before and after the revocation.
        let folder = sandbox.home.url
        let doc = folder.appendingPathComponent("e-tax-return.xtx")
        let signedAt = try sandbox.now()
        try writeFile(try sandbox.signETax(serial: serial, pin: "ABC123", xml: EFilingSamples.etax(name: "山田　太郎")), to: doc.path, mode: 0o644)
        let verifier = sandbox.verifier(trust: try sandbox.trustAnchors(folder: nil))
        let before = try verifier.verifyFiling(doc, at: try sandbox.now(), revocation: .local).overall
        say("""

           The holder signs an e-Tax return with the card (PIN checked like the card's; XMLDSig after the procedure element):
           $ jpki-sandbox sign \(serial) --pin ABC123 --format etax --in return.xtx --out \(doc.path)
           $ jpki-sandbox verify --in \(doc.path)
             \(before.status.rawValue): \(before.message)
             signer: \(before.basicDetails?["name"] ?? "-"), \(before.basicDetails?["address"] ?? "-")
           xmlsec1 agrees (Debian's xmlsec1):
           $ xmlsec1 --verify --trusted-pem \(root) --id-attr:id http://xml.e-tax.nta.go.jp/XSD/kyotsu:PTE0010 \(doc.path)
        """)
        // The loss is reported a moment after the signing (sandbox times are whole seconds).
        try await Task.sleep(for: .milliseconds(1100))
        let revoked = try sandbox.revokeCertificate(serial: serial, reason: try RevocationReason(parsing: "lost"))
        say("""

           The holder reports the card lost; the window revokes the signing certificate (keyCompromise):
           $ jpki-sandbox cert revoke \(serial) --reason lost
             status \(revoked.status(at: try sandbox.now())), reason \(revoked.reason ?? "-")
           The same question a moment later:
           $ openssl \(ocsp.joined(separator: " "))
        """)
        showOpenSSL(ocsp)
        let after = try verifier.verifyFiling(doc, at: try sandbox.now(), revocation: .local).overall
        say("""

           The return signed before the loss, checked now and as of the moment it was signed:
           $ jpki-sandbox verify --in \(doc.path)
             \(after.status.rawValue) (exit \(after.status.exitCode)): \(after.message)
           $ jpki-sandbox verify --in \(doc.path) --at \(ISOTime.display(signedAt))
             \(try verifier.verifyFiling(doc, at: signedAt, revocation: .local).overall.status.rawValue)
        """)
        say("""

           The CRL says the same (with `jpki-sandbox serve` running):
           curl -s http://127.0.0.1:8080/crl/sign.crl | openssl crl -inform DER -noout -text
        """)
        try await server.stop()
    }

    /// Runs openssl and prints what it says, indented; explains when openssl is not installed.
    func showOpenSSL(_ arguments: [String]) {
        guard let path = ["/usr/bin/openssl", "/usr/local/bin/openssl", "/opt/homebrew/bin/openssl"]
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            say("   (openssl is not installed here; install it to see the answer)")
            return
        }
        guard let output = tool(path, arguments) else {
            say("   (could not run openssl at \(path))")
            return
        }
        for line in output.split(separator: "\n") { say("     \(line)") }
    }

    func say(_ s: String) { print(s) }
}
