import ArgumentParser
import Foundation
import JPKICA
import JPKIDomain
import OpenSSLKit

func readInput(_ path: String, what: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw SandboxError.invalid("cannot read \(what) \(path)")
    }
    return [UInt8](data)
}

/// The verifier for `verify` and `auth verify`: the sandbox's (its roots, or --trust, plus its
/// register), or, with no sandbox, one that trusts only --trust and checks revocation remotely.
func makeVerifier(_ global: GlobalOptions, trust: String?) throws -> (SignatureVerifier, Date, Sandbox?) {
    let folder = trust.map { URL(fileURLWithPath: $0) }
    if global.sandboxHome.exists {
        let sandbox = try global.openSandbox()
        return (sandbox.verifier(trust: try sandbox.trustAnchors(folder: folder)), try global.atDate() ?? sandbox.now(), sandbox)
    }
    guard let folder else {
        throw SandboxError("no-sandbox", "no sandbox at \(global.sandboxHome.url.path): give --trust DIR with the root certificates to verify against (or --home)")
    }
    return (SignatureVerifier(trust: try trustAnchors(folder: folder)), try global.atDate() ?? Date(), nil)
}

let verifyExitCodes = """
Exit status: 0 valid, 2 invalid signature (or not a signature of this content; a filing with no signature, \
a changed or missing referenced file, a damaged PDF), 3 untrusted, 4 revoked, 5 suspended, 6 expired; 1 for errors \
(unreadable files, input that is no known format, bad options).
"""

struct SignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign with a simulated card's signing certificate: CMS SignedData (CAdES-BES, the default), or an e-Tax file, an e-Gov package, a PDF, or a raw DigestInfo.",
        discussion: """
        RSA PKCS#1 v1.5 with SHA-256; signed attributes content-type, message-digest, signing-time (the sandbox clock) and \
        ESS signing-certificate-v2. Like the card, a wrong PIN costs a try; a locked, suspended, revoked or expired \
        certificate refuses and says which. Check with:
          openssl cms -verify -binary -content FILE -in FILE.p7s -inform DER -CAfile sign-root.pem
        --format etax: an e-Tax file (<DATA> with the procedure element); the XMLDSig follows the procedure element.
        --format egov: a package folder with kousei.xml; --out is the signed package's folder (--cosign for 連署).
        --format pdf: an incremental update with a signature field (adbe.pkcs7.detached; --pades, --filter MOJSignDoc).
        --format raw: PKCS#1 v1.5 over --digest-info HEX, or over the SHA-256 DigestInfo of --in; --out gets the signature.
        See docs/integration.md.
        """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Serial number of a signing certificate.") var serial: String
    @Option(help: SecretInput.help("The signing PIN.", option: "pin")) var pin: String?
    @Option(name: .customLong("in"), help: "The file (or e-Gov package folder) to sign.") var input: String?
    @Option(help: "Where to write the signature (DER), or the signed file or package.") var out: String
    @Flag(help: "Embed the content in the SignedData.") var attached = false
    @OptionGroup var filing: FilingSignOptions

    func run() throws {
        try global.run {
            let sandbox = try global.openSandbox()
            guard let format = FilingFormat(rawValue: filing.format) else { throw SandboxError.invalid("--format must be cms, etax, egov, pdf or raw") }
            if format != .cms {
                return try signFiling(sandbox, serial: serial, pin: try SecretInput.required(pin, option: "pin"), format: format, input: input, out: out, options: filing)
            }
            guard let input else { throw SandboxError.invalid("sign needs --in FILE") }
            let content = try readInput(input, what: "the file to sign")
            let signature = try sandbox.sign(serial: serial, pin: try SecretInput.required(pin, option: "pin"), content: content, attached: attached)
            try writeFile(signature, to: out, mode: 0o644)
            return SignatureMadeResource(serial: try Sandbox.normalizeSerial(serial), file: out, bytes: signature.count,
                                         detached: !attached, signingTime: try sandbox.now())
        }
    }
}

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a signature: signature, chain to a sandbox root, validity at the signing time and at --at, revocation.",
        discussion: "With --signature: a detached CMS signature of --in. Without: --in is an e-Tax file, an e-Gov package (folder or kousei.xml) or a PDF, detected from the file (or --format), and every signature in it is checked; the exit status is the first one that is not valid. Revocation: local (this sandbox's register, default), ocsp or crl (the URLs in the certificate), none. Without a sandbox home, give --trust DIR (and ocsp, crl or none).\n" + verifyExitCodes)
    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("in"), help: "The signed file.") var input: String
    @Option(help: "The signature (DER CMS), for a detached CMS signature.") var signature: String?
    @Option(help: ArgumentHelp("The filing's shape, when not detected.", valueName: "etax|egov|pdf")) var format: String?
    @Option(help: ArgumentHelp("How to check revocation.", valueName: "local|ocsp|crl|none")) var revocation = "local"
    @Option(help: "A folder of trusted root certificates (default: this sandbox's roots).") var trust: String?

    func run() throws {
        var status = SignatureStatus.valid
        try global.run { () throws -> VerifyAnswer in
            guard let source = RevocationSource(rawValue: revocation) else { throw SandboxError.invalid("--revocation must be local, ocsp, crl or none") }
            let (verifier, at, _) = try makeVerifier(global, trust: trust)
            guard let signature else {
                let (verdict, filingStatus) = try verifyFiling(verifier, input: input, format: format, at: at, revocation: source)
                status = filingStatus
                return .filing(verdict)
            }
            let verdict = try verifier.verifySignature(content: try readInput(input, what: "the signed file"),
                                                       signature: try readInput(signature, what: "the signature"), at: at, revocation: source)
            status = verdict.status
            return .signature(SignatureVerdictResource(verdict))
        }
        if status != .valid { throw ExitCode(status.exitCode) }
    }
}

