import ArgumentParser
import Foundation
import JPKICA
import JPKIDomain
import Logging

/// `ocsp export --out DIR`: pre-signed OCSP answers for a static web server (RFC 5019 GET paths).
struct OCSPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ocsp", abstract: "Pre-signed OCSP answers for static serving.", subcommands: [Export.self])

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a pre-signed OCSP answer per certificate under the path its GET request names.",
            discussion: """
            For every certificate (or those issued, revoked or suspended since --since), the answer to an RFC 5019 request \
            (one SHA-1 CertID, no nonce) is signed as `serve` signs it and written to DIR/ocsp/<base64 of the DER request>, \
            the base64's `/` making folders. A web server with root DIR and `merge_slashes off` then answers \
            GET /ocsp/<base64> (plain or percent-encoded) without the sandbox: see docs/static-ocsp.md for nginx. \
            Answers are valid for [ocsp] validity_minutes: re-export before nextUpdate, and after revocations.
            """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "The folder to write (created if missing).") var out: String
        @Option(help: ArgumentHelp("Only certificates issued, revoked or suspended at or after WHEN.", valueName: "when")) var since: String?

        func run() throws {
            try global.run {
                let sinceDate = try since.map { try ISOTime.parse($0) }
                let sandbox = try global.openSandbox()
                var logger = Logger(label: "jpki-sandbox.ocsp-export")
                logger.logLevel = .error
                let service = try RevocationService(sandbox: sandbox, logger: logger)
                let reporter = ProgressReporter(json: global.json, what: "answers")
                let started = Date()
                let result = try service.exportStatic(to: URL(fileURLWithPath: out), since: sinceDate) { done, total in
                    let s = Date().timeIntervalSince(started)
                    let rate = Double(done) / max(s, 0.001)
                    reporter.report(done, total, rate: rate, eta: rate > 0 ? Double(total - done) / rate : nil)
                }
                reporter.finish()
                return result
            }
        }
    }
}

/// `serve --ocsp-export DIR`: a thread that writes every answer at start and every half validity
/// (answers expire), and the answers of the certificates whose status changed (`status_log`) every
/// two seconds.
enum StaticOCSPKeeper {
    static func start(service: RevocationService, folder: URL, logger: Logger) {
        let thread = Thread {
            let period = Double(service.sandbox.config.effectiveOCSPValidityMinutes) * 30
            var lastFull = Date.distantPast
            var seq: Int64 = 0
            while true {
                do {
                    if Date().timeIntervalSince(lastFull) >= period {
                        let before = try service.lastStatusChange()
                        let r = try service.exportStatic(to: folder, since: nil)
                        seq = before
                        lastFull = Date()
                        logger.info("ocsp export", metadata: ["written": "\(r.written)", "folder": "\(folder.path)"])
                    } else {
                        let (r, next) = try service.exportStaticChanges(to: folder, after: seq)
                        seq = next
                        if let r { logger.info("ocsp export of changes", metadata: ["written": "\(r.written)"]) }
                    }
                } catch {
                    logger.error("ocsp export failed", metadata: ["error": "\(error)", "folder": "\(folder.path)"])
                }
                Thread.sleep(forTimeInterval: 2)
            }
        }
        thread.name = "ocsp-export"
        thread.start()
    }
}
