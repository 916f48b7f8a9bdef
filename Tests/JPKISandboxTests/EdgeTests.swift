import Foundation
import Testing

/// Issue 8, items 5–7: input edges (dates out of range, argument errors under --json), files that a
/// planted link cannot redirect, and secrets given off the command line.
@Suite(.serialized) struct EdgeTests {
    static let at = "2026-11-22"

    func issue(_ home: TempHome, resident: Int) throws -> (sign: String, auth: String, card: Int) {
        let r = try home.cli(["card", "issue", "--resident", String(resident), "--sign-pin", "ABC123", "--auth-pin", "1234", "--json", "--at", Self.at])
        #expect(r.status == 0, "card issue: \(r.stderr)\(r.stdout)")
        let certs = r.json["certificates"] as? [[String: Any]] ?? []
        let serial = { (kind: String) in certs.first { $0["kind"] as? String == kind }?["serial"] as? String ?? "" }
        return (serial("sign"), serial("auth"), (r.json["card"] as? [String: Any])?["id"] as? Int ?? -1)
    }

    /// Row counts and the audit log's length, besides the full snapshot, to name what changed if anything did.
    func state(_ home: TempHome) throws -> String { try home.snapshot() }

    struct Edge: CustomTestStringConvertible, Sendable {
        let label: String
        /// `RESIDENT` is replaced by a resident's id.
        let args: [String]
        let code: String
        let messageContains: String
        var testDescription: String { label }
    }

    static let edges: [Edge] = [
        .init(label: "card issue --at 9998-12-30 (a card's 10th birthday would pass year 9999)",
              args: ["card", "issue", "--resident", "RESIDENT", "--sign-pin", "ABC123", "--auth-pin", "1234", "--at", "9998-12-30"],
              code: "bad-date", messageContains: "8999-12-31"),
        .init(label: "--at before 1950", args: ["resident", "list", "--at", "1949-12-31"], code: "bad-date", messageContains: "1950-01-01"),
        .init(label: "clock advance 99999999999y", args: ["clock", "advance", "99999999999y"], code: "bad-date", messageContains: "supported range"),
        .init(label: "clock advance by more hours than an Int holds", args: ["clock", "advance", "9000000000000000000h"], code: "bad-date", messageContains: "too long"),
        .init(label: "clock advance P9999999999999Y", args: ["clock", "advance", "P9999999999999Y"], code: "bad-date", messageContains: "supported range"),
        .init(label: "clock set 9999-06-01", args: ["clock", "set", "9999-06-01"], code: "bad-date", messageContains: "8999-12-31"),
        .init(label: "--birth 1800-01-01", args: ["resident", "add", "--name", "山田 太郎", "--birth", "1800-01-01", "--sex", "male", "--address", "埼玉県川越市元町1"],
              code: "bad-date", messageContains: "1900-01-01"),
        .init(label: "--birth +980-12-31", args: ["resident", "add", "--name", "山田 太郎", "--birth", "+980-12-31", "--sex", "male", "--address", "埼玉県川越市元町1"],
              code: "invalid-input", messageContains: "YYYY-MM-DD"),
        .init(label: "resident update --birth 1899-12-31", args: ["resident", "update", "RESIDENT", "--birth", "1899-12-31"], code: "bad-date", messageContains: "1900-01-01"),
        .init(label: "--residence-until 9999-01-01", args: ["resident", "add", "--name", "山田 太郎", "--birth", "1980-12-31", "--sex", "male", "--address", "埼玉県川越市元町1",
                                                        "--residence-until", "9999-01-01"], code: "bad-date", messageContains: "--residence-until"),
        .init(label: "a negative id", args: ["card", "show", "-5"], code: "bad-arguments", messageContains: "\"-5\""),
        .init(label: "a missing option", args: ["resident", "add", "--name", "山田 太郎"], code: "bad-arguments", messageContains: "--birth"),
        .init(label: "an unknown option", args: ["cert", "list", "--colour", "red"], code: "bad-arguments", messageContains: "--colour"),
        .init(label: "a non-numeric id", args: ["card", "show", "abc"], code: "bad-arguments", messageContains: "abc"),
    ]

    @Test("input edges: non-zero exit, the JSON error under --json, a message without it, the database unchanged", arguments: edges)
    func edge(_ edge: Edge) throws {
        let home = TempHome()
        try home.initialize()
        let resident = try home.addResident()
        _ = try issue(home, resident: resident)
        let args = edge.args.map { $0 == "RESIDENT" ? String(resident) : $0 }
        let before = try state(home)

        let json = try home.cli(args + ["--json"])
        #expect(json.status != 0)
        #expect(json.status != 4 && json.status < 128, "no crash (SIGILL is 132): status \(json.status)")
        #expect(json.errorCode == edge.code, "stdout: \(json.stdout) stderr: \(json.stderr)")
        #expect(json.errorMessage.contains(edge.messageContains), "\(json.errorMessage)")
        // Exactly one JSON object on stdout.
        #expect(json.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count == 1, "\(json.stdout)")

        let text = try home.cli(args)
        #expect(text.status != 0 && text.status < 128)
        #expect(text.stderr.contains(edge.messageContains), "\(text.stderr)")
        #expect(try state(home) == before, "the database changed")
    }

