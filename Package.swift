// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "jpki-sandbox",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "jpki-sandbox", targets: ["jpki-sandbox"]),
        // For Benchmarks/ (a separate package, so that its release builds never touch `swift test`).
        .library(name: "JPKICA", targets: ["JPKICA"]),
        .library(name: "OpenSSLKit", targets: ["OpenSSLKit"]),
        // For Fuzz/ (libFuzzer targets, also a separate package: `scripts/fuzz`).
        .library(name: "DERKit", targets: ["DERKit"]),
        .library(name: "JPKIDomain", targets: ["JPKIDomain"]),
        .library(name: "JPKICard", targets: ["JPKICard"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        // Layer 0: OpenSSL 3 as a system library, plus C functions for what Swift cannot call (macros).
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(name: "CJPKIShims", dependencies: ["COpenSSL"]),
        // libxmlsec1 with its OpenSSL backend (and libxml2) for XML signatures, plus C functions for its
        // macros, its I/O callbacks and its error callback.
        .systemLibrary(
            name: "CXMLSec",
            pkgConfig: "xmlsec1-openssl",
            providers: [.apt(["libxmlsec1-dev"])]
        ),
        .target(name: "CXMLSecShims", dependencies: ["CXMLSec"]),
        // Layer 1: safe Swift over OpenSSL. No JPKI knowledge; no OpaquePointer above this target.
        .target(name: "OpenSSLKit", dependencies: ["COpenSSL", "CJPKIShims", "DERKit"]),
        // Layer 1: safe Swift over libxmlsec1 (XMLDSig: C14N, digests, signatures). No JPKI knowledge.
        .target(name: "XMLSigKit", dependencies: ["CXMLSec", "CXMLSecShims"]),
        // zlib (raw deflate) and a small zip reader/writer for e-Gov application packages.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "ZipKit", dependencies: ["CZlib"]),
        // Layer 1: reading PDFs and signing them by an incremental update (pure Swift, no JPKI knowledge).
        .target(name: "PDFSigKit"),
        // A small DER writer and reader shared by the wrappers and the domain (pure Swift).
        .target(name: "DERKit"),
        // Layer 2: the JPKI rules and profile. Pure Swift, clock injected, no I/O.
        .target(name: "JPKIDomain", dependencies: ["DERKit"]),
        // Layer 3: the register: SQLite through GRDB (the default), or PostgreSQL through postgres-nio.
        .target(name: "JPKIStore", dependencies: [
            "JPKIDomain",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "GRDBSQLite", package: "GRDB.swift"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Layer 4: CA services: each operation one transaction, audited.
        .target(name: "JPKICA", dependencies: [
            "OpenSSLKit", "XMLSigKit", "PDFSigKit", "ZipKit", "JPKIDomain", "JPKIStore",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Layer 5: the faces. HTTP (`serve`: OCSP responder, CRLs, roots, metrics) on Hummingbird 2.
        .target(name: "JPKIServer", dependencies: [
            "JPKICA", "JPKIDomain", "OpenSSLKit", "DERKit", "JPKIConsole",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Layer 5: the faces. The operator console (`serve`, `/console/`): server-rendered HTML (swift-mustache
        // templates compiled into the binary), sessions and CSRF; every procedure is a JPKICA service call.
        .target(name: "JPKIConsole", dependencies: [
            "JPKICA", "JPKIDomain", "JPKIStore", "OpenSSLKit",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Mustache", package: "swift-mustache"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Layer 5: the faces. The virtual My Number Card (`card insert`): the JPKI applet behind pcscd's
        // vpcd reader, over swift-nio.
        .target(name: "JPKICard", dependencies: [
            "JPKICA", "JPKIDomain",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "JPKISandboxCLI", dependencies: [
            "JPKICA", "JPKIDomain", "OpenSSLKit", "JPKIServer", "JPKICard",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "jpki-sandbox", dependencies: [
            "JPKISandboxCLI",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        .testTarget(name: "OpenSSLKitTests", dependencies: ["OpenSSLKit", "DERKit"]),
        .testTarget(name: "XMLSigKitTests", dependencies: ["XMLSigKit", "PDFSigKit", "ZipKit", "OpenSSLKit"]),
        .testTarget(name: "JPKIDomainTests", dependencies: ["JPKIDomain"]),
        .testTarget(name: "JPKISandboxTests", dependencies: [
            "JPKICA", "JPKIDomain", "JPKIStore", "OpenSSLKit", "DERKit", "JPKICard", "JPKIServer", "jpki-sandbox",
        ]),
    ]
)
