import DERKit
import Foundation
import JPKIDomain

/// Reads `ca-config/sandbox.toml`: a small, strict subset of TOML (tables, strings, integers,
/// booleans, arrays of strings). Unknown keys are errors, so a typo never passes silently.
public struct ConfigFile: Sendable {
    public let configuration: CAConfiguration
    /// The municipality table the configuration names, resolved against the file's folder.
    public let municipalitiesPath: URL
    /// `[roots] generations`: the days (JST) on which each root generation was made, oldest first;
    /// `init` makes them all (each at 00:00 JST of its day), as if `ca rollover` had run on each day
    /// after the first. Empty: one generation, made at `init`'s time.
    public let rootGenerationDates: [LocalDate]
    /// `[database] url`: the register in PostgreSQL (`postgres://…`) instead of the home's SQLite;
    /// `init` records it in the home (docs/postgres.md). Nil: SQLite.
    public let databaseURL: String?

    public init(path: URL) throws(SandboxError) {
        let text: String
        do { text = try String(contentsOf: path, encoding: .utf8) } catch {
            throw .config("cannot read the configuration \(path.path): \(error.localizedDescription)")
        }
        let tables = try TOMLSubset.parse(text, file: path.lastPathComponent)
        var config = CAConfiguration.defaults
        var municipalities = "municipalities.json"
        var generationDates: [LocalDate] = []
        var databaseURL: String?

        func strings(_ v: TOMLSubset.Value, _ key: String) throws(SandboxError) -> [String] {
            guard case .array(let a) = v else { throw .config("\(key) must be an array of strings") }
            return a
        }
        func string(_ v: TOMLSubset.Value, _ key: String) throws(SandboxError) -> String {
            guard case .string(let s) = v else { throw .config("\(key) must be a string") }
            return s
        }
        func int(_ v: TOMLSubset.Value, _ key: String) throws(SandboxError) -> Int {
            guard case .integer(let i) = v, i > 0 else { throw .config("\(key) must be a positive integer") }
            return i
        }
        func bool(_ v: TOMLSubset.Value, _ key: String) throws(SandboxError) -> Bool {
            guard case .boolean(let b) = v else { throw .config("\(key) must be true or false") }
            return b
        }
        func name(_ v: TOMLSubset.Value, _ key: String) throws(SandboxError) -> DistinguishedName {
            do { return try DistinguishedName(parsing: try strings(v, key)) } catch let e as DERError {
                throw .config("\(key): \(e)")
            } catch { throw .config("\(key): \(error)") }
        }
        func oid(_ v: TOMLSubset.Value, _ key: String) throws(SandboxError) -> String {
            let s = try string(v, key)
            guard DER.oid(s) != nil else { throw .config("\(key) = \"\(s)\" is not a dotted OID") }
            return s
        }

        /// `[phone]` settings start from the defaults.
        func with(_ phone: PhoneConfiguration?, _ change: (inout PhoneConfiguration) -> Void) -> PhoneConfiguration {
            var p = phone ?? .defaults
            change(&p)
            return p
        }

        for (table, entries) in tables {
            for (key, value) in entries {
                let full = table.isEmpty ? key : "\(table).\(key)"
                switch full {
                case "sandbox.public_base_url":
                    let url = try string(value, full)
                    guard url.hasPrefix("http://") || url.hasPrefix("https://") else { throw .config("\(full) must be an http:// or https:// URL") }
                    config.publicBaseURL = url
                case "sandbox.municipalities": municipalities = try string(value, full)
                case "sandbox.pin_hash_iterations": config.pinHashIterations = try int(value, full)
                case "sandbox.crl_validity_hours": config.crlValidityHours = try int(value, full)
                case "ocsp.in_certificates": config.ocspInCertificates = try bool(value, full)
                case "ocsp.url": config.ocspURL = try string(value, full)
                case "ocsp.responder":
                    let text = try string(value, full)
                    guard let mode = OCSPResponderMode(rawValue: text) else { throw .config("\(full) must be \"root\" or \"delegated\", not \"\(text)\"") }
                    config.ocspResponder = mode
                case "ocsp.validity_minutes": config.ocspValidityMinutes = try int(value, full)
                case "ocsp.include_signer_certificate": config.ocspIncludeSignerCertificate = try bool(value, full)
                case "crl.distribution_point":
                    let text = try string(value, full)
                    guard let mode = CRLPointMode(rawValue: text) else { throw .config("\(full) must be \"partition\" or \"full\", not \"\(text)\"") }
                    config.crlDistributionPoint = mode
                case "names.alternative_name": config.alternativeName = try name(value, full)
                case "roots.sign.subject": config.sign.subject = try name(value, full)
                case "roots.sign.policy_oid": config.sign.policyOID = try oid(value, full)
                case "roots.sign.cps_url": config.sign.cpsURL = try string(value, full)
                case "roots.sign.validity_years": config.sign.validityYears = try int(value, full)
                case "roots.sign.alternative_name": config.sign.alternativeName = try name(value, full)
                case "roots.auth.alternative_name": config.auth.alternativeName = try name(value, full)
                case "roots.auth.subject": config.auth.subject = try name(value, full)
                case "roots.auth.policy_oid": config.auth.policyOID = try oid(value, full)
                case "roots.auth.cps_url": config.auth.cpsURL = try string(value, full)
                case "roots.auth.validity_years": config.auth.validityYears = try int(value, full)
                case "roots.generations":
                    let texts = try strings(value, full)
                    var dates: [LocalDate] = []
                    for text in texts {
                        guard let day = try? LocalDate(iso: text) else { throw .config("\(full): \"\(text)\" is not a date YYYY-MM-DD") }
                        if let last = dates.last, day <= last { throw .config("\(full): the dates must increase (\(text) is not after \(last))") }
                        dates.append(day)
                    }
                    guard (1...20).contains(dates.count) else { throw .config("\(full) must list 1 to 20 dates") }
                    generationDates = dates
                case "database.url":
                    let url = try string(value, full)
                    guard url.isEmpty || url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else {
                        throw .config("\(full) must be a postgres:// URL (or \"\" for the home's SQLite)")
                    }
                    databaseURL = url.isEmpty ? nil : url
                case "phone.sign_policy_oid": let v = try oid(value, full); config.phone = with(config.phone) { $0.signPolicyOID = v }
                case "phone.auth_policy_oid": let v = try oid(value, full); config.phone = with(config.phone) { $0.authPolicyOID = v }
                case "phone.on_card_suspend":
                    let text = try string(value, full)
                    guard let v = PhoneConfiguration.OnCardSuspend(rawValue: text) else { throw .config("\(full) must be \"keep\" or \"hold\", not \"\(text)\"") }
                    config.phone = with(config.phone) { $0.onCardSuspend = v }
                case "phone.on_card_renewal":
                    let text = try string(value, full)
                    guard let v = PhoneConfiguration.OnCardRenewal(rawValue: text) else { throw .config("\(full) must be \"revoke\" or \"keep\", not \"\(text)\"") }
                    config.phone = with(config.phone) { $0.onCardRenewal = v }
                default:
                    throw .config("\(path.lastPathComponent): unknown setting \(full); see the comments in ca-config/sandbox.toml for the settings there are")
                }
            }
        }
        self.configuration = config
        self.rootGenerationDates = generationDates
        self.databaseURL = databaseURL
        self.municipalitiesPath = URL(fileURLWithPath: municipalities, relativeTo: path.deletingLastPathComponent()).standardizedFileURL
    }
}