struct AuthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auth", abstract: "The authentication certificate's key: answer and check challenges (利用者証明).",
        subcommands: [Respond.self, Verify.self])

    struct Respond: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign a challenge with the authentication key, as the card does: PKCS#1 v1.5 over a SHA-256 DigestInfo.",
            discussion: "Prints the signature in hex. Check with: openssl dgst -sha256 -verify PUBKEY -signature SIG.bin CHALLENGE.bin")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Serial number of an authentication certificate.") var serial: String
        @Option(help: SecretInput.help("The 4-digit authentication PIN.", option: "pin")) var pin: String?
        @Option(help: "The challenge in hexadecimal.") var challenge: String

        func run() throws {
            try global.run {
                guard let bytes = [UInt8](hexString: challenge) else { throw SandboxError.invalid("--challenge must be hexadecimal (e.g. 0123ABCD)") }
                let pin = try SecretInput.required(self.pin, option: "pin")
                let (record, signature) = try global.openSandbox().authRespond(serial: serial, pin: pin, challenge: bytes)
                return SignatureMadeResource(serial: record.serial, signature: signature.hexString, algorithm: "sha256WithRSAEncryption")
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a challenge response like `verify` checks a signature.", discussion: verifyExitCodes)
        @OptionGroup var global: GlobalOptions
        @Option(help: "Serial of the authentication certificate (in this sandbox).") var serial: String?
        @Option(help: "Or the certificate file (PEM or DER).") var cert: String?
        @Option(help: "The challenge in hexadecimal.") var challenge: String
        @Option(help: "The response signature in hexadecimal.") var signature: String
        @Option(help: ArgumentHelp("How to check revocation.", valueName: "local|ocsp|crl|none")) var revocation = "local"
        @Option(help: "A folder of trusted root certificates (default: this sandbox's roots).") var trust: String?

        func run() throws {
            var status = SignatureStatus.valid
            try global.run {
                let (verifier, at, sandbox) = try makeVerifier(global, trust: trust)
                guard let c = [UInt8](hexString: challenge), let s = [UInt8](hexString: signature) else {
                    throw SandboxError.invalid("--challenge and --signature must be hexadecimal")
                }
                guard let source = RevocationSource(rawValue: revocation) else { throw SandboxError.invalid("--revocation must be local, ocsp, crl or none") }
                let certificate: Certificate
                if let serial {
                    guard let sandbox else { throw SandboxError.invalid("--serial needs a sandbox (--home); give --cert FILE instead") }
                    certificate = try Certificate(der: try sandbox.certificate(serial: serial).der)
                }
                else if let cert { certificate = try Certificate(pemOrDER: try readInput(cert, what: "the certificate")) }
                else { throw SandboxError.invalid("give --serial or --cert") }
                let verdict = try verifier.verifyAuthResponse(certificate: certificate, challenge: c, signature: s, at: at, revocation: source)
                status = verdict.status
                return SignatureVerdictResource(verdict)
            }
            if status != .valid { throw ExitCode(status.exitCode) }
        }
    }
}

/// `verify`'s answer: one CMS signature's verdict, or a filing's.
enum VerifyAnswer: Encodable {
    case signature(SignatureVerdictResource)
    case filing(FilingVerdictResource)

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .signature(let v): try v.encode(to: encoder)
        case .filing(let v): try v.encode(to: encoder)
        }
    }
}
