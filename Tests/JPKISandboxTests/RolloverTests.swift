import DERKit
import Foundation
import OpenSSLKit
import Testing

/// Issue 11, item 2: root generations (`ca rollover`), as J-LIS made them in 2019 and 2023: a new key
/// and self-signed root under a byte-identical subject. Checked with openssl (verify, crl, ocsp) and
/// pyhanko-certvalidator, clients we did not write.
@Suite(.serialized) struct RolloverTests {
    /// The days of the three generations (each rollover a year after the one before), and of the
    /// certificates issued under each.
    static let generationDays = ["2024-02-01", "2025-02-01", "2026-02-01"]

    struct Fixture {
        let home: TempHome
        let port: Int
        /// generation (1…3) → kind → serial of the leaf issued under it.
        let leaves: [Int: [String: String]]
        var url: String { "http://127.0.0.1:\(port)" }
        func rootFile(_ kind: String, _ generation: Int) -> URL {
            home.sandbox.appendingPathComponent(generation == 1 ? "\(kind)-root.pem" : "\(kind)-root-g\(generation).pem")
        }
    }

    /// A sandbox made in 2024 and rolled over in 2025 and 2026 (`--kind both`), with one card issued
    /// under each generation (all in Kawagoe, 11201: the partitions of every generation share the code).
    func threeGenerations(link: Bool = false) throws -> Fixture {
        let home = TempHome()
        let port = ServerProcess.freePort()
        let r = try Run.cli(["init", "--config", try home.config(port: port).path, "--at", "\(Self.generationDays[0])T10:00:00+09:00", "--json"],
                            home: home.sandbox)
        #expect(r.status == 0, "init: \(r.stderr)\(r.stdout)")
        var leaves: [Int: [String: String]] = [:]
        let names = ["山田 太郎", "鈴木 一郎", "佐藤 花子"], births = ["1980-12-31", "1979-04-01", "1990-06-15"]
        for (index, day) in Self.generationDays.enumerated() {
            let generation = index + 1
            if generation > 1 {
                let roll = try home.cli(["ca", "rollover", "--kind", "both", "--json", "--at", "\(day)T10:00:00+09:00"] + (link ? ["--link"] : []))
                #expect(roll.status == 0, "rollover: \(roll.stderr)\(roll.stdout)")
                let made = roll.json["roots"] as? [[String: Any]] ?? []
                #expect(made.map { $0["generation"] as? Int } == [generation, generation], "\(roll.stdout)")
            }
            let id = try home.addResident(name: names[index], birth: births[index], address: "埼玉県川越市元町1丁目3番地\(index + 1)", at: day)
            let issued = try home.cli(["card", "issue", "--resident", String(id), "--sign-pin", "ABC123", "--auth-pin", "1234", "--json",
                                       "--at", "\(day)T11:00:00+09:00"])
            #expect(issued.status == 0, "card issue: \(issued.stderr)\(issued.stdout)")
            for c in issued.json["certificates"] as? [[String: Any]] ?? [] {
                leaves[generation, default: [:]][c["kind"] as! String] = (c["serial"] as! String)
            }
        }
        return Fixture(home: home, port: port, leaves: leaves)
    }

    static func certificate(_ url: URL) throws -> Certificate { try Certificate(pem: String(contentsOf: url, encoding: .utf8)) }

    /// The CRL at a URL, as PEM in a file (for `openssl verify -CRLfile`), and its DER.
    func fetchCRL(_ url: String, _ f: Fixture, name: String) throws -> (pem: URL, der: URL) {
        let reply = try HTTP.request(url, folder: f.home.url)
        #expect(reply.status == 200, "\(url): \(reply.status) \(reply.transportError)")
        let der = f.home.file("\(name).crl"), pem = f.home.file("\(name).crl.pem")
        try reply.body.write(to: der)
        let conv = try Run.openssl(["crl", "-inform", "DER", "-in", der.path, "-outform", "PEM", "-out", pem.path])
        #expect(conv.status == 0, "\(url): \(conv.stderr)")
        return (pem, der)
    }

    /// `openssl crl -text` of a DER CRL.
    func crlText(_ der: URL) throws -> String {
        try Run.openssl(["crl", "-inform", "DER", "-in", der.path, "-noout", "-text"]).stdout
    }

    static func colonHex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02X", $0) }.joined(separator: ":") }

