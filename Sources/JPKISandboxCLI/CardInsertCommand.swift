import ArgumentParser
import Foundation
import JPKICA
import JPKICard
import Logging

extension CardCommand {
    /// `card insert`: the card in pcscd's virtual reader (vsmartcard's vpcd), for PC/SC and OpenSC.
    struct Insert: AsyncCommand {
        static let configuration = CommandConfiguration(
            abstract: "Insert a card into pcscd's virtual reader (vpcd): PC/SC programs and OpenSC then see a My Number Card.",
            discussion: """
            Dials the vpcd driver of a running pcscd (start one with scripts/pcsc start) and answers the JPKI applet's \
            APDUs until SIGINT or SIGTERM (`card eject CARD-ID`), or until the card is revoked (given up). PIN tries, \
            locks, suspension and revocation are the register's: the CLI, `serve` and the card share them. A closed \
            connection (pcscd restarted) is dialled again every second.
            Slot N is reader `Virtual PCD 00 0N`, port 35963+N (Debian's vpcd has slots 0 and 1).
            JPKI_LOG_LEVEL=debug logs one line per APDU on stderr; PINs are never logged.
            See docs/virtual-card.md.
            """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Card id.") var id: Int64
        @Option(help: ArgumentHelp("Where pcscd's vpcd driver listens for slot 0.", valueName: "host:port")) var reader = "127.0.0.1:35963"
        @Option(help: "The reader slot: adds N to the port (slot 1 is 35964).") var slot = 0

        func runAsync() async throws {
            let (host, port) = try Self.parse(reader: reader, slot: slot)
            try await Self.insert(global: global, id: id, host: host, port: port, inserted: InsertedCards(home: global.sandboxHome),
                                  open: { sandbox in
                                      _ = try sandbox.insertableCard(id: id)
                                      return SandboxCardServices(sandbox: sandbox, cardID: id)
                                  }, inService: { sandbox, id in try sandbox.cardInService(id: id) })
        }

        /// Serves a card's (or a phone's) applet in vpcd until stopped; shared by `card insert` and `phone insert`.
        static func insert(global: GlobalOptions, id: Int64, host: String, port: Int, inserted: InsertedCards,
                           open: (Sandbox) throws -> SandboxCardServices,
                           inService: @escaping @Sendable (Sandbox, Int64) throws -> Bool) async throws {
            let address = "\(host):\(port)"
            let noun = inserted.noun
            let level = ProcessInfo.processInfo.environment["JPKI_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
            var logger = Logger(label: "jpki-sandbox.\(noun)")
            logger.logLevel = level
            let sandbox: Sandbox
            let services: SandboxCardServices
            do {
                sandbox = try global.openSandbox()
                services = try open(sandbox)
                try inserted.claim(id, reader: address)
            } catch {
                try global.report(error)
            }
            defer { inserted.release(id) }
            let reader = VirtualCardReader(host: host, port: port, services: services, logger: logger)
            let json = global.json
            @Sendable func event(_ name: String, reader: String? = nil, pid: Int? = nil, reason: String? = nil) -> CardEvent {
                noun == "phone" ? CardEvent(card: nil, event: name, reader: reader, pid: pid, reason: reason, phone: Int(id))
                                : CardEvent(card: Int(id), event: name, reader: reader, pid: pid, reason: reason)
            }
            let why = WhyStopped()

            // SIGINT and SIGTERM eject the card.
            signal(SIGINT, SIG_IGN); signal(SIGTERM, SIG_IGN)
            let signals = [SIGINT, SIGTERM].map { number in
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { why.set(number == SIGINT ? "interrupted" : "ejected"); reader.stop() }
                source.resume()
                return source
            }
            defer { signals.forEach { $0.cancel() } }
            // A card given up (card revoke), or a revoked phone, leaves the reader.
            let watch = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    if let inService = try? inService(sandbox, id), !inService {
                        why.set("revoked"); reader.stop(); return
                    }
                }
            }
            defer { watch.cancel() }

            await reader.run(connected: {
                Self.say(json, event("inserted", reader: address, pid: Int(getpid())),
                         "\(noun) \(id) inserted into vpcd at \(address) (pid \(getpid()))")
            }, unreachable: { error in
                FileHandle.standardError.write(Data("warning: no vpcd reader at \(address) (\(error)); is pcscd running (scripts/pcsc start)? retrying every second\n".utf8))
            })
            Self.say(json, event("removed", reason: why.value),
                     "\(noun) \(id) removed (\(why.value))")
        }

        static func parse(reader: String, slot: Int) throws -> (String, Int) {
            var text = reader
            var host: String
            if text.hasPrefix("["), let close = text.firstIndex(of: "]") { // [::1]:35963
                host = String(text[text.index(after: text.startIndex)..<close])
                text = String(text[text.index(after: close)...])
            } else if let colon = text.lastIndex(of: ":") {
                host = String(text[..<colon])
                text = String(text[colon...])
            } else {
                host = ""
            }
            guard text.hasPrefix(":"), let base = Int(text.dropFirst()), !host.isEmpty, (1...65535).contains(base) else {
                throw ValidationError("--reader must be HOST:PORT, e.g. 127.0.0.1:35963, not \"\(reader)\"")
            }
            guard slot >= 0, base + slot <= 65535 else { throw ValidationError("--slot must be 0 or more, with 35963+N a valid port; not \(slot)") }
            return (host, base + slot)
        }

        static func say(_ json: Bool, _ event: CardEvent, _ text: String) {
            let line = json ? ((try? ResourceJSON.string(event)) ?? text) : text
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }

    }

    /// `card eject`: takes a card out of its reader (SIGTERM to its `card insert`, found by its pid file).
    struct Eject: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take a card out of its virtual reader (ends its `card insert`).",
            discussion: "`card insert` writes HOME/cards/CARD-ID.pid; eject sends that pid SIGTERM and waits until the card is out.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Card id.") var id: Int64

        func run() throws {
            try global.run {
                let pid = try InsertedCards(home: global.sandboxHome).eject(id)
                return CardEjected(card: Int(id), ejected: true, pid: Int(pid))
            }
        }
    }
}

/// Why `card insert` ended, set once by whichever stops it first.
final class WhyStopped: @unchecked Sendable {
    let lock = NSLock()
    var reason: String?
    func set(_ r: String) { lock.lock(); if reason == nil { reason = r }; lock.unlock() }
    var value: String { lock.lock(); defer { lock.unlock() }; return reason ?? "stopped" }
}

/// A line `card insert --json` (or `phone insert --json`, with `phone` instead of `card`) prints when
/// the card goes in or comes out.
struct CardEvent: Codable {
    var card: Int?
    var event: String
    var reader: String?
    var pid: Int?
    var reason: String?
    var phone: Int? = nil
}

struct CardEjected: Codable { var card: Int; var ejected: Bool; var pid: Int }
