import DERKit
import Foundation
import Testing

/// The revocation services end to end: a real `jpki-sandbox serve` on 127.0.0.1, asked by clients we
/// did not write (openssl, curl, pyhanko-certvalidator, pkilint), while the CLI changes statuses.
@Suite(.serialized) struct RevocationServiceTests {
    /// A sandbox with two cards (Kawagoe 11201, Numazu 22203) and its server.
    struct Fixture {
        let home: TempHome
        let server: ServerProcess
        /// kind → serial, for each card.
        let card1: [String: String]
        let card2: [String: String]
        var url: String { server.url }
        func file(_ serial: String) throws -> URL { try home.certificateFile(serial) }
    }

    func start(responder: String = "root") throws -> Fixture {
        let home = TempHome()
        let port = ServerProcess.freePort()
        let r = try Run.cli(["init", "--config", try home.config(port: port, responder: responder).path, "--json"], home: home.sandbox)
        #expect(r.status == 0, "init: \(r.stderr)\(r.stdout)")
        func card(_ name: String, _ birth: String, _ sex: String, _ address: String) throws -> [String: String] {
            let id = try home.addResident(name: name, birth: birth, sex: sex, address: address, at: Self.today)
            let issued = try home.cli(["card", "issue", "--resident", String(id), "--sign-pin", "ABC123", "--auth-pin", "1234", "--json"])
            #expect(issued.status == 0, "card issue: \(issued.stderr)")
            var serials: [String: String] = [:]
            for c in issued.json["certificates"] as? [[String: Any]] ?? [] { serials[c["kind"] as! String] = (c["serial"] as! String) }
            return serials
        }
        let card1 = try card("山田 太郎", "1980-12-31", "male", "埼玉県川越市元町1丁目3番地1")
        let card2 = try card("髙橋 花子", "1992-02-29", "female", "静岡県沼津市御幸町16番1号")
        let server = try ServerProcess(home: home.sandbox, port: port, folder: home.url)
        return Fixture(home: home, server: server, card1: card1, card2: card2)
    }

    /// `openssl ocsp` against the server; stdout and stderr together.
    func ocsp(_ f: Fixture, kind: String, cert: URL? = nil, serial: String? = nil, _ extra: [String] = []) throws -> String {
        let root = f.home.root(kind).path
        var args = ["ocsp", "-issuer", root, "-url", f.url + "/ocsp", "-CAfile", root] + extra
        if let cert { args += ["-cert", cert.path] }
        if let serial { args += ["-serial", "0x" + serial] }
        let r = try Run.openssl(args)
        return r.stdout + r.stderr
    }

