import Foundation
import Testing

/// A `jpki-sandbox serve` subprocess on 127.0.0.1. It is always stopped: by `stop()` (SIGTERM, then
/// SIGKILL after 10 s) and, should a test end early, by `deinit`.
final class ServerProcess {
    let process = Process()
    let port: Int
    let out: URL
    let err: URL
    var url: String { "http://127.0.0.1:\(port)" }

    init(home: URL, port: Int, arguments: [String] = [], folder: URL) throws {
        self.port = port
        out = folder.appendingPathComponent("serve-\(port).out")
        err = folder.appendingPathComponent("serve-\(port).err")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: Run.binary)
        process.arguments = ["serve", "--home", home.path, "--port", String(port), "--json"] + arguments
        process.currentDirectoryURL = Run.repoRoot
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        // Ready when it prints the address it listens on.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let text = try? String(contentsOf: out, encoding: .utf8), text.contains("\"port\"") { return }
            if !process.isRunning { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        stop()
        throw ServerFailed(log: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    /// Stops the server and returns its exit status.
    @discardableResult
    func stop() -> Int32 {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    var log: String { (try? String(contentsOf: err, encoding: .utf8)) ?? "" }

    deinit { if process.isRunning { stop() } }

    struct ServerFailed: Error, CustomStringConvertible {
        let log: String
        var description: String { "serve did not come up: \(log)" }
    }

    /// A port free on 127.0.0.1 now (the system's choice for port 0).
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// HTTP through curl, a client we did not write.
enum HTTP {
    struct Reply {
        let status: Int
        let headers: [String: String]
        let body: Data
        /// curl's exit status and message when no HTTP status came back (status 0), for the failure message.
        var transportError = ""
    }

    static func request(_ url: String, method: String = "GET", contentType: String? = nil, body: URL? = nil,
                        extra: [String] = [], folder: URL) throws -> Reply {
        let bodyFile = folder.appendingPathComponent("reply-\(UUID().uuidString)")
        let headerFile = folder.appendingPathComponent("headers-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: bodyFile); try? FileManager.default.removeItem(at: headerFile) }
        // A refused connection is retried once (the server can be slow to accept under a loaded test run).
        var args = ["-sS", "--retry", "1", "--retry-connrefused", "-X", method, "-o", bodyFile.path, "-D", headerFile.path, "-w", "%{http_code}", "--max-time", "30"]
        if let contentType { args += ["-H", "Content-Type: \(contentType)"] }
        if let body { args += ["--data-binary", "@\(body.path)"] }
        let r = try Run.program("/usr/bin/curl", args + extra + [url])
        var headers: [String: String] = [:]
        for line in ((try? String(contentsOf: headerFile, encoding: .utf8)) ?? "").components(separatedBy: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let status = Int(r.stdout) ?? 0
        return Reply(status: status, headers: headers, body: (try? Data(contentsOf: bodyFile)) ?? Data(),
                     transportError: status == 0 ? "curl exit \(r.status): \(r.stderr)" : "")
    }
}

extension TempHome {
    /// ca-config/sandbox.toml with the URLs in certificates pointing at `port`, so that clients that
    /// follow them (pyhanko) reach the test's server.
    func config(port: Int, responder: String = "root") throws -> URL {
        var text = try String(contentsOf: Run.repoRoot.appendingPathComponent("ca-config/sandbox.toml"), encoding: .utf8)
        text = text.replacingOccurrences(of: "http://127.0.0.1:8080", with: "http://127.0.0.1:\(port)")
        text = text.replacingOccurrences(of: "municipalities = \"municipalities.json\"",
                                         with: "municipalities = \"\(Run.repoRoot.path)/ca-config/municipalities.json\"")
        text = text.replacingOccurrences(of: "responder = \"root\"", with: "responder = \"\(responder)\"")
        let url = file("sandbox-\(port).toml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// The PEM of a certificate, written to a file.
    func certificateFile(_ serial: String) throws -> URL {
        let show = try cli(["cert", "show", serial, "--json"])
        let url = file("\(serial).pem")
        try (show.json["pem"] as? String ?? "").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func root(_ kind: String) -> URL { sandbox.appendingPathComponent("\(kind)-root.pem") }
}
