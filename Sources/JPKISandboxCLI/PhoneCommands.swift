import ArgumentParser
import Foundation
import JPKICA
import JPKIDomain
import JPKICard
import JPKIStore

/// `phone`: smartphone certificates (スマホ用電子証明書, seed 001).
struct PhoneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "phone", abstract: "Smartphone certificates (スマホ用電子証明書): the card's two certificates again, on a phone.",
        discussion: """
        A phone gets its own signing and authentication certificates, with new keys and its own PINs (signing 6–16 of \
        A–Z/0–9 locking after 5 wrong tries, authentication 4 digits locking after 3), issued under the same roots on the \
        strength of a good card signing certificate and its PIN. They end with the card's certificates. One phone per \
        person: a new phone revokes the previous one's (superseded). `pin verify SERIAL` checks a phone PIN; `cert show` \
        says form: android or iphone. What a card suspension or renewal does to a phone is the sandbox's choice, set in \
        [phone] of sandbox.toml (docs/operations.md).
        """,
        subcommands: [Issue.self, List.self, Show.self, Revoke.self, Suspend.self, Resume.self, ResetPIN.self, Insert.self, Eject.self])

    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue smartphone certificates from a card (needs a good card signing certificate and its PIN).",
            discussion: """
            A wrong --card-sign-pin costs a try on the card's signing PIN, as any wrong PIN does. A previous phone of the \
            same person is revoked (superseded). Secrets: --card-sign-pin, --sign-pin and --auth-pin each take - (one line \
            of standard input each, in that order) or come from $JPKI_CARD_SIGN_PIN, $JPKI_SIGN_PIN, $JPKI_AUTH_PIN. Example:
              jpki-sandbox phone issue --card 1 --platform android --card-sign-pin ABC123 --sign-pin PHONE1 --auth-pin 5678
            """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "The card id whose signing certificate vouches for the phone.") var card: Int64
        @Option(help: ArgumentHelp("The phone's platform.", valueName: "android|iphone")) var platform: String
        @Option(help: SecretInput.help("The card's signing PIN.", option: "card-sign-pin")) var cardSignPin: String?
        @Option(help: SecretInput.help("The phone signing certificate's PIN (6–16 of A–Z and 0–9, mixing both).", option: "sign-pin")) var signPin: String?
        @Option(help: SecretInput.help("The phone authentication certificate's PIN (4 digits).", option: "auth-pin")) var authPin: String?

        func run() throws {
            try global.run {
                let platform = try PhonePlatform(parsing: platform)
                let cardPIN = try SecretInput.required(cardSignPin, option: "card-sign-pin")
                let sign = try SecretInput.required(signPin, option: "sign-pin")
                let auth = try SecretInput.required(authPin, option: "auth-pin")
                let sandbox = try global.openSandbox()
                let change = try sandbox.issuePhone(cardID: card, platform: platform, cardSignPIN: cardPIN, signPIN: sign, authPIN: auth)
                return PhoneChangeResource(change, now: try sandbox.now())
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List phones, optionally of one resident or card.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this resident's phones.") var resident: Int64?
        @Option(help: "Only the phones issued from this card.") var card: Int64?

        func run() throws {
            try global.run {
                let sandbox = try global.openSandbox()
                let now = try sandbox.now()
                return PhoneListResource(try sandbox.phones(residentID: resident, cardID: card).map { PhoneDetailResource($0, now: now) })
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a phone and its certificates.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Phone id.") var id: Int64

        func run() throws {
            try global.run {
                let sandbox = try global.openSandbox()
                return PhoneDetailResource(try sandbox.phone(id: id), now: try sandbox.now())
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a phone's certificates (the card's stay valid).",
            discussion: "REASON as for `cert revoke`: an RFC 5280 name or a window event (lost, stolen → keyCompromise; stop → cessationOfOperation). Suspension is `phone suspend`.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Phone id.") var id: Int64
        @Option(help: "Why. Default: cessationOfOperation.") var reason: String = "cessationOfOperation"

        func run() throws {
            try global.run {
                let request = try RevocationRequest(parsing: reason)
                let sandbox = try global.openSandbox()
                return PhoneDetailResource(try sandbox.revokePhone(id: id, request: request), now: try sandbox.now())
            }
        }
    }

    struct Suspend: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Suspend a lost phone (一時保留): both its certificates go on hold (certificateHold).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Phone id.") var id: Int64

        func run() throws {
            try global.run {
                let sandbox = try global.openSandbox()
                return PhoneDetailResource(try sandbox.suspendPhone(id: id), now: try sandbox.now())
            }
        }
    }

    struct Resume: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Release a found phone: the authentication certificate's hold is lifted, the signing certificate is reissued.",
            discussion: """
            As the J-LIS lost-phone page says, only the authentication certificate comes back; the held signing certificate \
            is revoked (superseded) and a new one, with a new key, is issued on the strength of the card's signing \
            certificate and its PIN (a wrong one costs a try on the card). --sign-pin sets the new certificate's PIN; \
            without it the phone's current signing PIN is kept.
            """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Phone id.") var id: Int64
        @Option(help: SecretInput.help("The card's signing PIN.", option: "card-sign-pin")) var cardSignPin: String?
        @Option(help: SecretInput.help("The new phone signing certificate's PIN (optional).", option: "sign-pin")) var signPin: String?

        func run() throws {
            try global.run {
                let cardPIN = try SecretInput.required(cardSignPin, option: "card-sign-pin")
                let sign = try SecretInput.value(signPin, option: "sign-pin")
                let sandbox = try global.openSandbox()
                return PhoneChangeResource(try sandbox.resumePhone(id: id, cardSignPIN: cardPIN, signPIN: sign), now: try sandbox.now())
            }
        }
    }

    struct ResetPIN: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-pin",
            abstract: "Reset a forgotten or locked phone PIN with the card and its signing PIN (the tries are cleared).",
            discussion: "A wrong --card-sign-pin costs a try on the card. `pin reset` at the window refuses a phone certificate.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Phone id.") var id: Int64
        @Option(help: ArgumentHelp("Which phone PIN.", valueName: "sign|auth")) var kind: String
        @Option(help: SecretInput.help("The card's signing PIN.", option: "card-sign-pin")) var cardSignPin: String?
        @Option(help: SecretInput.help("The new phone PIN.", option: "new-pin")) var newPin: String?

        func run() throws {
            try global.run {
                guard let k = CertificateKind(rawValue: kind) else { throw SandboxError.invalid("--kind must be sign or auth") }
                let cardPIN = try SecretInput.required(cardSignPin, option: "card-sign-pin")
                let new = try SecretInput.required(newPin, option: "new-pin")
                return PINResultResource(try global.openSandbox().resetPhonePIN(id: id, kind: k, cardSignPIN: cardPIN, newPIN: new))
            }
        }
    }

    /// `phone insert`: the phone's JPKI applet in pcscd's virtual reader, as the card's (`card insert`).
    struct Insert: AsyncCommand {
        static let configuration = CommandConfiguration(
            abstract: "Insert a phone into pcscd's virtual reader (vpcd) as a virtual card answering the token name JPKIAPGPSETOKEN.",
            discussion: """
            The phone's JPKI applet: the same APDUs as `card insert`, with the phone's certificates and PINs (their own \
            counters) and EF 0006 = JPKIAPGPSETOKEN instead of the card's JPKIAPICCTOKEN2. Ends on SIGINT or SIGTERM \
            (`phone eject PHONE-ID`), or when the phone is revoked. See docs/virtual-card.md and `card insert --help`.
            """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Phone id.") var id: Int64
        @Option(help: ArgumentHelp("Where pcscd's vpcd driver listens for slot 0.", valueName: "host:port")) var reader = "127.0.0.1:35963"
        @Option(help: "The reader slot: adds N to the port (slot 1 is 35964).") var slot = 0

        func runAsync() async throws {
            let (host, port) = try CardCommand.Insert.parse(reader: reader, slot: slot)
            try await CardCommand.Insert.insert(global: global, id: id, host: host, port: port, inserted: InsertedCards(phonesOf: global.sandboxHome),
                                                open: { sandbox in
                                                    let phone = try sandbox.phone(id: id).phone
                                                    guard phone.status != .revoked else {
                                                        throw SandboxError("card-unusable", "phone \(id) is revoked: it cannot be inserted; issue a new one with `phone issue`")
                                                    }
                                                    return try SandboxCardServices(sandbox: sandbox, phoneID: id)
                                                }, inService: { sandbox, id in try sandbox.phone(id: id).phone.status != .revoked })
        }
    }

    struct Eject: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take a phone out of its virtual reader (ends its `phone insert`).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Phone id.") var id: Int64

        func run() throws {
            try global.run {
                let pid = try InsertedCards(phonesOf: global.sandboxHome).eject(id)
                return PhoneEjected(phone: Int(id), ejected: true, pid: Int(pid))
            }
        }
    }
}

struct PhoneEjected: Codable { var phone: Int; var ejected: Bool; var pid: Int }
