import Foundation
import JPKIDomain
import OpenSSLKit

// The roots and their generations (init, ca export, ca rollover), for the CLI and the API.

/// One root generation.
public struct RootGenerationResource: Codable, Sendable, Equatable {
    public var kind: String
    public var generation: Int
    public var current: Bool
    public var serial: String
    public var subjectKeyIdentifier: String
    public var notBefore: String
    public var notAfter: String
    public var file: String

    public init(_ root: RootCA, current: Bool, file: String) {
        kind = root.kind.rawValue
        generation = root.generation
        self.current = current
        serial = root.certificate.serialHex
        subjectKeyIdentifier = root.keyIdentifier.hexString
        notBefore = ISOTime.display(root.certificate.notBefore)
        notAfter = ISOTime.display(root.certificate.notAfter)
        self.file = file
    }
}

/// A link certificate between two generations (`ca rollover --link`).
public struct RootLinkResource: Codable, Sendable, Equatable {
    public var kind: String
    public var subjectGeneration: Int
    public var issuerGeneration: Int
    public var serial: String
    public var file: String
    public init(kind: String, subjectGeneration: Int, issuerGeneration: Int, serial: String, file: String) {
        self.kind = kind; self.subjectGeneration = subjectGeneration; self.issuerGeneration = issuerGeneration
        self.serial = serial; self.file = file
    }
}

/// `ca export`: the current roots (`roots.sign`, `roots.auth`), every generation, the bundle, the links.
public struct RootsExportResource: Codable, Sendable, Equatable {
    public var roots: [String: String]
    public var generations: [RootGenerationResource]
    public var bundle: String
    public var links: [RootLinkResource]
    public init(roots: [String: String], generations: [RootGenerationResource], bundle: String, links: [RootLinkResource]) {
        self.roots = roots; self.generations = generations; self.bundle = bundle; self.links = links
    }
}

/// `ca rollover`: each new root.
public struct RolloverResource: Codable, Sendable, Equatable {
    public struct Link: Codable, Sendable, Equatable { public var serial: String; public var file: String }
    public struct Links: Codable, Sendable, Equatable { public var newWithOld: Link; public var oldWithNew: Link }
    public struct Root: Codable, Sendable, Equatable {
        public var kind: String
        public var generation: Int
        public var previousGeneration: Int
        public var subject: String
        public var serial: String
        public var subjectKeyIdentifier: String
        public var notBefore: String
        public var notAfter: String
        public var file: String
        public var links: Links?
    }
    public var roots: [Root]

    public init(_ made: [RootRollover]) {
        roots = made.map { r in
            var links: Links?
            if let nwo = r.newWithOld, let own = r.oldWithNew, r.linkFiles.count == 2 {
                links = Links(newWithOld: Link(serial: nwo.serialHex, file: r.linkFiles[0].path),
                              oldWithNew: Link(serial: own.serialHex, file: r.linkFiles[1].path))
            }
            return Root(kind: r.kind.rawValue, generation: r.generation, previousGeneration: r.previousGeneration,
                        subject: r.certificate.subjectText, serial: r.certificate.serialHex,
                        subjectKeyIdentifier: (r.certificate.subjectKeyIdentifier ?? []).hexString,
                        notBefore: ISOTime.display(r.certificate.notBefore), notAfter: ISOTime.display(r.certificate.notAfter),
                        file: r.file.path, links: links)
        }
    }
}
