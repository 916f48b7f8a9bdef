import Foundation

/// A municipality (市区町村) the sandbox acts for: it names the certificate subject's second `L=`
/// and the CRL partition (distribution point) of the certificates it issues.
public struct Municipality: Sendable, Hashable, Codable {
    public let code: String
    public let name: String
    public let romanized: String
}

public struct Prefecture: Sendable, Hashable, Codable {
    public let code: String
    public let name: String
    public let romanized: String
    public let municipalities: [Municipality]
}

/// Where an address lies: its prefecture and municipality.
public struct Locality: Sendable, Hashable, Codable {
    public let prefecture: Prefecture.Summary
    public let municipality: Municipality
}

extension Prefecture {
    public struct Summary: Sendable, Hashable, Codable {
        public let code: String
        public let name: String
        public let romanized: String
    }
    public var summary: Summary { Summary(code: code, name: name, romanized: romanized) }
}

/// The table of prefectures and municipalities (`ca-config/municipalities.json`).
public struct MunicipalityTable: Sendable {
    public let prefectures: [Prefecture]

    private struct File: Decodable { let prefectures: [Prefecture] }

    public init(prefectures: [Prefecture]) { self.prefectures = prefectures }

    public init(json: Data) throws(DomainError) {
        do {
            self.prefectures = try JSONDecoder().decode(File.self, from: json).prefectures
        } catch {
            throw .invalidInput("the municipality table is not valid: \(error)")
        }
    }

    public func municipality(code: String) -> (Prefecture, Municipality)? {
        for p in prefectures { if let m = p.municipalities.first(where: { $0.code == code }) { return (p, m) } }
        return nil
    }

    /// Finds the prefecture and municipality an address starts with. The address must begin with a
    /// prefecture; the municipality is the longest table entry the rest begins with.
    public func locate(_ address: String, tableHint: String = "ca-config/municipalities.json") throws(DomainError) -> Locality {
        // Compare in full width, as the certificate stores the address.
        let text = JISX0208.fullWidth(address)
        guard let prefecture = prefectures.first(where: { text.hasPrefix($0.name) }) else {
            throw .invalidInput("the address \"\(address)\" does not start with one of the 47 prefectures (e.g. 東京都, 埼玉県); write it from the prefecture on")
        }
        let rest = text.dropFirst(prefecture.name.count)
        let candidates = prefecture.municipalities.filter { rest.hasPrefix($0.name) }
        guard let municipality = candidates.max(by: { $0.name.count < $1.name.count }) else {
            throw .invalidInput("the municipality of \"\(address)\" is not in the sandbox's table for \(prefecture.name); add it to the \"municipalities\" of \(prefecture.name) in \(tableHint) as {\"code\": \"<5-digit local government code>\", \"name\": \"<name as written in addresses>\", \"romanized\": \"<Name-shi|-ku|-machi|-mura>\"}")
        }
        return Locality(prefecture: prefecture.summary, municipality: municipality)
    }
}
