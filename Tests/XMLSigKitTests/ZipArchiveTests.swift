import Foundation
import Testing
import ZipKit

/// ZipKit alone: our stored archives read back, a deflated archive written by /usr/bin/zip, bad input.
struct ZipArchiveTests {
    @Test("stored entries round-trip, with UTF-8 names")
    func roundTrip() throws {
        let files: [String: [UInt8]] = ["kousei.xml": Array("<DataRoot/>".utf8), "添付書類.pdf": [0, 1, 2, 255], "empty": []]
        #expect(try ZipArchive.read(ZipArchive.write(files)) == files)
    }

    @Test("a deflated archive made by /usr/bin/zip reads back byte for byte")
    func deflated() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/zip") else {
            #expect(ProcessInfo.processInfo.environment["JPKI_REQUIRE_INTEROP"] != "1", "zip is missing")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("pkg"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = Array(String(repeating: "申請書 application form\n", count: 2000).utf8)
        try Data(text).write(to: dir.appendingPathComponent("pkg/form.xml"))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/zip")
        p.arguments = ["-q", "-r", "-9", "../p.zip", "."]
        p.currentDirectoryURL = dir.appendingPathComponent("pkg")
        try p.run(); p.waitUntilExit()
        let bytes = [UInt8](try Data(contentsOf: dir.appendingPathComponent("p.zip")))
        #expect(bytes.count < text.count / 10)  // it really is deflated
        #expect(try ZipArchive.read(bytes)["form.xml"] == text)
    }

    @Test("not a zip, a truncated zip and a damaged entry are errors, not crashes")
    func badInput() throws {
        #expect(throws: ZipArchive.Error.self) { try ZipArchive.read(Array("not a zip at all, not even close".utf8)) }
        let good = ZipArchive.write(["a.txt": Array(repeating: 65, count: 100)])
        #expect(throws: ZipArchive.Error.self) { try ZipArchive.read(Array(good.prefix(good.count - 10))) }
        var damaged = good
        damaged[0] = 0  // the local header's signature
        #expect(throws: ZipArchive.Error.self) { try ZipArchive.read(damaged) }
    }
}
