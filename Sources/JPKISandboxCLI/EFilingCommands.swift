import ArgumentParser
import Foundation
import JPKICA
import JPKIDomain
import OpenSSLKit

/// The options of `sign` that only the e-filing formats use.
struct FilingSignOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The signature's shape (cms is the default).", valueName: "cms|etax|egov|pdf|raw")) var format = "cms"
    @Flag(help: "egov: add a further signature (連署) beside the existing ones.") var cosign = false
    @Option(name: .customLong("digest-info"), help: "raw: the DER DigestInfo to sign, in hexadecimal (else the SHA-256 of --in).") var digestInfo: String?
    @Option(help: "pdf: the /Filter name (default Adobe.PPKLite; MOJSignDoc for the Ministry of Justice's plug-in).") var filter: String?
    @Flag(help: "pdf: /SubFilter /ETSI.CAdES.detached (PAdES) instead of /adbe.pkcs7.detached.") var pades = false
    @Flag(name: .customLong("debug-unescaped-fragment"),
          help: "egov: write the reference to 構成情報 unescaped (#構成情報), for a cross-check with xmlsec1; e-Gov writes it percent-encoded.")
    var debugUnescapedFragment = false
}

/// `sign --format etax|egov|pdf|raw`: reads the input, asks the CA service, writes the output. The
/// card's checks and the audit entry are the service's (`Sandbox.signingIdentity`).
func signFiling(_ sandbox: Sandbox, serial: String, pin: String, format: FilingFormat, input: String?, out: String,
                options: FilingSignOptions) throws -> SignatureMadeResource {
    let normalized = try Sandbox.normalizeSerial(serial)
    var made = SignatureMadeResource(serial: normalized, format: format.rawValue, file: out)
    switch format {
    case .etax:
        let signed = try sandbox.signETax(serial: serial, pin: pin, xml: try readInput(try required(input), what: "the e-Tax file"))
        try writeFile(signed, to: out, mode: 0o644)
        made.bytes = signed.count
    case .egov:
        let package = try EGovPackage(folder: URL(fileURLWithPath: try required(input)))
        let signed = try sandbox.signEGov(serial: serial, pin: pin, package: package, cosign: options.cosign,
                                          unescapedFragment: options.debugUnescapedFragment)
        try signed.write(to: URL(fileURLWithPath: out))
        made.references = signed.files.count + 1
    case .pdf:
        let (signed, field) = try sandbox.signPDF(serial: serial, pin: pin, pdf: try readInput(try required(input), what: "the PDF"),
                                                  filter: options.filter, pades: options.pades)
        try writeFile(signed, to: out, mode: 0o644)
        made.field = field
        made.bytes = signed.count
    case .raw:
        let digestInfo: [UInt8]
        if let hex = options.digestInfo {
            guard let bytes = [UInt8](hexString: hex) else { throw SandboxError.invalid("--digest-info must be hexadecimal") }
            digestInfo = bytes
        } else {
            digestInfo = DigestInfo.sha256(digest: Crypto.sha256(try readInput(try required(input, "--in FILE or --digest-info HEX"), what: "the file to sign")))
        }
        let (_, signature) = try sandbox.signRaw(serial: serial, pin: pin, digestInfo: digestInfo)
        try writeFile(signature, to: out, mode: 0o644)
        made.digestInfo = digestInfo.hexString
        made.bytes = signature.count
        made.algorithm = "RSASSA-PKCS1-v1_5 over the DigestInfo"
    case .cms:
        throw SandboxError.invalid("cms is signed by `sign` itself")
    }
    made.signingTime = ISOTime.display(try sandbox.now())
    return made
}

private func required(_ input: String?, _ what: String = "--in PATH") throws -> String {
    guard let input else { throw SandboxError.invalid("this format needs \(what)") }
    return input
}

/// `verify --in PATH` without `--signature`: every signature of an e-Tax file, e-Gov package or PDF.
/// The top-level keys are the filing's verdict (the first signature that is not valid, else the
/// first); `signatures` lists each one.
func verifyFiling(_ verifier: SignatureVerifier, input: String, format: String?, at: Date, revocation: RevocationSource) throws -> (FilingVerdictResource, SignatureStatus) {
    var chosen: FilingFormat?
    if let format {
        guard let f = FilingFormat(rawValue: format), [.etax, .egov, .pdf].contains(f) else {
            throw SandboxError.invalid("--format must be etax, egov or pdf (a CMS signature is verified with --signature)")
        }
        chosen = f
    }
    let result = try verifier.verifyFiling(URL(fileURLWithPath: input), format: chosen, at: at, revocation: revocation)
    return (FilingVerdictResource(result), result.overall.status)
}
