import DERKit
import Foundation
import JPKIDomain
import JPKIStore
import OpenSSLKit

/// What `card issue` (and `card renew`) made.
public struct CardIssuance: Sendable {
    public let card: CardRecord
    public let certificates: [CertificateRecord]
    /// Why a certificate kind was not issued (e.g. no signing certificate for a 14-year-old).
    public let notIssued: [CertificateKind: String]
    public let cardLimit: LastValidDay
    public let limits: [CertificateKind: LastValidDay]
    public let fee: Int
    /// Serials revoked by the same operation (the old card's, on renewal).
    public let revoked: [String]
}

extension Sandbox {
    /// 暗証番号: a salted PBKDF2-HMAC-SHA256 hash with the configured cost.
    func hashPIN(_ pin: String) throws -> PINHash {
        let salt = try Crypto.randomBytes(16)
        return PINHash(salt: salt, hash: try Crypto.pbkdf2SHA256(password: pin, salt: salt, iterations: config.pinHashIterations),
                       iterations: config.pinHashIterations)
    }

    /// Hashes several PINs at once, one per core: PBKDF2 is deliberately slow and the hashes are independent.
    func hashPINs(_ pins: [String]) throws -> [PINHash] {
        final class Slots: @unchecked Sendable {
            var results: [Result<PINHash, any Error>?]
            init(_ n: Int) { results = Array(repeating: nil, count: n) }
        }
        let slots = Slots(pins.count)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: pins.count) { i in
            let r = Result { try hashPIN(pins[i]) }
            lock.lock(); slots.results[i] = r; lock.unlock()
        }
        return try slots.results.map { try $0!.get() }
    }

    /// Makes a certificate (new key pair, signed leaf) ready to store; nothing is written.
    /// Key generation and signing happen outside any transaction: they are the slow part.
    /// `form` android or iphone makes a smartphone certificate (the phone policy OID), for `phoneID`.
    /// `key`: a key made earlier (the key pool, a shared key) with its PEM; else one from `keySource`.
    /// `serial`: a given serial (populate's, derived from its seed); else a random one.
    func mint(_ kind: CertificateKind, resident: Resident, cardID: Int64, pin: PINHash, notBefore: Date, limit: LastValidDay,
              form: CertificateForm = .card, phoneID: Int64? = nil,
              key given: (key: PrivateKey, pem: String)? = nil, serial givenSerial: [UInt8]? = nil) throws -> CertificateRecord {
        let root = root(kind)
        guard notBefore >= root.certificate.notBefore else {
            throw SandboxError.refused("the sandbox clock (\(ISOTime.display(notBefore))) is before the \(kind.rawValue) root was created (\(ISOTime.display(root.certificate.notBefore))); a certificate cannot predate its issuer")
        }
        guard notBefore <= root.certificate.notAfter else {
            throw SandboxError.refused("the \(kind.rawValue) root expired on \(ISOTime.display(root.certificate.notAfter)) (the sandbox clock reads \(ISOTime.display(notBefore))); an expired root issues nothing")
        }
        let key = try given?.key ?? keySource.nextKey()
        let spki = try key.publicKeyDER()
        let ski = try KeyIdentifier.method1(subjectPublicKeyInfo: spki)
        let serial = try givenSerial ?? Self.randomSerial()
        let cn = CertificateProfile.commonName(requestedAt: notBefore, sequence: Int(serial[1]) << 8 | Int(serial[2]),
                                               municipalityCode: resident.locality.municipality.code)
        var template = CertificateTemplate(
            serial: serial, notBefore: notBefore, notAfter: limit.notAfter, issuer: config.root(kind).subject,
            subject: CertificateProfile.leafSubject(kind: kind, locality: resident.locality, commonName: cn),
            subjectKeyPair: key,
            extensions: CertificateProfile.leafExtensions(kind: kind, config: config, resident: resident,
                                                          subjectKeyIdentifier: ski, authorityKeyIdentifier: root.keyIdentifier,
                                                          issuerAlternativeName: root.alternativeName, rootGeneration: root.generation, form: form))
        template.issuerDER = root.subjectDER
        let der = try root.signer.signDER(template)
        return CertificateRecord(
            serial: serial.hexString, kind: kind, cardID: cardID, residentID: resident.id,
            municipalityCode: resident.locality.municipality.code, notBefore: notBefore, notAfter: limit.notAfter,
            der: der, keyPEM: try given?.pem ?? key.pem(), pin: pin, pinFailures: 0, state: .issued, revokedAt: nil, reason: nil,
            issuedAt: notBefore, rootGeneration: root.generation, form: form, phoneID: phoneID)
    }

    /// What a card issued today to `resident` carries: why no signing certificate (nil: it has one),
    /// the card's last valid day and the certificates'. The one place issuance asks the validity rules.
    static func issuancePlan(resident: Resident, today: LocalDate) -> (signRefusal: String?, card: LastValidDay, auth: LastValidDay, sign: LastValidDay) {
        let signRefusal = Eligibility.refusal(for: .sign, birth: resident.dateOfBirth, adultWard: resident.adultWard, on: today)
        let cardLimit = ValidityRule.card(birth: resident.dateOfBirth, issuedOn: today, residenceUntil: resident.residenceUntil)
        let authLimit = ValidityRule.certificate(kind: .auth, birth: resident.dateOfBirth, issuedOn: today, renewal: false,
                                                 card: cardLimit, authentication: nil, residenceUntil: resident.residenceUntil)
        let signLimit = ValidityRule.certificate(kind: .sign, birth: resident.dateOfBirth, issuedOn: today, renewal: false,
                                                 card: cardLimit, authentication: authLimit, residenceUntil: resident.residenceUntil)
        return (signRefusal, cardLimit, authLimit, signLimit)
    }

    /// The window's checks on who applies, shared by every operation on a resident.
    func checkApplicant(_ applicant: Applicant, resident: Resident, today: LocalDate, operation: String) throws {
        if let refusal = WindowRule.applicantRefusal(age: Birthday.age(of: resident.dateOfBirth, on: today), applicantIsLegalRepresentative: applicant == .legalRepresentative) {
            throw self.refusal(operation, applicant: applicant, residentID: resident.id, refusal)
        }
    }

    /// Issues a card with its certificates (card issue): the authentication certificate always, the
    /// signing certificate when the holder may have one. One transaction; nothing is stored on failure.
    public func issueCard(residentID: Int64, signPIN: String?, authPIN: String, applicant: Applicant = .self) throws -> CardIssuance {
        let resident = try resident(id: residentID)
        let now = try now()
        let existing = try store.read { try $0.cards(residentID: residentID) }.filter { $0.status != .revoked && $0.notAfter >= now }
        if let card = existing.first {
            throw refusal("card.issue", applicant: applicant, residentID: residentID,
                          "resident \(residentID) already holds card \(card.id), valid until \(ISOTime.display(card.notAfter)); renew it (`card renew \(card.id)`) or revoke it first (`card revoke \(card.id)`)")
        }
        return try makeCard(resident: resident, signPIN: signPIN, authPIN: authPIN, applicant: applicant, replacing: nil, operation: "card.issue")
    }

    /// カードの更新: a new card with new certificates from three months before the card's expiry;
    /// the old card and its certificates are revoked (superseded) in the same transaction.
    public func renewCard(id: Int64, signPIN: String?, authPIN: String, applicant: Applicant = .self) throws -> CardIssuance {
        let card = try card(id: id)
        let resident = try resident(id: card.residentID)
        let today = LocalDate(try now())
        guard card.status != .revoked else {
            throw refusal("card.renew", applicant: applicant, residentID: card.residentID, "card \(id) is revoked; issue a new card with `card issue`")
        }
        if case .beforeWindow(let opens) = RenewalWindow.position(today: today, lastValidDay: LocalDate(card.notAfter)) {
            throw refusal("card.renew", applicant: applicant, residentID: card.residentID,
                          "card \(id) expires on \(LocalDate(card.notAfter)); renewal opens on \(opens), three months before (seed 004)")
        }
        return try makeCard(resident: resident, signPIN: signPIN, authPIN: authPIN, applicant: applicant, replacing: card, operation: "card.renew")
    }

    func makeCard(resident: Resident, signPIN: String?, authPIN: String, applicant: Applicant, replacing old: CardRecord?, operation: String) throws -> CardIssuance {
        let now = try now()
        let today = LocalDate(now)
        try checkApplicant(applicant, resident: resident, today: today, operation: operation)
        if let stay = resident.residenceUntil, stay < today {
            throw refusal(operation, applicant: applicant, residentID: resident.id, "the holder's period of stay ended on \(stay); no card can be issued")
        }
        let (signRefusal, cardLimit, authLimit, signLimit) = Self.issuancePlan(resident: resident, today: today)
        try PINPolicy.validate(authPIN, for: .auth)
        if signRefusal == nil {
            guard let signPIN else {
                throw SandboxError.invalid("the holder may have a signing certificate: give its PIN with --sign-pin (6–16 of A–Z and 0–9, mixing both)")
            }
            try PINPolicy.validate(signPIN, for: .sign)
        }
        var limits: [CertificateKind: LastValidDay] = [.auth: authLimit]
        var pins: [(CertificateKind, String)] = [(.auth, authPIN)]
        if signRefusal == nil, let signPIN {
            limits[.sign] = signLimit
            pins.append((.sign, signPIN))
        }
        let plans = try zip(pins.map(\.0), hashPINs(pins.map(\.1))).map { ($0, $1) }
        // Keys made in advance (`keys fill`) when the pool has some: claimed in the transaction below.
        // 800 yen for a card reissued because the last one was lost, plus 200 for its certificates (002, 004).
        // One read transaction for both.
        let (pooled, lostBefore) = try store.read { tx in
            (try tx.poolKeys(limit: plans.count), old == nil ? try tx.lastRevokedCardWasLost(residentID: resident.id) : false)
        }
        let pooledKeys = try pooled.map { (key: try PrivateKey(pem: $0.pem), pem: $0.pem) }
        // Certificates are minted with card id 0 and given the real id in the transaction.
        let minted = try plans.enumerated().map { i, plan in
            try mint(plan.0, resident: resident, cardID: 0, pin: plan.1, notBefore: now, limit: limits[plan.0]!,
                     key: i < pooledKeys.count ? pooledKeys[i] : nil)
        }
        let fee = lostBefore ? WindowRule.cardReissueAfterLoss + WindowRule.certificateReissueAfterLoss : 0

        let result = try store.write { tx in
            if old == nil, let live = try tx.cards(residentID: resident.id).first(where: { $0.status != .revoked && $0.notAfter >= now }) {
                throw SandboxError.refused("resident \(resident.id) already holds card \(live.id) (issued while this request was being prepared)")
            }
            var revoked: [String] = []
            if let old {
                for cert in try tx.certificates(cardID: old.id) where cert.state != .revoked && cert.notAfter >= now {
                    try tx.setCertificateState(cert.serial, .revoked, reason: RevocationReason.superseded.rawValue, at: now)
                    revoked.append(cert.serial)
                }
                revoked += try cardRenewalReachesPhones(tx, cardID: old.id, kinds: [.sign, .auth], at: now)
                try tx.setCardStatus(old.id, .revoked, at: now)
            }
            for key in pooled where !(try tx.takePoolKey(key.id)) {
                throw SandboxError("key-pool-busy", "a key of the pool was taken by another issuance at the same moment; nothing was stored, run the command again")
            }
            let card = try tx.insertCard(residentID: resident.id, issuedAt: now, notAfter: cardLimit.notAfter)
            var records: [CertificateRecord] = []
            for m in minted {
                let record = m.onCard(card.id)
                try tx.insertCertificate(record)
                records.append(record)
            }
            try Audit.append(tx, at: now, operation: operation, applicant: applicant.rawValue, residentID: resident.id,
                             serials: records.map(\.serial) + revoked, fee: fee, outcome: "ok",
                             detail: "card \(card.id)" + (old.map { "; replaces card \($0.id)" } ?? "") + (signRefusal.map { "; \($0)" } ?? ""))
            return CardIssuance(card: card, certificates: records, notIssued: signRefusal.map { [.sign: $0] } ?? [:],
                                cardLimit: cardLimit, limits: limits, fee: fee, revoked: revoked)
        }
        return result
    }

    public func card(id: Int64) throws -> CardRecord {
        guard let c = try store.read({ try $0.card(id: id) }) else {
            throw SandboxError.notFound("no card with id \(id)")
        }
        return c
    }
}

extension CertificateRecord {
    func onCard(_ id: Int64) -> CertificateRecord {
        CertificateRecord(serial: serial, kind: kind, cardID: id, residentID: residentID, municipalityCode: municipalityCode,
                          notBefore: notBefore, notAfter: notAfter, der: der, keyPEM: keyPEM, pin: pin, pinFailures: pinFailures,
                          state: state, revokedAt: revokedAt, reason: reason, issuedAt: issuedAt, rootGeneration: rootGeneration, form: form, phoneID: phoneID)
    }
}
