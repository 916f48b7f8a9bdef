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
                return RolloverResource(made)
            }
        }
    }
}
