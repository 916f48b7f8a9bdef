import DERKit
import Foundation
import JPKIDomain
import JPKIStore
import OpenSSLKit

/// What `card issue` made.
public struct CardIssuance: Sendable {
    public let card: CardRecord
    public let certificates: [CertificateRecord]
    /// Why a certificate kind was not issued (e.g. no signing certificate for a 14-year-old).
    public let notIssued: [CertificateKind: String]
    public let cardLimit: LastValidDay
    public let limits: [CertificateKind: LastValidDay]
}

/// A certificate ready to be stored: key and PIN hash made outside the transaction (they are slow).
struct PreparedCertificate {
    let kind: CertificateKind
    let key: PrivateKey
    let keyPEM: String
    let spki: [UInt8]
    let ski: [UInt8]
    let pin: PINHash
}

extension Sandbox {
    /// 暗証番号: a salted PBKDF2-HMAC-SHA256 hash with the configured cost.
    func hashPIN(_ pin: String) throws -> PINHash {
        let salt = try Crypto.randomBytes(16)
        return PINHash(salt: salt, hash: try Crypto.pbkdf2SHA256(password: pin, salt: salt, iterations: config.pinHashIterations),
                       iterations: config.pinHashIterations)
    }

    func prepare(_ kind: CertificateKind, pin: String) throws -> PreparedCertificate {
        let key = try keySource.nextKey()
        let spki = try key.publicKeyDER()
        return PreparedCertificate(kind: kind, key: key, keyPEM: try key.pem(), spki: spki,
                                   ski: try KeyIdentifier.method1(subjectPublicKeyInfo: spki), pin: try hashPIN(pin))
    }

    /// Signs a leaf of the JPKI profile for `resident`.
    func signLeaf(_ p: PreparedCertificate, resident: Resident, notBefore: Date, notAfter: Date) throws -> (serial: String, certificate: Certificate) {
        let root = root(p.kind)
        let serial = try Self.randomSerial()
        let cn = CertificateProfile.commonName(requestedAt: notBefore, sequence: Int(serial[1]) << 8 | Int(serial[2]),
                                               municipalityCode: resident.locality.municipality.code)
        let template = CertificateTemplate(
            serial: serial, notBefore: notBefore, notAfter: notAfter, issuer: config.root(p.kind).subject,
            subject: CertificateProfile.leafSubject(kind: p.kind, locality: resident.locality, commonName: cn),
            subjectPublicKey: p.spki,
            extensions: CertificateProfile.leafExtensions(kind: p.kind, config: config, resident: resident,
                                                          subjectKeyIdentifier: p.ski, authorityKeyIdentifier: root.keyIdentifier))
        let cert = try template.sign(with: root.key)
        return (serial.hexString, cert)
    }

    /// Issues a card with its certificates (card issue): the authentication certificate always, the
    /// signing certificate when the holder may have one. One transaction; nothing is stored on failure.
    public func issueCard(residentID: Int64, signPIN: String?, authPIN: String, applicant: Applicant = .self) throws -> CardIssuance {
        let now = try now()
        let today = LocalDate(now)
        let resident = try resident(id: residentID)

        // 003, 004: under-15s apply through a legal representative.
        let age = Birthday.age(of: resident.dateOfBirth, on: today)
        if age < Eligibility.signingMinimumAge && applicant == .self {
            throw SandboxError.refused("the holder is \(age): under-15s apply through a legal representative (--applicant legal-representative) (seeds 003, 004)")
        }
        if applicant == .agent {
            throw SandboxError.refused("a voluntary agent (任意代理人) cannot finish issuance at the window the same day (seeds 002, 003)")
        }
        if let stay = resident.residenceUntil, stay < today {
            throw SandboxError.refused("the holder's period of stay ended on \(stay); no card can be issued")
        }
        let existing = try store.read { try $0.cards(residentID: residentID) }.filter { $0.status != .revoked && $0.notAfter >= now }
        if let card = existing.first {
            throw SandboxError.refused("resident \(residentID) already holds card \(card.id), valid until \(ISOTime.display(card.notAfter)); revoke it first (`jpki-sandbox card revoke \(card.id)`)")
        }

        let signRefusal = Eligibility.refusal(for: .sign, birth: resident.dateOfBirth, adultWard: resident.adultWard, on: today)
        try PINPolicy.validate(authPIN, for: .auth)
        if signRefusal == nil {
            guard let signPIN else {
                throw SandboxError.invalid("the holder may have a signing certificate: give its PIN with --sign-pin (6–16 of A–Z and 0–9, mixing both)")
            }
            try PINPolicy.validate(signPIN, for: .sign)
        }

        let cardLimit = ValidityRule.card(birth: resident.dateOfBirth, issuedOn: today, residenceUntil: resident.residenceUntil)
        let authLimit = ValidityRule.certificate(kind: .auth, birth: resident.dateOfBirth, issuedOn: today, renewal: false,
                                                 card: cardLimit, authentication: nil, residenceUntil: resident.residenceUntil)
        var limits: [CertificateKind: LastValidDay] = [.auth: authLimit]
        var prepared = [try prepare(.auth, pin: authPIN)]
        if signRefusal == nil, let signPIN {
            limits[.sign] = ValidityRule.certificate(kind: .sign, birth: resident.dateOfBirth, issuedOn: today, renewal: false,
                                                     card: cardLimit, authentication: authLimit, residenceUntil: resident.residenceUntil)
            prepared.append(try prepare(.sign, pin: signPIN))
        }
        let signed = try prepared.map { p in (p, try signLeaf(p, resident: resident, notBefore: now, notAfter: limits[p.kind]!.notAfter)) }

        return try store.write { tx in
            let card = try tx.insertCard(residentID: residentID, issuedAt: now, notAfter: cardLimit.notAfter)
            var records: [CertificateRecord] = []
            for (p, (serial, cert)) in signed {
                let record = CertificateRecord(
                    serial: serial, kind: p.kind, cardID: card.id, residentID: residentID,
                    municipalityCode: resident.locality.municipality.code, notBefore: now, notAfter: limits[p.kind]!.notAfter,
                    der: try cert.der(), keyPEM: p.keyPEM, pin: p.pin, pinFailures: 0, state: .issued, revokedAt: nil, reason: nil,
                    issuedAt: now)
                try tx.insertCertificate(record)
                records.append(record)
            }
            try Audit.append(tx, at: now, operation: "card.issue", applicant: applicant.rawValue, residentID: residentID,
                             serials: records.map(\.serial), fee: 0, outcome: "ok",
                             detail: "card \(card.id)" + (signRefusal.map { "; \($0)" } ?? ""))
            return CardIssuance(card: card, certificates: records, notIssued: signRefusal.map { [.sign: $0] } ?? [:],
                                cardLimit: cardLimit, limits: limits)
        }
    }

    public func card(id: Int64) throws -> CardRecord {
        guard let c = try store.read({ try $0.card(id: id) }) else {
            throw SandboxError.notFound("no card with id \(id)")
        }
        return c
    }
}
