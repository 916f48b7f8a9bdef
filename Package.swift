// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "jpki-sandbox",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "jpki-sandbox", targets: ["jpki-sandbox"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // Layer 0: OpenSSL 3 as a system library, plus C functions for what Swift cannot call (macros).
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(name: "CJPKIShims", dependencies: ["COpenSSL"]),
        // Layer 1: safe Swift over OpenSSL. No JPKI knowledge; no OpaquePointer above this target.
        .target(name: "OpenSSLKit", dependencies: ["COpenSSL", "CJPKIShims", "DERKit"]),
        // A small DER writer and reader shared by the wrappers and the domain (pure Swift).
        .target(name: "DERKit"),
        // Layer 2: the JPKI rules and profile. Pure Swift, clock injected, no I/O.
        .target(name: "JPKIDomain", dependencies: ["DERKit"]),
        // Layer 3: SQLite through GRDB.
        .target(name: "JPKIStore", dependencies: [
            "JPKIDomain",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        // Layer 4: CA services: each operation one transaction, audited.
        .target(name: "JPKICA", dependencies: [
            "OpenSSLKit", "JPKIDomain", "JPKIStore",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Layer 5: the faces.
        .target(name: "JPKISandboxCLI", dependencies: [
            "JPKICA", "JPKIDomain", "OpenSSLKit",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "jpki-sandbox", dependencies: [
            "JPKISandboxCLI",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        .testTarget(name: "OpenSSLKitTests", dependencies: ["OpenSSLKit", "DERKit"]),
        .testTarget(name: "JPKIDomainTests", dependencies: ["JPKIDomain"]),
        .testTarget(name: "JPKISandboxTests", dependencies: [
            "JPKICA", "JPKIDomain", "JPKIStore", "OpenSSLKit", "jpki-sandbox",
        ]),
    ]
)
