// swift-tools-version:6.1
// libFuzzer targets for JPKI Sandbox's parsers of untrusted input, kept out of the main package so that a
// normal build never compiles them. Build and run through `scripts/fuzz` (it passes -sanitize=fuzzer);
// their seed corpora are in Corpus/<target>/. See docs/fuzzing.md.
import PackageDescription

let package = Package(
    name: "jpki-sandbox-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "jpki-sandbox", path: ".."),
    ],
    targets: [
        // The declaration of libFuzzer's driver, which each target's main.swift starts.
        .target(name: "CFuzzDriver"),
        // The OCSP request parser behind `POST /ocsp` and `GET /ocsp/…` (OpenSSLKit.OCSPRequest).
        .executableTarget(name: "fuzz-ocsp-request", dependencies: [
            "CFuzzDriver",
            .product(name: "OpenSSLKit", package: "jpki-sandbox"),
        ]),
        // The DER reader (DERKit.DERReader) that reads nonces, CertIDs, extensions and key identifiers.
        .executableTarget(name: "fuzz-der", dependencies: [
            "CFuzzDriver",
            .product(name: "DERKit", package: "jpki-sandbox"),
        ]),
        // What `verify` reads from a signature file before any trust decision: CMS SignedData (OpenSSLKit.CMS),
        // the signer certificate's fields and extensions, and the four basic details in its subjectAltName.
        .executableTarget(name: "fuzz-cms-verify", dependencies: [
            "CFuzzDriver",
            .product(name: "OpenSSLKit", package: "jpki-sandbox"),
            .product(name: "JPKIDomain", package: "jpki-sandbox"),
        ]),
        // The virtual card's APDU handling (JPKICard.JPKIApplet: CommandAPDU.parse and the applet's session),
        // what pcscd's vpcd reader hands `card insert`.
        .executableTarget(name: "fuzz-apdu", dependencies: [
            "CFuzzDriver",
            .product(name: "JPKICard", package: "jpki-sandbox"),
            .product(name: "JPKIDomain", package: "jpki-sandbox"),
        ]),
    ]
)
