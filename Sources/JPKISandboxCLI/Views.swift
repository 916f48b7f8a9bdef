import Foundation
import JPKICA
import JPKIDomain
import JPKIStore
import OpenSSLKit

/// How records are shown, in one place, so that every command prints the same keys.
enum View {
    static func time(_ d: Date) -> JSON { .string(ISOTime.display(d)) }

    static func resident(_ r: Resident) -> JSON {
        var fields: [(String, JSON)] = [
            ("id", .int(Int(r.id))),
            ("name", .string(r.name.value)),
            ("nameFlags", .string(r.name.flags)),
            ("dateOfBirth", .string(r.dateOfBirth.description)),
            ("dateOfBirthCoded", .string(EraDate.encode(r.dateOfBirth))),
            ("sex", .string(r.sex.rawValue)),
            ("address", .string(r.address.value)),
            ("addressFlags", .string(r.address.flags)),
            ("prefecture", .string(r.locality.prefecture.name)),
            ("municipality", .string(r.locality.municipality.name)),
            ("municipalityCode", .string(r.locality.municipality.code)),
            ("residenceUntil", .optional(r.residenceUntil?.description)),
            ("adultWard", .bool(r.adultWard)),
        ]
        if r.name.hasSubstitutions || r.address.hasSubstitutions {
            fields.append(("substituted", .string("characters outside JIS X 0208 were replaced by 〓 and flagged 1")))
        }
        return .object(fields)
    }

    static func certificateSummary(_ c: CertificateRecord, now: Date) -> JSON {
        var fields: [(String, JSON)] = [
            ("serial", .string(c.serial)),
            ("kind", .string(c.kind.rawValue)),
            ("status", .string(c.status(at: now))),
        ]
        if let reason = c.reason { fields.append(("reason", .string(reason))) }
        if let at = c.revokedAt { fields.append(("revokedAt", time(at))) }
        fields += [
            ("notBefore", time(c.notBefore)),
            ("notAfter", time(c.notAfter)),
            ("cardId", .int(Int(c.cardID))),
            ("residentId", .int(Int(c.residentID))),
        ]
        return .object(fields)
    }

    static func certificate(_ c: CertificateRecord, now: Date) throws -> JSON {
        guard case .object(var fields) = certificateSummary(c, now: now) else { return .null }
        let cert = try Certificate(der: c.der)
        fields += [
            ("subject", .string(cert.subjectText)),
            ("issuer", .string(cert.issuerText)),
            ("pinTriesLeft", .int(max(0, PINPolicy.maxFailures(c.kind) - c.pinFailures))),
            ("locked", .bool(c.locked)),
            ("rootGeneration", .int(c.rootGeneration)),
            ("pem", .string(try cert.pem())),
        ]
        return .object(fields)
    }

    static func card(_ card: CardRecord, certificates: [CertificateRecord], now: Date) -> JSON {
        .object([
            ("card", .object([
                ("id", .int(Int(card.id))),
                ("residentId", .int(Int(card.residentID))),
                ("status", .string(card.notAfter < now && card.status == .active ? "expired" : card.status.rawValue)),
                ("issuedAt", time(card.issuedAt)),
                ("notAfter", time(card.notAfter)),
            ])),
            ("certificates", .array(certificates.map { certificateSummary($0, now: now) })),
        ])
    }
}
