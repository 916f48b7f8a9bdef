import Foundation
import XMLSigKit
import ZipKit

/// An e-Gov application package (申請データ): `kousei.xml` (構成管理XML) and the application files
/// beside it, which the signature references by bare file name.
public struct EGovPackage: Sendable {
    public static let manifestName = "kousei.xml"
    /// kousei.xml's bytes.
    public var manifest: [UInt8]
    /// The other files of the folder, by name (hidden files and subfolders are not part of it).
    public var files: [String: [UInt8]]

    public init(manifest: [UInt8], files: [String: [UInt8]]) { self.manifest = manifest; self.files = files }

    /// Reads a package folder, or the folder of a manifest file given by path (kousei.xml, or a
    /// copy under another name: the files beside it are the package's).
    public init(folder: URL) throws {
        var isDirectory: ObjCBool = false
        var folder = folder, manifestName = Self.manifestName
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory) else {
            throw SandboxError("not-found", "no such file or folder: \(folder.path)")
        }
        if !isDirectory.boolValue, let handle = FileHandle(forReadingAtPath: folder.path),
           [UInt8]((try? handle.read(upToCount: 4)) ?? Data()) == [0x50, 0x4B, 0x03, 0x04] {
            try? handle.close()
            try self.init(zip: [UInt8](try Data(contentsOf: folder)), name: folder.lastPathComponent)
            return
        }
        if !isDirectory.boolValue {
            manifestName = folder.lastPathComponent
            folder = folder.deletingLastPathComponent()
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        guard let manifest = FileManager.default.contents(atPath: folder.appendingPathComponent(manifestName).path) else {
            throw SandboxError("not-egov", "\(folder.path) is not an e-Gov package: it has no \(Self.manifestName)")
        }
        var files: [String: [UInt8]] = [:]
        for name in names where name != manifestName && !name.hasPrefix(".") {
            var dir: ObjCBool = false
            let path = folder.appendingPathComponent(name).path
            if FileManager.default.fileExists(atPath: path, isDirectory: &dir), !dir.boolValue, let data = FileManager.default.contents(atPath: path) {
                files[name] = [UInt8](data)
            }
        }
        self.init(manifest: [UInt8](manifest), files: files)
    }

    /// Reads a zipped package: kousei.xml and the files beside it, at the top of the archive or in
    /// its one top-level folder.
    public init(zip bytes: [UInt8], name: String) throws {
        let entries: [String: [UInt8]]
        do { entries = try ZipArchive.read(bytes) } catch { throw SandboxError("damaged-package", "\(name): \(error.description)") }
        var prefix = ""
        if entries[Self.manifestName] == nil,
           let nested = entries.keys.first(where: { $0.hasSuffix("/" + Self.manifestName) && $0.split(separator: "/").count == 2 }) {
            prefix = String(nested.dropLast(Self.manifestName.count))
        }
        guard let manifest = entries[prefix + Self.manifestName] else {
            throw SandboxError("not-egov", "\(name) is not an e-Gov package: the zip has no \(Self.manifestName)")
        }
        var files: [String: [UInt8]] = [:]
        for (path, data) in entries where path.hasPrefix(prefix) {
            let rest = String(path.dropFirst(prefix.count))
            if rest != Self.manifestName && !rest.contains("/") && !rest.hasPrefix(".") { files[rest] = data }
        }
        self.init(manifest: manifest, files: files)
    }