    @Test("after two rollovers: openssl verify with the bundle in both orders, -crl_check with every generation's CRLs, OCSP signed per generation, certvalidator by URL")
    func threeValidGenerations() throws {
        let f = try threeGenerations()
        let home = f.home
        // The subject is byte-identical across generations; the keys differ; each leaf names its generation's key.
        for kind in ["sign", "auth"] {
            let roots = try (1...3).map { try Self.certificate(f.rootFile(kind, $0)) }
            #expect(Set(roots.map(\.subjectDER)).count == 1, "\(kind): one subject for all generations")
            #expect(Set(roots.map { $0.subjectKeyIdentifier ?? [] }).count == 3, "\(kind): three keys")
            for (index, root) in roots.enumerated() {
                #expect(root.isSigned(by: root), "self-signed")
                let leaf = try Certificate(pem: String(contentsOf: try home.certificateFile(f.leaves[index + 1]![kind]!), encoding: .utf8))
                #expect(leaf.isSigned(by: root), "\(kind) generation \(index + 1) leaf signed by its generation")
                let aki = leaf.extensions.first { $0.oid == "2.5.29.35" }?.value ?? []
                #expect(aki.suffix(20).elementsEqual(root.subjectKeyIdentifier ?? []), "AKI = the generation's SKI")
                let show = try home.cli(["cert", "show", f.leaves[index + 1]![kind]!, "--json"])
                #expect(show.json["rootGeneration"] as? Int == index + 1)
            }
            // Each later generation keeps the J-LIS structure: compared with the real root of that generation.
            let real = try Self.certificate(RootFidelityTests.realRoots.appendingPathComponent(kind == "sign" ? "sign-g3-2023.pem" : "auth-g3-2023.pem"))
            for root in roots.dropFirst() {
                #expect(try RootFidelityTests.differences(ours: root, real: real) == [], "\(kind) rolled-over root against J-LIS")
            }
        }

        // Revoked after the rollovers: generation 1's and generation 3's signing certificates.
        for serial in [f.leaves[1]!["sign"]!, f.leaves[3]!["sign"]!] {
            let revoke = try home.cli(["cert", "revoke", serial, "--reason", "keyCompromise", "--json"])
            #expect(revoke.status == 0, "\(revoke.stderr)\(revoke.stdout)")
        }

        let export = try home.cli(["ca", "export", "--out", home.file("export").path, "--json"])
        #expect(export.status == 0, "\(export.stderr)")
        #expect((export.json["generations"] as? [[String: Any]])?.count == 6, "\(export.stdout)")
        let bundle = URL(fileURLWithPath: export.json["bundle"] as? String ?? "")
        // The same roots, newest first.
        let reversed = home.file("bundle-reversed.pem")
        let export_ = home.url.appendingPathComponent("export")
        var reversedText = ""
        for kind in ["sign", "auth"] {
            for g in [3, 2, 1] { reversedText += try String(contentsOf: export_.appendingPathComponent("\(kind)-root-g\(g).pem"), encoding: .utf8) }
        }
        try reversedText.write(to: reversed, atomically: true, encoding: .utf8)
        #expect(try String(contentsOf: export_.appendingPathComponent("sign-root.pem"), encoding: .utf8)
                == String(contentsOf: f.rootFile("sign", 3), encoding: .utf8), "sign-root.pem is the current generation")

        let server = try ServerProcess(home: home.sandbox, port: f.port, folder: home.url)
        defer { server.stop() }

