import ArgumentParser
import Foundation
import JPKICA
import JPKIDomain
import OpenSSLKit

extension CACommand {
    struct Rollover: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start a new root generation: a new key and self-signed root with the same subject (as J-LIS in 2019 and 2023).",
            discussion: """
            New certificates then come from the new generation (their authorityKeyIdentifier is its key). Older \
            generations stay valid to their own end and keep answering for their own certificates: each has its \
            own CRLs (/crl/sign-g1.crl, …; /crl/sign.crl is the current generation's) and OCSP answers signed by \
            its own key. --link also issues the link certificates NewWithOld and OldWithNew (J-LIS publishes none \
            for JPKI). A running `serve` takes the new generation up by itself. Example:
              jpki-sandbox ca rollover --kind both
            """)
        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("Which root: sign, auth or both.", valueName: "sign|auth|both")) var kind: String
        @Flag(help: "Also issue NewWithOld and OldWithNew link certificates.") var link = false

        func run() throws {
            try global.run {
                let kinds: [CertificateKind]
                switch kind {
                case "both": kinds = CertificateKind.allCases
                case let k where CertificateKind(rawValue: k) != nil: kinds = [CertificateKind(rawValue: k)!]
                default: throw SandboxError.invalid("--kind must be sign, auth or both, not \"\(kind)\"; nothing was changed")
                }
                let sandbox = try global.openSandbox()
                let made = try sandbox.rollover(kinds: kinds, link: link)
                return .object([("roots", .array(made.map { r in
                    var fields: [(String, JSON)] = [
                        ("kind", .string(r.kind.rawValue)),
                        ("generation", .int(r.generation)),
                        ("previousGeneration", .int(r.previousGeneration)),
                        ("subject", .string(r.certificate.subjectText)),
                        ("serial", .string(r.certificate.serialHex)),
                        ("subjectKeyIdentifier", .string((r.certificate.subjectKeyIdentifier ?? []).hexString)),
                        ("notBefore", View.time(r.certificate.notBefore)),
                        ("notAfter", View.time(r.certificate.notAfter)),
                        ("file", .string(r.file.path)),
                    ]
                    if let nwo = r.newWithOld, let own = r.oldWithNew, r.linkFiles.count == 2 {
                        fields.append(("links", .object([
                            ("newWithOld", .object([("serial", .string(nwo.serialHex)), ("file", .string(r.linkFiles[0].path))])),
                            ("oldWithNew", .object([("serial", .string(own.serialHex)), ("file", .string(r.linkFiles[1].path))])),
                        ])))
                    }
                    return .object(fields)
                }))])
            }
        }
    }
}

extension View {
    static func rootGeneration(_ root: RootCA, current: Bool, file: String) -> JSON {
        .object([
            ("kind", .string(root.kind.rawValue)),
            ("generation", .int(root.generation)),
            ("current", .bool(current)),
            ("serial", .string(root.certificate.serialHex)),
            ("subjectKeyIdentifier", .string(root.keyIdentifier.hexString)),
            ("notBefore", View.time(root.certificate.notBefore)),
            ("notAfter", View.time(root.certificate.notAfter)),
            ("file", .string(file)),
        ])
    }
}