    /// Writes the package into `folder` (created if needed): kousei.xml and every file; a path ending
    /// in `.zip` gets a zip archive instead (stored entries at its top level).
    public func write(to folder: URL) throws {
        if folder.pathExtension.lowercased() == "zip" {
            var entries = files
            entries[Self.manifestName] = manifest
            try Data(ZipArchive.write(entries)).write(to: folder)
            return
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(manifest).write(to: folder.appendingPathComponent(Self.manifestName))
        for (name, bytes) in files { try Data(bytes).write(to: folder.appendingPathComponent(name)) }
    }
}

/// The e-Gov shape (SmartHR kiji, egov-shinsei-sdk): in `<DataRoot>`, `<構成情報 ID="構成情報">`, then
/// `<署名情報>` holding one `<Signature xmlns="…xmldsig#" Id="yyyyMMddHHmmss">` per signer (連署: more
/// of them), internal detached. SignedInfo C14N 1.0, rsa-sha256; Reference 1 `#%E6%A7%8B%E6%88%90%E6%83%85%E5%A0%B1`
/// with a C14N transform; then one Reference per application file by bare name, no transforms (a
/// digest over the raw bytes); KeyInfo the signer's certificate.
///
/// libxmlsec1 looks a fragment up literally, so `構成情報`'s `ID` attribute is registered a second
/// time under its percent-encoded spelling (`XMLTree.registerID(alias:)`); files resolve through an
/// in-memory I/O table of the package (XMLSigKit), never the working directory.
enum EGovShape {
    static let partName = "構成情報"
    static let signatureHolder = "署名情報"
    static let encodedFragment = "%E6%A7%8B%E6%88%90%E6%83%85%E5%A0%B1"

    static func parse(_ package: EGovPackage) throws -> XMLTree {
        let tree: XMLTree
        do { tree = try XMLTree(bytes: package.manifest) } catch { throw SandboxError("not-xml", "kousei.xml is not XML: \(error.message)") }
        _ = try part(tree)
        return tree
    }

    static func part(_ tree: XMLTree) throws -> XMLElement {
        guard let root = tree.root, root.localName == "DataRoot" else {
            throw SandboxError("not-egov", "kousei.xml's root element must be <DataRoot> (found <\(tree.root?.localName ?? "?")>)")
        }
        guard let part = root.child(partName), part.attribute("ID") == partName else {
            throw SandboxError("not-egov", "kousei.xml has no <構成情報 ID=\"構成情報\"> under <DataRoot>")
        }
        do { try tree.registerID(part, attribute: "ID", alias: encodedFragment) } catch {
            throw SandboxError("invalid-egov", error.message)
        }
        return part
    }

    static func signatures(_ tree: XMLTree) -> [XMLElement] {
        tree.root?.child(signatureHolder)?.children.filter { $0.localName == "Signature" && $0.namespaceURI == XMLSignature.namespace } ?? []
    }

    static func checkCanSign(_ tree: XMLTree, cosign: Bool) throws {
        let existing = signatures(tree).count
        if existing > 0 && !cosign {
            throw SandboxError.invalid("kousei.xml is already signed (\(existing) signature\(existing == 1 ? "" : "s")); add a further signer (連署) with --cosign")
        }
        if existing == 0 && cosign {
            throw SandboxError.invalid("--cosign adds a signature beside existing ones, but kousei.xml has none yet; sign without --cosign first")
        }
    }

    static func sign(_ tree: XMLTree, package: EGovPackage, key: XMLSignature.SigningKey, signingTime: Date, unescapedFragment: Bool) throws -> EGovPackage {
        let part = try part(tree)
        let holder = tree.root!.child(signatureHolder) ?? part.insertSiblingAfter(signatureHolder)
        // Id: yyyyMMddHHmmss in Japan time, as the e-Gov clients write it; a later second when taken.
        let taken = Set(signatures(tree).compactMap { $0.attribute("Id") })
        var time = signingTime, id = ""
        repeat { id = Self.idFormatter.string(from: time); time += 1 } while taken.contains(id)
        let fragment = "#" + (unescapedFragment ? partName : encodedFragment)
        let references = [XMLSignature.Reference(uri: fragment, transforms: [.c14n10])] + package.files.keys.sorted().map { XMLSignature.Reference(uri: $0) }
        do {
            try XMLSignature.sign(tree, template: .init(id: id, references: references), at: .appendTo(holder), key: key, files: package.files)
        } catch { throw SandboxError("sign-failed", error.message) }
        var signed = package
        signed.manifest = tree.serialized()
        return signed
    }

    static let idFormatter: DateFormatter = {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "Asia/Tokyo")
        f.dateFormat = "yyyyMMddHHmmss"
        return f
    }()
}
