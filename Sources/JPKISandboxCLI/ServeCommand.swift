import ArgumentParser
import Foundation
import JPKICA
import JPKIDomain
import JPKIServer
import Logging

/// `serve`: the OCSP responder, CRLs and roots over HTTP. On a fresh machine it creates the sandbox
/// from the configuration first, so that `jpki-sandbox serve` alone comes up ready.
struct ServeCommand: AsyncCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve OCSP (RFC 6960), the CRLs and the roots over HTTP; creates the sandbox on first run.",
        discussion: """
        Routes: POST /ocsp (application/ocsp-request), GET /ocsp/{base64}, GET /crl/sign.crl, GET /crl/auth.crl, \
        GET /crl/{sign,auth}/{municipality code}.crl, GET /ca/sign-root.pem, GET /ca/auth-root.pem, GET /healthz, GET /metrics, \
        the admin API under /admin/v1/ (bearer tokens from `jpki-sandbox token create`; docs/api.md, GET /admin/v1/openapi.json), \
        and the operator console at /console/ (a browser; sign in with the same tokens; docs/console.md).
        The CLI may run against the same home meanwhile: a revocation shows in the next OCSP answer and CRL.
        Logs are JSON lines on stderr (JPKI_LOG_LEVEL=debug logs every request). Stops cleanly on SIGINT or SIGTERM.
        Try: openssl ocsp -issuer HOME/sign-root.pem -cert LEAF.pem -url http://127.0.0.1:8080/ocsp -CAfile HOME/sign-root.pem
        """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port; the one chosen is printed).") var port = 8080
    @Option(help: "The CA configuration to create the sandbox from when the home has none yet.") var config = "ca-config/sandbox.toml"
    @Option(help: "Connections open at once; past it a new one is answered 503 and closed (default: half the descriptor limit, at most 10000).")
    var maxConnections: Int?
    @Option(help: "Seconds a connection may stay idle (no request, or a request head that never completes) before it is closed.")
    var idleTimeout = 120
    @Option(help: "Seconds from a request's head to the end of its body before the connection is closed.")
    var requestTimeout = 30
    @Option(help: "Byte budget of the cache of pre-signed OCSP answers, in MiB (least recently used answers go first).")
    var ocspCacheMb = RevocationService.defaultCacheBytes >> 20
    @Option(help: ArgumentHelp("Who may call the admin API (/admin/v1/…, bearer tokens) and open the console (/console/): loopback peers only, any peer (use with --tls-cert/--tls-key), or nobody.",
                               valueName: "loopback|any|off"))
    var adminAccess = "loopback"
    @Option(help: "PEM certificate chain: serve HTTPS instead of HTTP (with --tls-key).") var tlsCert: String?
    @Option(help: "PEM private key of --tls-cert.") var tlsKey: String?
    @Option(help: "Keep the key pool (`keys fill`) topped up to N keys in the background, on one low-priority thread (0: off).")
    var keyPoolTarget = 0
    @Option(help: ArgumentHelp("Keep a folder of pre-signed OCSP answers current (as `ocsp export --out DIR`): all at start and every half validity, changed ones within seconds.", valueName: "dir"))
    var ocspExport: String?
    @Option(help: ArgumentHelp("For scripts/bench-ocsp only: also answer POST /benchmark/ceiling with the bytes of this file (the server's ceiling).",
                               valueName: "file", visibility: .private))
    var benchmarkCeiling: String?

    func validate() throws {
        if let maxConnections, maxConnections < 1 { throw ValidationError("--max-connections must be at least 1") }
        guard (1...86_400).contains(idleTimeout), (1...86_400).contains(requestTimeout) else {
            throw ValidationError("--idle-timeout and --request-timeout are seconds from 1 to 86400")
        }
        guard (1...65_536).contains(ocspCacheMb) else { throw ValidationError("--ocsp-cache-mb is from 1 to 65536") }
        guard AdminAccess(rawValue: adminAccess) != nil else { throw ValidationError("--admin-access is loopback, any or off") }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("give --tls-cert and --tls-key together") }
        guard (0...Sandbox.keyPoolLimit).contains(keyPoolTarget) else { throw ValidationError("--key-pool-target is from 0 to \(Sandbox.keyPoolLimit)") }
    }

    func runAsync() async throws {
        try await serve()
    }

    func serve() async throws {
        let level = ProcessInfo.processInfo.environment["JPKI_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let logger = Logger(label: "jpki-sandbox.serve") { JSONLogHandler(label: $0, level: level) }
        let server: RevocationServer
        do {
            let home = global.sandboxHome
            let at = try global.atDate()
            let started = Date()
            // Opening (or creating: two root keys) and the responder identities are blocking work:
            // done on a thread of their own, not on the 2 cooperative threads, and timed in the log.
            let config = self.config, cacheBytes = ocspCacheMb << 20
            let service = try await Blocking.run { () throws -> RevocationService in
                let sandbox: Sandbox
                if home.exists {
                    sandbox = try Sandbox.open(home: home, at: at, logger: logger)
                } else {
                    logger.info("no sandbox yet: creating it", metadata: ["home": "\(home.url.path)", "config": "\(config)"])
                    sandbox = try Sandbox.initialize(home: home, configFile: URL(fileURLWithPath: config), at: at, logger: logger)
                }
                let opened = Date()
                let service = try RevocationService(sandbox: sandbox, logger: logger, cacheBytes: cacheBytes)
                logger.info("sandbox opened", metadata: [
                    "openSeconds": "\(String(format: "%.3f", opened.timeIntervalSince(started)))",
                    "responderSeconds": "\(String(format: "%.3f", Date().timeIntervalSince(opened)))",
                ])
                return service
            }
            let limits = ConnectionLimits(maximumConnections: maxConnections ?? ConnectionLimits.defaultMaximumConnections,
                                          idleTimeout: .seconds(Int64(idleTimeout)), requestTimeout: .seconds(Int64(requestTimeout)),
                                          writeTimeout: .seconds(Int64(max(idleTimeout, requestTimeout))))
            let tls = try tlsCert.map { try RevocationServer.tlsConfiguration(certificate: $0, key: tlsKey ?? "") }
            let admin = AdminAPI(sandbox: service.sandbox, access: AdminAccess(rawValue: adminAccess) ?? .loopback, logger: logger)
            var ceiling: [UInt8]?
            if let benchmarkCeiling {
                guard let data = FileManager.default.contents(atPath: benchmarkCeiling) else {
                    throw SandboxError.config("cannot read --benchmark-ceiling \(benchmarkCeiling)")
                }
                ceiling = Array(data)
                logger.warning("benchmark ceiling route enabled: POST \(RevocationServer.benchmarkCeilingPath) answers canned bytes", metadata: ["bytes": "\(data.count)"])
            }
            server = RevocationServer(service: service, host: host, port: port, limits: limits, logger: logger, admin: admin, tls: tls,
                                      benchmarkCeiling: ceiling)
            if keyPoolTarget > 0 { KeyPoolFiller.start(sandbox: service.sandbox, target: keyPoolTarget, logger: logger) }
            if let ocspExport { StaticOCSPKeeper.start(service: service, folder: URL(fileURLWithPath: ocspExport), logger: logger) }
        } catch {
            try report(error)
            return
        }
        let json = global.json, home = global.sandboxHome.url.path, scheme = server.scheme
        do {
            try await server.run { host, port in
                let url = "\(scheme)://\(host):\(port)"
                let line = json
                    ? ((try? ResourceJSON.string(Listening(url: url, port: port, home: home))) ?? "") + "\n"
                    : "listening on \(url) (home \(home))\n"
                FileHandle.standardOutput.write(Data(line.utf8))
            }
        } catch {
            try report(error)
        }
    }

    func report(_ error: any Error) throws { try global.report(error) }
}

/// The line `serve --json` prints once it listens.
struct Listening: Codable { var url: String; var port: Int; var home: String }