        // CRLs per generation: their own number, AKI, URL; sign.crl is the current generation's.
        var crls: [String: (pem: URL, der: URL)] = [:]
        for kind in ["sign", "auth"] {
            for g in 1...3 { crls["\(kind)-g\(g)"] = try fetchCRL("\(f.url)/crl/\(kind)-g\(g).crl", f, name: "\(kind)-g\(g)") }
            crls[kind] = try fetchCRL("\(f.url)/crl/\(kind).crl", f, name: kind)
            #expect(try Data(contentsOf: crls[kind]!.der) == Data(contentsOf: crls["\(kind)-g3"]!.der), "\(kind).crl is generation 3's")
            for g in 1...3 {
                let der = crls["\(kind)-g\(g)"]!.der
                let check = try Run.openssl(["crl", "-inform", "DER", "-in", der.path, "-noout", "-CAfile", f.rootFile(kind, g).path])
                #expect((check.stdout + check.stderr).contains("verify OK"), "\(kind) g\(g) CRL signed by its generation: \(check.stderr)")
                let other = try Run.openssl(["crl", "-inform", "DER", "-in", der.path, "-noout", "-CAfile", f.rootFile(kind, g == 1 ? 2 : 1).path])
                #expect(!(other.stdout + other.stderr).contains("verify OK"), "not by another generation")
                let text = try crlText(der)
                let ski = try Self.certificate(f.rootFile(kind, g)).subjectKeyIdentifier ?? []
                #expect(text.contains(Self.colonHex(ski)), "\(kind) g\(g): AKI is the generation's SKI\n\(text)")
                // Each generation counts its own cRLNumbers: the first full CRL of each is number 1.
                let lines = text.components(separatedBy: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                let number = lines.firstIndex(of: "X509v3 CRL Number:").map { lines[$0 + 1] }
                #expect(number == "1", "\(kind) g\(g): cRLNumber \(number ?? "none")")
            }
            // Revocation lists: only their own generation's.
            let g1 = try crlText(crls["\(kind)-g1"]!.der), g2 = try crlText(crls["\(kind)-g2"]!.der), g3 = try crlText(crls["\(kind)-g3"]!.der)
            if kind == "sign" {
                #expect(g1.contains("Serial Number: \(f.leaves[1]!["sign"]!)"))
                #expect(!g2.contains(f.leaves[1]!["sign"]!) && !g3.contains(f.leaves[1]!["sign"]!), "a generation-1 revocation is on generation 1's CRL only")
                #expect(g3.contains("Serial Number: \(f.leaves[3]!["sign"]!)") && !g1.contains(f.leaves[3]!["sign"]!))
                #expect(g2.contains("No Revoked Certificates"), "\(g2)")
            }
        }
        // The CRL that each leaf names (its partition) is its generation's.
        for g in 1...3 {
            let leaf = try home.certificateFile(f.leaves[g]!["sign"]!)
            let text = try Run.openssl(["x509", "-in", leaf.path, "-noout", "-ext", "crlDistributionPoints"]).stdout
            let expected = "\(f.url)/crl/\(g == 1 ? "sign" : "sign-g\(g)")/11201.crl"
            #expect(text.contains("URI:\(expected)"), "generation \(g) leaf names \(expected): \(text)")
            let part = try fetchCRL(expected, f, name: "part-g\(g)")
            let check = try Run.openssl(["crl", "-inform", "DER", "-in", part.der.path, "-noout", "-CAfile", f.rootFile("sign", g).path])
            #expect((check.stdout + check.stderr).contains("verify OK"), "partition of generation \(g)")
            #expect(try crlText(part.der).contains(f.leaves[g]!["sign"]!) == (g != 2), "partition g\(g) lists its revoked leaf only")
        }

        // openssl verify: the bundle in both orders accepts every generation's leaves.
        let crlsForward = home.file("crls-forward.pem"), crlsBackward = home.file("crls-backward.pem")
        let orderForward = ["sign-g1", "sign-g2", "sign-g3", "auth-g1", "auth-g2", "auth-g3"]
        try orderForward.map { try String(contentsOf: crls[$0]!.pem, encoding: .utf8) }.joined().write(to: crlsForward, atomically: true, encoding: .utf8)
        try orderForward.reversed().map { try String(contentsOf: crls[$0]!.pem, encoding: .utf8) }.joined().write(to: crlsBackward, atomically: true, encoding: .utf8)
        for g in 1...3 {
            for kind in ["sign", "auth"] {
                let serial = f.leaves[g]![kind]!
                let leaf = try home.certificateFile(serial)
                let revoked = kind == "sign" && g != 2
                for trust in [bundle, reversed] {
                    let plain = try Run.openssl(["verify", "-CAfile", trust.path, leaf.path])
                    #expect(plain.status == 0 && plain.stdout.contains(": OK"), "g\(g) \(kind) with \(trust.lastPathComponent): \(plain.stdout)\(plain.stderr)")
                    for crlFile in [crlsForward, crlsBackward] {
                        let checked = try Run.openssl(["verify", "-crl_check", "-CAfile", trust.path, "-CRLfile", crlFile.path, leaf.path])
                        let out = checked.stdout + checked.stderr
                        if revoked {
                            #expect(checked.status != 0 && out.contains("certificate revoked"), "g\(g) \(kind) revoked (\(trust.lastPathComponent), \(crlFile.lastPathComponent)): \(out)")
                        } else {
                            #expect(checked.status == 0 && out.contains(": OK"), "g\(g) \(kind) good (\(trust.lastPathComponent), \(crlFile.lastPathComponent)): \(out)")
                        }
                    }
                }
            }
        }

        // OCSP: each generation answers for its own leaves, signed by its own key (ResponderID byKey).
        for (g, expected) in [(1, "revoked"), (2, "good"), (3, "revoked")] {
            let leaf = try home.certificateFile(f.leaves[g]!["sign"]!)
            let root = f.rootFile("sign", g)
            let response = home.file("ocsp-g\(g).der")
            let r = try Run.openssl(["ocsp", "-issuer", root.path, "-cert", leaf.path, "-url", "\(f.url)/ocsp", "-CAfile", root.path, "-resp_text",
                                     "-respout", response.path])
            let out = r.stdout + r.stderr
            #expect(out.contains("Response verify OK") && out.contains("\(leaf.path): \(expected)"), "generation \(g): \(out)")
            let ski = try Self.certificate(root).subjectKeyIdentifier ?? []
            #expect(out.contains("Responder Id: \(ski.map { String(format: "%02X", $0) }.joined())"), "signed by generation \(g)'s key: \(out)")
            // Another generation's key does not verify it.
            let wrong = f.rootFile("sign", g == 3 ? 1 : 3)
            let w = try Run.openssl(["ocsp", "-respin", response.path, "-issuer", wrong.path, "-cert", leaf.path, "-CAfile", wrong.path, "-VAfile", wrong.path])
            #expect(!(w.stdout + w.stderr).contains("Response verify OK"), "generation \(g)'s answer is not generation \(g == 3 ? 1 : 3)'s: \(w.stdout)\(w.stderr)")
            // The CertID of another generation (same name hash, other key hash) does not find the leaf.
            let other = f.rootFile("sign", g == 1 ? 2 : 1)
            let o = try Run.openssl(["ocsp", "-issuer", other.path, "-cert", leaf.path, "-url", "\(f.url)/ocsp", "-CAfile", other.path])
            #expect((o.stdout + o.stderr).contains("\(leaf.path): unknown"), "asked of generation \(g == 1 ? 2 : 1): \(o.stdout)\(o.stderr)")
        }

        // pyhanko-certvalidator, trusting every generation, fetching the CRLs (and OCSP) from the leaves' URLs.
        if Run.venvPython == nil, !Run.interopRequired { return }
        for g in 1...3 {
            let leaf = try home.certificateFile(f.leaves[g]!["sign"]!)
            for policy in ["crl", "ocsp"] {
                let r = try Run.interop("certvalidator_check.py", ["--cert", leaf.path, "--root", bundle.path, "--policy", policy,
                                                                   "--usage", "digital_signature", "non_repudiation"])
                let revoked = g != 2
                #expect(r.json["valid"] as? Bool == !revoked && r.json["revoked"] as? Bool == revoked,
                        "certvalidator \(policy) generation \(g): \(r.stdout)\(r.stderr)")
            }
            let auth = try home.certificateFile(f.leaves[g]!["auth"]!)
            let a = try Run.interop("certvalidator_check.py", ["--cert", auth.path, "--root", reversed.path, "--policy", "crl"])
            #expect(a.json["valid"] as? Bool == true, "certvalidator auth generation \(g): \(a.stdout)\(a.stderr)")
        }
    }

    @Test("--link: a new leaf verifies against the old root plus NewWithOld; an old leaf against the new root plus OldWithNew")
    func linkCertificates() throws {
        let home = TempHome()
        try home.initialize(at: "2024-02-01T10:00:00+09:00")
        let old = try home.addResident(at: "2024-02-01")
        let oldCard = try home.cli(["card", "issue", "--resident", String(old), "--sign-pin", "ABC123", "--auth-pin", "1234", "--json", "--at", "2024-02-01T11:00:00+09:00"])
        #expect(oldCard.status == 0)
        let roll = try home.cli(["ca", "rollover", "--kind", "sign", "--link", "--json", "--at", "2025-02-01T10:00:00+09:00"])
        #expect(roll.status == 0, "\(roll.stderr)\(roll.stdout)")
        let links = (roll.json["roots"] as? [[String: Any]])?.first?["links"] as? [String: [String: Any]] ?? [:]
        let newWithOld = URL(fileURLWithPath: links["newWithOld"]?["file"] as? String ?? "")
        let oldWithNew = URL(fileURLWithPath: links["oldWithNew"]?["file"] as? String ?? "")
        let fresh = try home.addResident(name: "鈴木 一郎", at: "2025-02-01")
        let newCard = try home.cli(["card", "issue", "--resident", String(fresh), "--sign-pin", "ABC123", "--auth-pin", "1234", "--json", "--at", "2025-02-01T11:00:00+09:00"])
        #expect(newCard.status == 0)
        func serial(_ r: Run.Result, _ kind: String) -> String {
            (r.json["certificates"] as? [[String: Any]] ?? []).first { $0["kind"] as? String == kind }?["serial"] as? String ?? ""
        }
        let newLeaf = try home.certificateFile(serial(newCard, "sign"))
        let oldLeaf = try home.certificateFile(serial(oldCard, "sign"))
        let g1 = home.root("sign"), g2 = home.sandbox.appendingPathComponent("sign-root-g2.pem")

        let linked = try Run.openssl(["verify", "-CAfile", g1.path, "-untrusted", newWithOld.path, newLeaf.path])
        #expect(linked.status == 0 && linked.stdout.contains(": OK"), "new leaf via NewWithOld: \(linked.stdout)\(linked.stderr)")
        let unlinked = try Run.openssl(["verify", "-CAfile", g1.path, newLeaf.path])
        #expect(unlinked.status != 0, "without the link certificate the old root alone does not accept the new leaf")
        let back = try Run.openssl(["verify", "-CAfile", g2.path, "-untrusted", oldWithNew.path, oldLeaf.path])
        #expect(back.status == 0 && back.stdout.contains(": OK"), "old leaf via OldWithNew: \(back.stdout)\(back.stderr)")
        // The link certificates: same subject and issuer name, the keys crossed.
        let nwo = try Self.certificate(newWithOld), own = try Self.certificate(oldWithNew)
        let r1 = try Self.certificate(g1), r2 = try Self.certificate(g2)
        let (nwoKey, ownKey, r1Key, r2Key) = (try nwo.publicKeyDER(), try own.publicKeyDER(), try r1.publicKeyDER(), try r2.publicKeyDER())
        #expect(nwo.subjectDER == r1.subjectDER && nwo.isSigned(by: r1) && nwoKey == r2Key)
        #expect(own.isSigned(by: r2) && ownKey == r1Key)
        // The sandbox's own relying party trusts every generation: a signature of the old leaf after the rollover is valid.
        let content = home.file("content.txt")
        try "契約書".write(to: content, atomically: true, encoding: .utf8)
        let sig = home.file("content.p7s")
        let signed = try home.cli(["sign", serial(oldCard, "sign"), "--pin", "ABC123", "--in", content.path, "--out", sig.path, "--json",
                                   "--at", "2025-02-02T10:00:00+09:00"])
        #expect(signed.status == 0, "\(signed.stdout)")
        let verified = try home.cli(["verify", "--in", content.path, "--signature", sig.path, "--json", "--at", "2025-02-02T11:00:00+09:00"])
        #expect(verified.status == 0 && verified.json["status"] as? String == "valid", "\(verified.stdout)")
        // ca export writes them too.
        let export = try home.cli(["ca", "export", "--out", home.file("export").path, "--json"])
        #expect((export.json["links"] as? [[String: Any]])?.count == 2, "\(export.stdout)")
        // pkilint (RFC 5280) on the new root and both link certificates, the links also chained to their issuer.
        if Run.venvPython != nil || Run.interopRequired {
            for (file, issuer) in [(g2, nil), (newWithOld, g1), (oldWithNew, g2)] as [(URL, URL?)] {
                var args = ["--kind", issuer == nil ? "root" : "leaf", file.path]
                if let issuer { args += ["--issuer", issuer.path] }
                let lint = try Run.interop("pkilint_check.py", args)
                #expect(lint.status == 0 && (lint.json["blocking"] as? [Any])?.isEmpty == true, "pkilint \(file.lastPathComponent): \(lint.stdout)\(lint.stderr)")
            }
        }
        // Without --link there are none (J-LIS publishes none for JPKI).
        let plain = try home.cli(["ca", "rollover", "--kind", "auth", "--json", "--at", "2025-03-01T10:00:00+09:00"])
        #expect((plain.json["roots"] as? [[String: Any]])?.first?["links"] == nil)
        #expect(!FileManager.default.fileExists(atPath: home.sandbox.appendingPathComponent("auth-root-g2-by-g1.pem").path))
    }

    @Test("delegated OCSP responders: one per generation, issued by it; each generation's answers chain to it only")
    func delegatedPerGeneration() throws {
        let home = TempHome()
        let port = ServerProcess.freePort()
        let r = try Run.cli(["init", "--config", try home.config(port: port, responder: "delegated").path, "--at", "2024-02-01T10:00:00+09:00", "--json"],
                            home: home.sandbox)
        #expect(r.status == 0, "init: \(r.stderr)\(r.stdout)")
        func signLeaf(_ day: String, _ name: String) throws -> URL {
            let id = try home.addResident(name: name, at: day)
            let card = try home.cli(["card", "issue", "--resident", String(id), "--sign-pin", "ABC123", "--auth-pin", "1234", "--json", "--at", "\(day)T11:00:00+09:00"])
            let serial = (card.json["certificates"] as? [[String: Any]] ?? []).first { $0["kind"] as? String == "sign" }?["serial"] as? String ?? ""
            return try home.certificateFile(serial)
        }
        let old = try signLeaf("2024-02-01", "山田 太郎")
        #expect(try home.cli(["ca", "rollover", "--kind", "sign", "--json", "--at", "2025-02-01T10:00:00+09:00"]).status == 0)
        let new = try signLeaf("2025-02-01", "鈴木 一郎")
        let server = try ServerProcess(home: home.sandbox, port: port, folder: home.url)
        defer { server.stop() }
        let g1 = home.root("sign"), g2 = home.sandbox.appendingPathComponent("sign-root-g2.pem")
        for (leaf, root, other) in [(old, g1, g2), (new, g2, g1)] {
            let ok = try Run.openssl(["ocsp", "-issuer", root.path, "-cert", leaf.path, "-url", "\(server.url)/ocsp", "-CAfile", root.path])
            #expect((ok.stdout + ok.stderr).contains("Response verify OK") && ok.stdout.contains("\(leaf.path): good"), "\(ok.stdout)\(ok.stderr)")
            let wrong = try Run.openssl(["ocsp", "-issuer", root.path, "-cert", leaf.path, "-url", "\(server.url)/ocsp", "-CAfile", other.path])
            #expect(!(wrong.stdout + wrong.stderr).contains("Response verify OK"), "the responder chains to its own generation only: \(wrong.stdout)\(wrong.stderr)")
        }
        let r1 = try Self.certificate(home.sandbox.appendingPathComponent("sign-ocsp.pem"))
        let r2 = try Self.certificate(home.sandbox.appendingPathComponent("sign-g2-ocsp.pem"))
        let (c1, c2) = (try Self.certificate(g1), try Self.certificate(g2))
        #expect(r1.isSigned(by: c1) && !r1.isSigned(by: c2))
        #expect(r2.isSigned(by: c2) && !r2.isSigned(by: c1))
    }

    @Test("a running serve takes up a rollover made by the CLI: the new generation's OCSP answers and CRLs, the old one's unchanged")
    func rolloverWhileServing() throws {
        let home = TempHome()
        let port = ServerProcess.freePort()
        let r = try Run.cli(["init", "--config", try home.config(port: port).path, "--json"], home: home.sandbox)
        #expect(r.status == 0, "init: \(r.stderr)\(r.stdout)")
        func signLeaf(_ name: String) throws -> URL {
            let id = try home.addResident(name: name, at: "2026-11-21")
            let card = try home.cli(["card", "issue", "--resident", String(id), "--sign-pin", "ABC123", "--auth-pin", "1234", "--json"])
            #expect(card.status == 0, "\(card.stdout)")
            let serial = (card.json["certificates"] as? [[String: Any]] ?? []).first { $0["kind"] as? String == "sign" }?["serial"] as? String ?? ""
            return try home.certificateFile(serial)
        }
        let old = try signLeaf("山田 太郎")
        let server = try ServerProcess(home: home.sandbox, port: port, folder: home.url)
        defer { server.stop() }
        let before = try fetchCRL("\(server.url)/crl/sign.crl", Fixture(home: home, port: port, leaves: [:]), name: "before")
        Thread.sleep(forTimeInterval: 1.1)   // the new generation starts after the first
        let roll = try home.cli(["ca", "rollover", "--kind", "sign", "--json"])
        #expect(roll.status == 0, "\(roll.stdout)\(roll.stderr)")
        let new = try signLeaf("鈴木 一郎")
        let g1 = home.root("sign"), g2 = home.sandbox.appendingPathComponent("sign-root-g2.pem")
        for (leaf, root) in [(new, g2), (old, g1)] {
            let answer = try Run.openssl(["ocsp", "-issuer", root.path, "-cert", leaf.path, "-url", "\(server.url)/ocsp", "-CAfile", root.path, "-no_nonce"])
            #expect((answer.stdout + answer.stderr).contains("Response verify OK") && answer.stdout.contains("\(leaf.path): good"),
                    "\(answer.stdout)\(answer.stderr)\n\(server.log.suffix(2000))")
        }
        let f = Fixture(home: home, port: port, leaves: [:])
        let current = try fetchCRL("\(server.url)/crl/sign.crl", f, name: "after")
        let check = try Run.openssl(["crl", "-inform", "DER", "-in", current.der.path, "-noout", "-CAfile", g2.path])
        #expect((check.stdout + check.stderr).contains("verify OK"), "sign.crl is now generation 2's")
        let first = try fetchCRL("\(server.url)/crl/sign-g1.crl", f, name: "g1")
        let check1 = try Run.openssl(["crl", "-inform", "DER", "-in", first.der.path, "-noout", "-CAfile", g1.path])
        #expect((check1.stdout + check1.stderr).contains("verify OK"), "generation 1's CRL stays, signed by it")
        #expect(try Data(contentsOf: before.der) != Data(contentsOf: current.der))
        let rootReply = try HTTP.request("\(server.url)/ca/sign-root-g2.pem", folder: home.url)
        let g2Text = try String(contentsOf: g2, encoding: .utf8)
        #expect(rootReply.status == 200 && String(decoding: rootReply.body, as: UTF8.self) == g2Text)
    }

    @Test("a revocation of a generation-1 leaf after the rollover is on generation 1's CRLs only (crl generate)")
    func revocationAfterRollover() throws {
        let home = TempHome()
        try home.initialize(at: "2024-02-01T10:00:00+09:00")
        let id = try home.addResident(at: "2024-02-01")
        let card = try home.cli(["card", "issue", "--resident", String(id), "--sign-pin", "ABC123", "--auth-pin", "1234", "--json", "--at", "2024-02-01T11:00:00+09:00"])
        let serials = (card.json["certificates"] as? [[String: Any]] ?? []).compactMap { $0["serial"] as? String }
        #expect(serials.count == 2)
        #expect(try home.cli(["ca", "rollover", "--kind", "both", "--json", "--at", "2025-02-01T10:00:00+09:00"]).status == 0)
        let second = try home.addResident(name: "鈴木 一郎", at: "2025-02-01")
        #expect(try home.cli(["card", "issue", "--resident", String(second), "--sign-pin", "ABC123", "--auth-pin", "1234", "--json", "--at", "2025-02-01T11:00:00+09:00"]).status == 0)
        for serial in serials {
            #expect(try home.cli(["cert", "revoke", serial, "--reason", "keyCompromise", "--json", "--at", "2025-03-01T10:00:00+09:00"]).status == 0)
        }
        let out = home.file("crls")
        let gen = try home.cli(["crl", "generate", "--out", out.path, "--json", "--at", "2025-03-01T11:00:00+09:00"])
        #expect(gen.status == 0, "\(gen.stderr)\(gen.stdout)")
        for (index, kind) in ["sign", "auth"].enumerated() {
            let serial = serials.first { s in (card.json["certificates"] as? [[String: Any]] ?? []).contains { $0["serial"] as? String == s && $0["kind"] as? String == kind } }!
            _ = index
            let g1 = try crlText(out.appendingPathComponent("\(kind)-g1.crl"))
            let g1part = try crlText(out.appendingPathComponent("\(kind)/11201.crl"))
            let g2 = try crlText(out.appendingPathComponent("\(kind)-g2.crl"))
            let current = try crlText(out.appendingPathComponent("\(kind).crl"))
            let g2part = try crlText(out.appendingPathComponent("\(kind)-g2/11201.crl"))
            #expect(g1.contains("Serial Number: \(serial)") && g1part.contains("Serial Number: \(serial)"), "\(kind): on generation 1's CRL and partition")
            #expect(!g2.contains(serial) && !current.contains(serial) && !g2part.contains(serial), "\(kind): on no CRL of generation 2")
            #expect(try Data(contentsOf: out.appendingPathComponent("\(kind).crl")) == Data(contentsOf: out.appendingPathComponent("\(kind)-g2.crl")))
            let r = try Run.openssl(["crl", "-inform", "DER", "-in", out.appendingPathComponent("\(kind)-g1.crl").path, "-noout",
                                     "-CAfile", home.root(kind).path])
            #expect((r.stdout + r.stderr).contains("verify OK"), "generation 1's CRL signed by generation 1")
            if Run.venvPython != nil || Run.interopRequired {
                for name in ["\(kind)-g1.crl", "\(kind)-g2.crl", "\(kind)/11201.crl", "\(kind)-g2/11201.crl"] {
                    let lint = try Run.interop("pkilint_check.py", ["--kind", "crl", out.appendingPathComponent(name).path])
                    #expect(lint.status == 0 && (lint.json["blocking"] as? [Any])?.isEmpty == true, "pkilint \(name): \(lint.stdout)\(lint.stderr)")
                }
            }
        }
    }

    @Test("a one-generation sandbox is unchanged, also one whose database predates root generations")
    func oneGenerationUnchanged() throws {
        let home = TempHome()
        try home.initialize()
        let id = try home.addResident()
        let card = try home.cli(["card", "issue", "--resident", String(id), "--sign-pin", "ABC123", "--auth-pin", "1234", "--json"])
        #expect(card.status == 0)
        let serial = (card.json["certificates"] as? [[String: Any]] ?? []).first { $0["kind"] as? String == "sign" }?["serial"] as? String ?? ""
        let leaf = try home.certificateFile(serial)
        let dp = try Run.openssl(["x509", "-in", leaf.path, "-noout", "-ext", "crlDistributionPoints"]).stdout
        #expect(dp.contains("URI:http://127.0.0.1:8080/crl/sign/11201.crl"), "\(dp)")
        let out = home.file("crls")
        #expect(try home.cli(["crl", "generate", "--out", out.path, "--json"]).status == 0)
        let files = try FileManager.default.subpathsOfDirectory(atPath: out.path).filter { $0.hasSuffix(".crl") }.sorted()
        #expect(files == ["auth.crl", "auth/11201.crl", "sign.crl", "sign/11201.crl"], "\(files)")

        // A database as it was before v4-root-generations: the migration brings it forward, nothing lost.
        // (v6-crl-partitions came later still: a database of that time has neither.)
        try home.sql("DROP INDEX certificates_by_locality")
        try home.sql("DELETE FROM grdb_migrations WHERE identifier = 'v6-crl-partitions'")
        try home.sql("DROP INDEX certificates_crl")
        try home.sql("ALTER TABLE certificates DROP COLUMN root_generation")
        try home.sql("DROP TABLE root_generations")
        try home.sql("DELETE FROM grdb_migrations WHERE identifier = 'v4-root-generations'")
        try home.sql("CREATE INDEX certificates_crl ON certificates(kind, state, serial, revoked_at, reason, municipality_code) WHERE state IN ('revoked', 'hold')")
        #expect(try home.cli(["cert", "revoke", serial, "--reason", "keyCompromise", "--json"]).status == 0)
        let show = try home.cli(["cert", "show", serial, "--json"])
        #expect(show.json["rootGeneration"] as? Int == 1 && show.json["status"] as? String == "revoked", "\(show.stdout)")
        let out2 = home.file("crls2")
        #expect(try home.cli(["crl", "generate", "--out", out2.path, "--json"]).status == 0)
        #expect(try crlText(out2.appendingPathComponent("sign/11201.crl")).contains("Serial Number: \(serial)"))
        let verify = try Run.openssl(["verify", "-CAfile", home.root("sign").path, leaf.path])
        #expect(verify.status == 0)
    }

    @Test("ca rollover: audited, --json, a bad --kind changes nothing; init can make several generations ([roots] generations)")
    func commandAndInit() throws {
        let home = TempHome()
        try home.initialize(at: "2024-02-01T10:00:00+09:00")
        let files = { try FileManager.default.subpathsOfDirectory(atPath: home.sandbox.path).filter { !$0.hasPrefix("sandbox.sqlite") }.sorted() }
        let before = try home.snapshot(), filesBefore = try files()
        for bad in ["both,sign", "SIGN", "", "root"] {
            let r = try home.cli(["ca", "rollover", "--kind", bad, "--json", "--at", "2025-02-01T10:00:00+09:00"])
            #expect(r.status != 0 && r.errorMessage.contains("--kind must be sign, auth or both"), "\(bad): \(r.stdout)")
        }
        let missing = try home.cli(["ca", "rollover", "--json"])
        #expect(missing.status != 0 && missing.errorCode == "bad-arguments", "\(missing.stdout)")
        // Before the current generation began: refused, audited as refused, nothing else.
        let early = try home.cli(["ca", "rollover", "--kind", "sign", "--json", "--at", "2024-01-01T10:00:00+09:00"])
        #expect(early.status != 0 && early.errorCode == "refused", "\(early.stdout)")
        // Only the refusal's audit line differs.
        let beforeWithoutAudit = before.split(separator: "\n").filter { !$0.hasPrefix("audit ") }.map { $0 + "\n" }.joined()
        #expect(try home.snapshot(includingAudit: false) == beforeWithoutAudit)
        #expect(try files() == filesBefore, "no file made")
        #expect(try home.auditOutcomes().last! == ("ca.rollover", "refused"))

        let r = try home.cli(["ca", "rollover", "--kind", "auth", "--json", "--at", "2025-02-01T10:00:00+09:00"])
        #expect(r.status == 0)
        let root = (r.json["roots"] as? [[String: Any]])?.first ?? [:]
        #expect(root["kind"] as? String == "auth" && root["generation"] as? Int == 2 && root["previousGeneration"] as? Int == 1)
        #expect(root["notBefore"] as? String == "2025-02-01T10:00:00+09:00")
        #expect(root["notAfter"] as? String == "2035-01-31T23:59:59+09:00", "ten years, to the day before the anniversary")
        #expect((root["subjectKeyIdentifier"] as? String)?.count == 40)
        #expect(try home.auditOutcomes().last! == ("ca.rollover", "ok"))
        let audit = try home.cli(["audit", "--json"]).json["entries"] as? [[String: Any]] ?? []
        #expect((audit.last?["serials"] as? [String])?.contains(root["serial"] as? String ?? "-") == true, "\(audit.last ?? [:])")
        #expect(try home.cli(["audit", "verify", "--json"]).status == 0)
        let text = try home.cli(["ca", "rollover", "--kind", "sign", "--at", "2025-02-02T10:00:00+09:00"])
        #expect(text.status == 0 && text.stdout.contains("generation"), "text output: \(text.stdout)")
        let keyMode = try FileManager.default.attributesOfItem(atPath: home.sandbox.appendingPathComponent("keys/auth-root-g2.key").path)[.posixPermissions] as? Int
        #expect(keyMode == 0o600)

        // init with three generations, as J-LIS's 2015/2019/2023.
        let other = TempHome()
        var config = try String(contentsOf: Run.repoRoot.appendingPathComponent("ca-config/sandbox.toml"), encoding: .utf8)
        config = config.replacingOccurrences(of: "municipalities = \"municipalities.json\"",
                                             with: "municipalities = \"\(Run.repoRoot.path)/ca-config/municipalities.json\"")
        config += "\n[roots]\ngenerations = [\"2015-10-20\", \"2019-09-15\", \"2023-07-16\"]\n"
        let file = other.file("generations.toml")
        try config.write(to: file, atomically: true, encoding: .utf8)
        let made = try Run.cli(["init", "--config", file.path, "--at", "2024-05-01T10:00:00+09:00", "--json"], home: other.sandbox)
        #expect(made.status == 0, "\(made.stdout)\(made.stderr)")
        let export = try other.cli(["ca", "export", "--out", other.file("export").path, "--json"])
        let generations = export.json["generations"] as? [[String: Any]] ?? []
        #expect(generations.map { $0["generation"] as? Int ?? 0 } == [1, 2, 3, 1, 2, 3])
        #expect(generations.map { $0["notBefore"] as? String ?? "" }.prefix(3) == ["2015-10-20T00:00:00+09:00", "2019-09-15T00:00:00+09:00", "2023-07-16T00:00:00+09:00"])
        #expect(generations.map { $0["notAfter"] as? String ?? "" }.suffix(3) == ["2025-10-19T23:59:59+09:00", "2029-09-14T23:59:59+09:00", "2033-07-15T23:59:59+09:00"],
                "the real generations' ends")
        #expect(generations.map { $0["current"] as? Bool ?? false } == [false, false, true, false, false, true])
        let id = try other.addResident(at: "2024-05-01")
        let card = try other.cli(["card", "issue", "--resident", String(id), "--sign-pin", "ABC123", "--auth-pin", "1234", "--json", "--at", "2024-05-01T11:00:00+09:00"])
        let serial = (card.json["certificates"] as? [[String: Any]] ?? []).first?["serial"] as? String ?? ""
        #expect(try other.cli(["cert", "show", serial, "--json"]).json["rootGeneration"] as? Int == 3, "issued by the newest generation")
        // A generation after init's time, or dates out of order: refused, nothing made.
        for dates in ["[\"2015-10-20\", \"2030-01-01\"]", "[\"2019-09-15\", \"2015-10-20\"]"] {
            let bad = TempHome()
            let text = config.replacingOccurrences(of: "[\"2015-10-20\", \"2019-09-15\", \"2023-07-16\"]", with: dates)
            let path = bad.file("bad.toml")
            try text.write(to: path, atomically: true, encoding: .utf8)
            let r = try Run.cli(["init", "--config", path.path, "--at", "2024-05-01T10:00:00+09:00", "--json"], home: bad.sandbox)
            #expect(r.status != 0 && r.errorCode == "config", "\(dates): \(r.stdout)")
            #expect(!FileManager.default.fileExists(atPath: bad.sandbox.appendingPathComponent("sandbox.sqlite").path))
        }
    }
}