    @Test("the clock at the ends of the supported range still computes (no trap at the last day)")
    func rangeEnds() throws {
        let home = TempHome()
        try home.initialize()
        let resident = try home.addResident()
        let last = try home.cli(["clock", "set", "8999-12-31T12:00:00+09:00", "--json"])
        #expect(last.status == 0, "\(last.stderr)\(last.stdout)")
        let show = try home.cli(["clock", "show", "--json"])
        #expect((show.json["date"] as? String) == "8999-12-31", "\(show.stdout)")
        // A day further is refused and leaves the clock where it was.
        let past = try home.cli(["clock", "advance", "1d", "--json"])
        #expect(past.errorCode == "bad-date", "\(past.stdout)")
        #expect((try home.cli(["clock", "show", "--json"]).json["date"] as? String) == "8999-12-31")
        // Everything computed from the last day (a card's 10th birthday, 9009) is still a date: an answer, never a trap.
        let card = try home.cli(["card", "issue", "--resident", String(resident), "--sign-pin", "ABC123", "--auth-pin", "1234", "--json"])
        #expect(card.status < 128, "status \(card.status)")
        #expect(card.status == 0 || card.errorCode != nil, "\(card.stdout)")
        if let serial = (card.json["certificates"] as? [[String: Any]])?.first?["serial"] as? String {
            let show = try home.cli(["cert", "show", serial, "--json"])
            #expect(show.status == 0, "\(show.stderr)")
            #expect((show.json["notAfter"] as? String)?.hasPrefix("90") == true, "\(show.stdout)")
        }
    }

    // MARK: Files (item 5)

    /// The pids the next processes are likely to get, for planting links at the names the old code used.
    func nextPIDs(_ count: Int) -> [Int] {
        let last = (try? String(contentsOfFile: "/proc/sys/kernel/ns_last_pid", encoding: .utf8))
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 1000
        return Array((last + 1)...(last + count))
    }