    @Test("openssl ocsp: good, revoked with its reason, certificateHold, unknown; nonce or not; SHA-1 or SHA-256; POST and GET")
    func ocspWithOpenSSL() throws {
        let f = try start()
        defer { f.server.stop() }
        let sign = try f.file(f.card1["sign"]!), auth = try f.file(f.card1["auth"]!)
        for (kind, file) in [("sign", sign), ("auth", auth)] {
            for extra in [[], ["-no_nonce"], ["-sha256"], ["-sha256", "-no_nonce"]] {
                let out = try ocsp(f, kind: kind, cert: file, extra)
                #expect(out.contains("\(file.path): good"), "\(kind) \(extra): \(out)")
                #expect(out.contains("Response verify OK"), "\(out)")
                #expect(extra.contains("-no_nonce") || !out.contains("WARNING: no nonce"), "the nonce is echoed: \(out)")
            }
        }
        // Revoked through the CLI while the server runs: the very next answer says so, cached or not.
        _ = try ocsp(f, kind: "sign", cert: sign, ["-no_nonce"])   // an answer in the cache first
        let revoke = try f.home.cli(["cert", "revoke", f.card1["sign"]!, "--reason", "keyCompromise", "--json"])
        #expect(revoke.status == 0, "\(revoke.stderr)")
        for extra in [["-no_nonce"], [], ["-sha256"]] {
            let out = try ocsp(f, kind: "sign", cert: sign, extra)
            #expect(out.contains("\(sign.path): revoked"), "\(out)")
            #expect(out.contains("Reason: keyCompromise"), "\(out)")
            #expect(out.contains("Response verify OK"))
        }
        // Suspended: certificateHold; released: good again.
        let holdSign = try f.file(f.card2["sign"]!)
        _ = try ocsp(f, kind: "sign", cert: holdSign, ["-no_nonce"])
        #expect(try f.home.cli(["card", "suspend", "2", "--json"]).status == 0)
        let held = try ocsp(f, kind: "sign", cert: holdSign, ["-no_nonce"])
        #expect(held.contains("\(holdSign.path): revoked") && held.contains("Reason: certificateHold"), "\(held)")
        #expect(try f.home.cli(["card", "resume", "2", "--pin", "1234", "--json"]).status == 0)
        #expect(try ocsp(f, kind: "sign", cert: holdSign, ["-no_nonce"]).contains("\(holdSign.path): good"))
        // A serial never issued: unknown. A CertID of an issuer that is not ours: unauthorized.
        #expect(try ocsp(f, kind: "auth", serial: "1234ABCD").contains("0x1234ABCD: unknown"))
        let authRoot = f.home.root("auth").path
        let foreign = try Run.openssl(["ocsp", "-issuer", authRoot, "-cert", sign.path, "-url", f.url + "/ocsp", "-CAfile", authRoot, "-no_nonce"])
        #expect((foreign.stdout + foreign.stderr).contains("unauthorized (6)"), "\(foreign.stdout)\(foreign.stderr)")

        // GET with the base64 request in the path, percent-encoded; RFC 5019 caching headers.
        for (extra, status) in [(["-no_nonce"], "revoked"), (["-sha256", "-no_nonce"], "revoked")] {
            let req = f.home.file("get-req.der"), resp = f.home.file("get-resp.der")
            _ = try Run.openssl(["ocsp", "-issuer", f.home.root("sign").path, "-cert", sign.path, "-reqout", req.path] + extra)
            let encoded = try Data(contentsOf: req).base64EncodedString()
                .addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let reply = try HTTP.request(f.url + "/ocsp/" + encoded, folder: f.home.url)
            #expect(reply.status == 200)
            #expect(reply.headers["content-type"] == "application/ocsp-response")
            #expect(reply.headers["cache-control"]?.contains("max-age=") == true, "\(reply.headers)")
            for header in ["etag", "last-modified", "expires"] { #expect(reply.headers[header] != nil, "\(header) in \(reply.headers)") }
            try reply.body.write(to: resp)
            let check = try Run.openssl(["ocsp", "-respin", resp.path, "-issuer", f.home.root("sign").path, "-cert", sign.path,
                                         "-CAfile", f.home.root("sign").path])
            #expect((check.stdout + check.stderr).contains("\(sign.path): \(status)"), "\(check.stdout)\(check.stderr)")
            // Unencoded base64 ('/', '+' and '=' as they are) works too.
            let raw = try HTTP.request(f.url + "/ocsp/" + (try Data(contentsOf: req).base64EncodedString()), folder: f.home.url)
            #expect(raw.body == reply.body, "the same pre-signed answer")
        }
        // Several certificates in one request.
        let several = try Run.openssl(["ocsp", "-issuer", f.home.root("sign").path, "-cert", sign.path, "-cert", holdSign.path,
                                       "-url", f.url + "/ocsp", "-CAfile", f.home.root("sign").path])
        #expect((several.stdout).contains("\(sign.path): revoked") && several.stdout.contains("\(holdSign.path): good"), "\(several.stdout)")
        #expect(f.server.stop() == 0, "graceful exit on SIGTERM")
        #expect(f.server.log.contains("\"stopped\""))
    }

    /// Serials and reasons listed by `openssl crl -text`.
    func crlEntries(_ der: URL) throws -> [String: String] {
        let text = try Run.openssl(["crl", "-inform", "DER", "-in", der.path, "-noout", "-text"]).stdout
        var entries: [String: String] = [:]
        var serial: String?
        for line in text.components(separatedBy: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if line.hasPrefix("Serial Number: ") { serial = String(line.dropFirst("Serial Number: ".count)); entries[serial!] = "" }
            else if let s = serial, entries[s] == "", !line.isEmpty, !line.hasPrefix("Revocation Date"), !line.hasPrefix("CRL entry"),
                    !line.hasPrefix("X509v3 CRL Reason") { entries[s] = line }
        }
        return entries
    }

    func crlNumber(_ der: URL) throws -> Int {
        let r = try Run.openssl(["crl", "-inform", "DER", "-in", der.path, "-noout", "-crlnumber"])
        let hex = r.stdout.split(separator: "=").last!.trimmingCharacters(in: .whitespacesAndNewlines)
        return Int(hex.hasPrefix("0x") ? String(hex.dropFirst(2)) : hex, radix: 16) ?? -1
    }

    @Test("CRLs over HTTP: verified by openssl, exactly the revoked serials with reasons, partitions matching the certificates, numbers always increasing")
    func crlsOverHTTP() throws {
        let f = try start()
        defer { f.server.stop() }
        let dir = f.home.file("crls")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func fetch(_ path: String) throws -> URL {
            let reply = try HTTP.request(f.url + "/crl/" + path, folder: f.home.url)
            #expect(reply.status == 200, "\(path): \(reply.status) \(reply.transportError)")
            #expect(reply.headers["content-type"] == "application/pkix-crl")
            let url = dir.appendingPathComponent(path.replacingOccurrences(of: "/", with: "-"))
            try reply.body.write(to: url)
            let verify = try Run.openssl(["crl", "-inform", "DER", "-in", url.path, "-CAfile", f.home.root(String(path.prefix(4))).path, "-noout"])
            #expect(verify.stderr.contains("verify OK"), "\(path): \(verify.stderr)")
            return url
        }
        let before = try crlNumber(try fetch("sign.crl"))
        #expect(try crlEntries(try fetch("sign.crl")).isEmpty)

        #expect(try f.home.cli(["cert", "revoke", f.card1["sign"]!, "--reason", "keyCompromise"]).status == 0)
        #expect(try f.home.cli(["cert", "revoke", f.card1["auth"]!, "--reason", "cessationOfOperation"]).status == 0)
        #expect(try f.home.cli(["card", "suspend", "2"]).status == 0)
        let sign = try fetch("sign.crl"), auth = try fetch("auth.crl")
        #expect(try crlEntries(sign) == [f.card1["sign"]!: "Key Compromise", f.card2["sign"]!: "Certificate Hold"])
        #expect(try crlEntries(auth) == [f.card1["auth"]!: "Cessation Of Operation", f.card2["auth"]!: "Certificate Hold"])
        #expect(try crlNumber(sign) > before)

        // Each certificate names its municipality's partition; that CRL lists only its own.
        for (kind, serial, other) in [("sign", f.card1["sign"]!, f.card2["sign"]!), ("auth", f.card2["auth"]!, f.card1["auth"]!)] {
            let cert = try f.file(serial)
            let dp = try Run.openssl(["x509", "-in", cert.path, "-noout", "-ext", "crlDistributionPoints"]).stdout
            let uri = try #require(dp.components(separatedBy: "URI:").last?.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(uri.hasPrefix(f.url + "/crl/\(kind)/"), "\(dp)")
            let part = try fetch(String(uri.dropFirst((f.url + "/crl/").count)))
            let entries = try crlEntries(part)
            #expect(entries[serial] != nil && entries[other] == nil, "\(entries)")
            let idp = try Run.openssl(["crl", "-inform", "DER", "-in", part.path, "-noout", "-text"]).stdout
            #expect(idp.contains("Issuing Distribution Point: critical") && idp.contains(uri), "\(idp)")
            // openssl verify -crl_check with the partition alone rejects the revoked (or held) leaf.
            let pem = dir.appendingPathComponent("part.pem")
            _ = try Run.openssl(["crl", "-inform", "DER", "-in", part.path, "-out", pem.path])
            let rejected = try Run.openssl(["verify", "-crl_check", "-CAfile", f.home.root(kind).path, "-CRLfile", pem.path, cert.path])
            #expect(rejected.status != 0 && (rejected.stdout + rejected.stderr).contains("certificate revoked"), "\(rejected.stdout)\(rejected.stderr)")
        }
        // Released from hold: gone from the next CRL; a good leaf verifies against full CRL and partition.
        #expect(try f.home.cli(["card", "resume", "2", "--pin", "1234"]).status == 0)
        let after = try fetch("sign.crl")
        #expect(try crlEntries(after) == [f.card1["sign"]!: "Key Compromise"])
        let good = try f.file(f.card2["sign"]!)
        for crl in [after, try fetch("sign/22203.crl")] {
            let pem = dir.appendingPathComponent("good.pem")
            _ = try Run.openssl(["crl", "-inform", "DER", "-in", crl.path, "-out", pem.path])
            let accepted = try Run.openssl(["verify", "-crl_check", "-CAfile", f.home.root("sign").path, "-CRLfile", pem.path, good.path])
            #expect(accepted.status == 0, "\(accepted.stdout)\(accepted.stderr)")
        }

        // crl generate (another process) and a restarted server keep numbering upwards.
        let served = try crlNumber(after)
        let out = f.home.file("generated")
        let generated = try f.home.cli(["crl", "generate", "--out", out.path, "--json"])
        #expect(generated.status == 0, "\(generated.stderr)")
        for name in ["sign.crl", "auth.crl", "sign/11201.crl", "sign/22203.crl", "auth/11201.crl", "auth/22203.crl"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path), "\(name)")
        }
        let cliNumber = try crlNumber(out.appendingPathComponent("sign.crl"))
        #expect(cliNumber > served)
        #expect(try crlEntries(out.appendingPathComponent("sign.crl")) == [f.card1["sign"]!: "Key Compromise"])
        f.server.stop()
        let restarted = try ServerProcess(home: f.home.sandbox, port: f.server.port, folder: f.home.url)
        defer { restarted.stop() }
        let reply = try HTTP.request(restarted.url + "/crl/sign.crl", folder: f.home.url)
        let again = dir.appendingPathComponent("again.crl")
        try reply.body.write(to: again)
        #expect(try crlNumber(again) > cliNumber)
    }

    @Test("pyhanko-certvalidator, hard-fail: a good leaf validates fetching our OCSP and CRL; a revoked one is reported revoked")
    func certvalidator() throws {
        guard Run.venvPython != nil else {
            #expect(!Run.interopRequired, "JPKI_REQUIRE_INTEROP=1 but \(InteropMissing())")
            return
        }
        for responder in ["root", "delegated"] {
            let f = try start(responder: responder)
            defer { f.server.stop() }
            for kind in ["sign", "auth"] {
                let cert = try f.file(f.card1[kind]!)
                for policy in ["hard-fail", "both"] {
                    let r = try Run.interop("certvalidator_check.py", ["--cert", cert.path, "--root", f.home.root(kind).path, "--policy", policy])
                    #expect(r.json["valid"] as? Bool == true, "\(responder) \(kind) \(policy): \(r.stdout)\(r.stderr)")
                    #expect((r.json["ocspResponses"] as? Int ?? 0) >= 1, "OCSP fetched: \(r.stdout)")
                    if policy == "both" { #expect((r.json["crls"] as? Int ?? 0) >= 1, "CRL fetched: \(r.stdout)") }
                }
            }
            #expect(try f.home.cli(["cert", "revoke", f.card1["sign"]!, "--reason", "affiliationChanged"]).status == 0)
            let cert = try f.file(f.card1["sign"]!)
            for policy in ["hard-fail", "crl"] {
                let r = try Run.interop("certvalidator_check.py", ["--cert", cert.path, "--root", f.home.root("sign").path, "--policy", policy])
                #expect(r.json["revoked"] as? Bool == true, "\(responder) \(policy): \(r.stdout)\(r.stderr)")
            }
        }
    }

    /// pkilint findings our CRLs and OCSP responses may have. None so far; docs/revocation.md keeps the same list.
    static let allowedPkilintFindings: [String] = []

    @Test("pkilint: no ERROR in full, partition and empty CRLs, nor in OCSP responses (good, revoked, nonce, delegated)")
    func pkilint() throws {
        guard Run.venvPython != nil else {
            #expect(!Run.interopRequired, "JPKI_REQUIRE_INTEROP=1 but \(InteropMissing())")
            return
        }
        let allow = Self.allowedPkilintFindings.flatMap { ["--allow", $0] }
        for responder in ["root", "delegated"] {
            let f = try start(responder: responder)
            defer { f.server.stop() }
            var files: [(String, URL)] = []
            let emptyCRL = f.home.file("empty-\(responder).crl")
            try HTTP.request(f.url + "/crl/auth.crl", folder: f.home.url).body.write(to: emptyCRL)
            files.append(("crl", emptyCRL))
            #expect(try f.home.cli(["cert", "revoke", f.card1["sign"]!, "--reason", "keyCompromise"]).status == 0)
            #expect(try f.home.cli(["card", "suspend", "2"]).status == 0)
            for path in ["sign.crl", "sign/11201.crl", "sign/22203.crl"] {
                let url = f.home.file("\(responder)-\(path.replacingOccurrences(of: "/", with: "-"))")
                try HTTP.request(f.url + "/crl/" + path, folder: f.home.url).body.write(to: url)
                files.append(("crl", url))
            }
            for (serial, extra) in [(f.card1["sign"]!, ["-no_nonce"]), (f.card2["sign"]!, []), (f.card1["sign"]!, ["-sha256"])] {
                let resp = f.home.file("\(responder)-\(serial)-\(extra.count).ocsp")
                _ = try ocsp(f, kind: "sign", cert: try f.file(serial), extra + ["-respout", resp.path])
                files.append(("ocsp", resp))
            }
            for (kind, file) in files {
                let r = try Run.interop("pkilint_check.py", ["--kind", kind, file.path] + allow)
                #expect(r.status == 0, "pkilint blocking findings for \(file.lastPathComponent): \(r.stdout) \(r.stderr)")
            }
        }
    }

    @Test("delegated responder: its certificate signs, carries id-kp-OCSPSigning and ocsp-nocheck, and is published; openssl accepts it")
    func delegatedResponder() throws {
        let f = try start(responder: "delegated")
        defer { f.server.stop() }
        let cert = try f.file(f.card1["auth"]!)
        let out = try ocsp(f, kind: "auth", cert: cert, ["-resp_text"])
        #expect(out.contains("\(cert.path): good") && out.contains("Response verify OK"), "\(out)")
        #expect(out.contains("OCSP Signing") && out.contains("OCSP No Check"), "\(out)")
        #expect(out.contains("CN=OCSP Responder"), "\(out)")
        let published = try HTTP.request(f.url + "/ca/auth-ocsp.pem", folder: f.home.url)
        #expect(published.status == 200)
        let pem = f.home.file("auth-ocsp.pem")
        try published.body.write(to: pem)
        #expect(try Run.openssl(["verify", "-CAfile", f.home.root("auth").path, pem.path]).status == 0)
        // Its own status, asked for, is good.
        let own = try Run.openssl(["ocsp", "-issuer", f.home.root("auth").path, "-cert", pem.path, "-url", f.url + "/ocsp",
                                   "-CAfile", f.home.root("auth").path])
        #expect(own.stdout.contains("\(pem.path): good"), "\(own.stdout)\(own.stderr)")
    }

    @Test("bad input gets the right OCSP error or HTTP status, and the server keeps answering")
    func badInput() throws {
        let f = try start()
        defer { f.server.stop() }
        let folder = f.home.url
        let malformed = Data([0x30, 0x03, 0x0A, 0x01, 0x01])
        func post(_ bytes: Data, type: String = "application/ocsp-request", extra: [String] = []) throws -> HTTP.Reply {
            let body = f.home.file("body-\(UUID().uuidString)")
            try bytes.write(to: body)
            return try HTTP.request(f.url + "/ocsp", method: "POST", contentType: type, body: body, extra: extra, folder: folder)
        }
        let req = f.home.file("good-req.der")
        _ = try Run.openssl(["ocsp", "-issuer", f.home.root("sign").path, "-cert", try f.file(f.card1["sign"]!).path, "-no_nonce", "-reqout", req.path])
        let good = try Data(contentsOf: req)

        var random = Data(count: 300)
        for i in random.indices { random[i] = UInt8.random(in: 0...255) }
        #expect(try post(random).body == malformed, "random bytes")
        #expect(try post(good.prefix(good.count - 7)).body == malformed, "truncated")
        #expect(try post(good + Data([0])).body == malformed, "trailing byte")
        #expect(try post(Data()).body == malformed, "empty")
        #expect(try post(Data(count: 100_000)).status == 413, "oversized with Content-Length")
        #expect(try post(Data(count: 100_000), extra: ["-H", "Transfer-Encoding: chunked", "-H", "Expect:"]).status == 413, "oversized, chunked")
        #expect(try post(good, type: "text/plain").status == 415, "wrong content type")
        #expect(try post(good, type: "application/ocsp-request; charset=binary").status == 200)
        #expect(try HTTP.request(f.url + "/ocsp/%%%not-base64", folder: folder).body == malformed, "GET with bad base64")
        #expect(try HTTP.request(f.url + "/ocsp/" + Data("hello".utf8).base64EncodedString(), folder: folder).body == malformed, "GET of non-DER")
        #expect(try HTTP.request(f.url + "/ocsp/" + String(repeating: "A", count: 20_000), folder: folder).status == 414, "GET too long")

        // A nonce longer than 128 octets is refused; 32 is echoed.
        let certID = try DERReader.single(Array(good)).children()[0].children()[0].children()[0].children()[0].encoded
        func request(nonce: Int) -> Data {
            let ext = DER.sequence([DER.knownOID("1.3.6.1.5.5.7.48.1.2"), DER.octets(DER.octets([UInt8](repeating: 7, count: nonce)))])
            return Data(DER.sequence([DER.sequence([DER.sequence([DER.sequence([certID])]), DER.explicit(2, DER.sequence([ext]))])]))
        }
        #expect(try post(request(nonce: 129)).body == malformed, "nonce of 129 octets")
        let echoed = try post(request(nonce: 32))
        #expect(echoed.body.count > 100 && Data(echoed.body).range(of: Data([UInt8](repeating: 7, count: 32))) != nil, "nonce echoed")

        // Paths that are not ours, and no key is ever served.
        #expect(try HTTP.request(f.url + "/nothing", folder: folder).status == 404)
        for path in ["/ca/sign-root.key", "/ca/../keys/sign-root.key", "/crl/../sandbox.sqlite", "/crl/sign/99999.crl"] {
            let r = try HTTP.request(f.url + path, extra: ["--path-as-is"], folder: folder)
            #expect(r.status == 404 || r.status == 400, "\(path): \(r.status)")
            #expect(!String(decoding: r.body, as: UTF8.self).contains("PRIVATE KEY"))
        }
        // Pipelined requests on one connection are answered in order, whichever path answers them.
        let pipelined = try Run.program("/usr/bin/env", ["python3", "-c", """
            import socket, sys
            port, body = int(sys.argv[1]), open(sys.argv[2], 'rb').read()
            ocsp = b'POST /ocsp HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: application/ocsp-request\\r\\nContent-Length: %d\\r\\n\\r\\n' % len(body) + body
            health = b'GET /healthz HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'
            s = socket.create_connection(('127.0.0.1', port))
            s.sendall(health + ocsp + health + ocsp + ocsp)
            s.settimeout(10)
            data = b''
            while data.count(b'HTTP/1.1 200') < 5:
                chunk = s.recv(65536)
                if not chunk: break
                data += chunk
            kinds = ['json' if b'application/json' in part[:300] else 'ocsp' for part in data.split(b'HTTP/1.1 200')[1:]]
            print(','.join(kinds))
            """, String(f.server.port), req.path])
        #expect(pipelined.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "json,ocsp,json,ocsp,ocsp", "\(pipelined.stdout)\(pipelined.stderr)")

        // Still answering.
        #expect(try HTTP.request(f.url + "/healthz", folder: folder).status == 200)
        #expect(try ocsp(f, kind: "sign", cert: try f.file(f.card1["sign"]!)).contains(": good"))
        let metrics = String(decoding: try HTTP.request(f.url + "/metrics", folder: folder).body, as: UTF8.self)
        for line in ["jpki_http_requests_total{route=\"/ocsp\",method=\"POST\",status=\"413\"}",
                     "jpki_ocsp_responses_total{status=\"malformedRequest\"}", "jpki_ocsp_answers_total{status=\"good\"}",
                     "jpki_crl_age_seconds{kind=\"sign\",scope=\"full\"}"] {
            #expect(metrics.contains(line), "\(line) in /metrics")
        }
    }

    @Test("serve on a fresh home creates the sandbox from ca-config/sandbox.toml and serves the roots")
    func serveInitialises() throws {
        let home = TempHome()
        let port = ServerProcess.freePort()
        let server = try ServerProcess(home: home.sandbox, port: port, arguments: ["--config", try home.config(port: port).path], folder: home.url)
        defer { server.stop() }
        for kind in ["sign", "auth"] {
            let reply = try HTTP.request(server.url + "/ca/\(kind)-root.pem", folder: home.url)
            #expect(reply.status == 200)
            #expect(String(decoding: reply.body, as: UTF8.self) == (try String(contentsOf: home.root(kind), encoding: .utf8)))
        }
        #expect(try HTTP.request(server.url + "/healthz", folder: home.url).status == 200)
        // The CLI works on the same home while the server runs.
        #expect(try home.cli(["resident", "list", "--json"]).status == 0)
    }
}

extension RevocationServiceTests {
    /// Today in Tokyo, as `resident add --at` takes it.
    static var today: String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX"); f.timeZone = TimeZone(identifier: "Asia/Tokyo"); f.dateFormat = "yyyy-MM-dd"
        return f.string(from: Date())
    }
}