/// The TOML subset's parser.
enum TOMLSubset {
    enum Value: Equatable { case string(String), integer(Int), boolean(Bool), array([String]) }

    /// Tables in file order, each with its keys in file order.
    static func parse(_ text: String, file: String) throws(SandboxError) -> [(String, [(String, Value)])] {
        var tables: [(String, [(String, Value)])] = [("", [])]
        var lines = text.components(separatedBy: "\n").enumerated().makeIterator()
        while let (index, raw) = lines.next() {
            var line = stripComment(raw).trimmingCharacters(in: .whitespaces)
            let where_ = "\(file) line \(index + 1)"
            if line.isEmpty { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), !line.hasPrefix("[[") else { throw .config("\(where_): expected [table]") }
                tables.append((String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces), []))
                continue
            }
            guard let eq = line.firstIndex(of: "=") else { throw .config("\(where_): expected key = value") }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces)
            var rest = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            // A multi-line array continues until its closing bracket.
            if rest.hasPrefix("[") {
                while !balanced(rest), let (_, next) = lines.next() {
                    rest += " " + stripComment(next).trimmingCharacters(in: .whitespaces)
                }
            }
            line = rest
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                throw .config("\(where_): \"\(key)\" is not a plain key")
            }
            let value = try parseValue(line, where_)
            if tables[tables.count - 1].1.contains(where: { $0.0 == key }) { throw .config("\(where_): \(key) is set twice") }
            tables[tables.count - 1].1.append((key, value))
        }
        return tables
    }

    static func balanced(_ s: String) -> Bool {
        var depth = 0, inString = false, escaped = false
        for c in s {
            if inString { if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false } ; continue }
            if c == "\"" { inString = true } else if c == "[" { depth += 1 } else if c == "]" { depth -= 1 }
        }
        return depth == 0
    }

    static func stripComment(_ line: String) -> String {
        var inString = false, escaped = false
        for (i, c) in zip(line.indices, line) {
            if inString { if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }; continue }
            if c == "\"" { inString = true } else if c == "#" { return String(line[..<i]) }
        }
        return line
    }

    static func parseValue(_ text: String, _ where_: String) throws(SandboxError) -> Value {
        if text == "true" { return .boolean(true) }
        if text == "false" { return .boolean(false) }
        if let i = Int(text.replacingOccurrences(of: "_", with: "")), text.first?.isNumber == true { return .integer(i) }
        if text.hasPrefix("\"") {
            var scanner = Substring(text)
            let s = try parseString(&scanner, where_)
            guard scanner.trimmingCharacters(in: .whitespaces).isEmpty else { throw .config("\(where_): unexpected text after the string") }
            return .string(s)
        }
        if text.hasPrefix("["), text.hasSuffix("]") {
            var scanner = Substring(text.dropFirst().dropLast())
            var items: [String] = []
            while true {
                scanner = scanner.drop(while: { $0 == " " || $0 == "\t" })
                if scanner.isEmpty { break }
                items.append(try parseString(&scanner, where_))
                scanner = scanner.drop(while: { $0 == " " || $0 == "\t" })
                if scanner.first == "," { scanner = scanner.dropFirst() } else if !scanner.isEmpty {
                    throw .config("\(where_): expected , between array items")
                }
            }
            return .array(items)
        }
        throw .config("\(where_): unsupported value \(text) (use \"strings\", integers, true/false or [\"arrays\", \"of strings\"])")
    }

    static func parseString(_ s: inout Substring, _ where_: String) throws(SandboxError) -> String {
        guard s.first == "\"" else { throw .config("\(where_): expected a \"string\"") }
        s = s.dropFirst()
        var out = ""
        while let c = s.first {
            s = s.dropFirst()
            switch c {
            case "\"": return out
            case "\\":
                guard let e = s.first else { break }
                s = s.dropFirst()
                switch e {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "\"": out.append("\"")
                case "\\": out.append("\\")
                case "u":
                    guard s.count >= 4, let v = UInt32(s.prefix(4), radix: 16), let u = Unicode.Scalar(v) else {
                        throw .config("\(where_): bad \\u escape")
                    }
                    out.unicodeScalars.append(u); s = s.dropFirst(4)
                default: throw .config("\(where_): unsupported escape \\\(e)")
                }
            default: out.append(c)
            }
        }
        throw .config("\(where_): unterminated string")
    }
}