    func mode(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int) ?? -1
    }

    func isSymlink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
    }

    func leftovers(_ folder: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasPrefix(".jpki-tmp-") }
    }

    @Test("export: links planted at the target and at every predictable temporary name receive nothing; the file is 0600; no temporary file is left")
    func exportIgnoresPlantedLinks() throws {
        let home = TempHome()
        try home.initialize()
        let serial = try issue(home, resident: try home.addResident()).sign
        let folder = home.url.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let victim = home.file("victim")
        FileManager.default.createFile(atPath: victim.path, contents: nil, attributes: [.posixPermissions: 0o666])
        for format in [["--password", "pass123"], ["--pem"]] {
            let out = folder.appendingPathComponent(format == ["--pem"] ? "id.pem" : "id.p12")
            var planted = [out.path, out.path + ".tmp", folder.appendingPathComponent("." + out.lastPathComponent + ".tmp").path]
            planted += nextPIDs(300).flatMap { [out.path + ".tmp-\($0)", folder.appendingPathComponent(".\(out.lastPathComponent).\($0).tmp").path] }
            for path in planted { try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: victim.path) }

            let r = try home.cli(["export", serial, "--out", out.path, "--json"] + format)
            #expect(r.status == 0, "\(r.stderr)\(r.stdout)")
            #expect(try Data(contentsOf: victim).isEmpty, "the planted link's target received the key")
            #expect(!isSymlink(out.path), "the target is a file of its own, not the planted link")
            #expect(mode(out.path) == 0o600)
            #expect(try Data(contentsOf: out).count > 100)
            #expect(leftovers(folder).isEmpty)
            for path in planted.dropFirst() { try? FileManager.default.removeItem(atPath: path) }
        }
    }

    @Test("crl generate: a planted link at the CRL's name is replaced, not followed; leftovers of a killed run are removed")
    func crlFilesAndLeftovers() throws {
        let home = TempHome()
        try home.initialize()
        let folder = home.url.appendingPathComponent("crl")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let victim = home.file("victim")
        FileManager.default.createFile(atPath: victim.path, contents: nil)
        try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("sign.crl").path, withDestinationPath: victim.path)
        // A killed run's leftover (two minutes old) and a running one's (new): only the old one goes.
        let old = folder.appendingPathComponent(".jpki-tmp-0000killedrun"), young = folder.appendingPathComponent(".jpki-tmp-0000stillwriting")
        FileManager.default.createFile(atPath: old.path, contents: Data("half".utf8))
        FileManager.default.createFile(atPath: young.path, contents: Data("half".utf8))
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-120)], ofItemAtPath: old.path)

        let r = try home.cli(["crl", "generate", "--out", folder.path, "--no-partitions", "--json"])
        #expect(r.status == 0, "\(r.stderr)\(r.stdout)")
        #expect(try Data(contentsOf: victim).isEmpty)
        #expect(!isSymlink(folder.appendingPathComponent("sign.crl").path))
        let parsed = try Run.openssl(["crl", "-inform", "DER", "-in", folder.appendingPathComponent("sign.crl").path, "-noout", "-crlnumber"])
        #expect(parsed.status == 0, "\(parsed.stderr)")
        #expect(leftovers(folder) == [young.lastPathComponent])
    }

    // MARK: Secrets off the command line (item 7)

    @Test("PINs from standard input (--pin -) and from the environment (JPKI_PIN…), for every PIN option")
    func pinsOffTheCommandLine() throws {
        let home = TempHome()
        try home.initialize()
        let resident = try home.addResident()
        // Two secrets from stdin, one line each, in the order of the options.
        let card = try home.cli(["card", "issue", "--resident", String(resident), "--sign-pin", "-", "--auth-pin", "-", "--json", "--at", Self.at],
                                env: [:], input: "ABC123\n1234\n")
        #expect(card.status == 0, "\(card.stderr)\(card.stdout)")
        let certs = card.json["certificates"] as? [[String: Any]] ?? []
        let sign = try #require(certs.first { $0["kind"] as? String == "sign" }?["serial"] as? String)
        let auth = try #require(certs.first { $0["kind"] as? String == "auth" }?["serial"] as? String)

        let viaStdin = try home.cli(["pin", "verify", sign, "--pin", "-", "--json"], env: [:], input: "ABC123\n")
        #expect(viaStdin.json["ok"] as? Bool == true, "\(viaStdin.stdout)\(viaStdin.stderr)")
        let viaEnv = try home.cli(["pin", "verify", auth, "--json"], env: ["JPKI_PIN": "1234"])
        #expect(viaEnv.json["ok"] as? Bool == true, "\(viaEnv.stdout)\(viaEnv.stderr)")
        let wrong = try home.cli(["pin", "verify", auth, "--json"], env: ["JPKI_PIN": "9999"])
        #expect(wrong.status != 0 && wrong.errorCode == "wrong-pin", "\(wrong.stdout)")
        // The option wins over the environment.
        let option = try home.cli(["pin", "verify", auth, "--pin", "1234", "--json"], env: ["JPKI_PIN": "9999"])
        #expect(option.json["ok"] as? Bool == true)

        let change = try home.cli(["pin", "change", sign, "--pin", "-", "--new-pin", "-", "--json"], env: [:], input: "ABC123\r\nXYZ789\n")
        #expect(change.json["ok"] as? Bool == true, "\(change.stdout)\(change.stderr)")
        let changeEnv = try home.cli(["pin", "change", sign, "--json"], env: ["JPKI_PIN": "XYZ789", "JPKI_NEW_PIN": "ABC123"])
        #expect(changeEnv.json["ok"] as? Bool == true, "\(changeEnv.stdout)\(changeEnv.stderr)")

        let content = home.file("doc.txt")
        try Data("hello".utf8).write(to: content)
        let signed = try home.cli(["sign", sign, "--in", content.path, "--out", home.file("doc.p7s").path, "--json"], env: ["JPKI_PIN": "ABC123"])
        #expect(signed.status == 0, "\(signed.stderr)\(signed.stdout)")
        let respond = try home.cli(["auth", "respond", auth, "--pin", "-", "--challenge", "0123ABCD", "--json"], env: [:], input: "1234\n")
        #expect(respond.status == 0, "\(respond.stderr)\(respond.stdout)")
        let p12 = try home.cli(["export", sign, "--out", home.file("id.p12").path, "--password", "-", "--json"], env: [:], input: "pass123\n")
        #expect(p12.status == 0, "\(p12.stderr)\(p12.stdout)")
        #expect(try Run.openssl(["pkcs12", "-in", home.file("id.p12").path, "-passin", "pass:pass123", "-nokeys"]).status == 0)

        // Nothing anywhere: a clear error that names every way, and no try spent.
        let before = try home.snapshot()
        let none = try home.cli(["pin", "verify", sign, "--json"], env: [:], input: "")
        #expect(none.status != 0 && none.errorCode == "invalid-input", "\(none.stdout)")
        #expect(none.errorMessage.contains("JPKI_PIN"), "\(none.errorMessage)")
        let empty = try home.cli(["pin", "verify", sign, "--pin", "-", "--json"], env: [:], input: "")
        #expect(empty.status != 0 && empty.errorMessage.contains("standard input"), "\(empty.stdout)")
        #expect(try home.snapshot() == before)
    }
}
