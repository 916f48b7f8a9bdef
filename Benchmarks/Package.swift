// swift-tools-version:6.1
// Benchmarks for JPKI Sandbox, kept out of the main package so that its dependencies and release
// builds never touch `swift test`. Run through `scripts/bench-issue`.
import PackageDescription

let package = Package(
    name: "jpki-sandbox-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "jpki-sandbox", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "bench-issue",
            dependencies: [
                .product(name: "JPKICA", package: "jpki-sandbox"),
                .product(name: "OpenSSLKit", package: "jpki-sandbox"),
            ]
        ),
    ]
)
