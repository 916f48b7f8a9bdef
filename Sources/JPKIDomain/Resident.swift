import Foundation

/// A person registered at the sandbox's window, with the four basic details (基本4情報).
public struct Resident: Sendable, Hashable, Codable {
    public var id: Int64
    public var name: CertificateText
    public var dateOfBirth: LocalDate
    public var sex: Sex
    public var address: CertificateText
    public var locality: Locality
    /// 在留期間: the last day of a foreign resident's period of stay, which bounds the card.
    public var residenceUntil: LocalDate?
    /// 成年被後見人: an adult ward may not hold a signing certificate.
    public var adultWard: Bool

    public init(id: Int64, name: CertificateText, dateOfBirth: LocalDate, sex: Sex, address: CertificateText,
                locality: Locality, residenceUntil: LocalDate?, adultWard: Bool) {
        self.id = id; self.name = name; self.dateOfBirth = dateOfBirth; self.sex = sex
        self.address = address; self.locality = locality; self.residenceUntil = residenceUntil; self.adultWard = adultWard
    }
}

/// The details a window clerk types in, checked and normalised for the certificate.
public struct ResidentApplication: Sendable {
    public let name: CertificateText
    public let dateOfBirth: LocalDate
    public let sex: Sex
    public let address: CertificateText
    public let locality: Locality
    public let residenceUntil: LocalDate?
    public let adultWard: Bool

    public init(name: String, birth: String, sex: String, address: String, residenceUntil: String?, adultWard: Bool,
                table: MunicipalityTable, today: LocalDate, tableHint: String = "ca-config/municipalities.json") throws(DomainError) {
        self.name = try NameRule.normalize(name)
        self.dateOfBirth = try SupportedDates.birth(parsing: birth, today: today)
        self.sex = try Sex(parsing: sex)
        let normalized = try AddressRule.normalize(address)
        self.locality = try table.locate(normalized.value, tableHint: tableHint)
        self.address = normalized
        if let residenceUntil {
            let until = try SupportedDates.day(try LocalDate(iso: residenceUntil), what: "--residence-until")
            guard until >= today else { throw .invalidInput("the period of stay ended on \(until), before today (\(today))") }
            self.residenceUntil = until
        } else {
            self.residenceUntil = nil
        }
        self.adultWard = adultWard
    }
}
