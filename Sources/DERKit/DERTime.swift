/// X.509 and OCSP times, encoded straight from seconds since 1970 (no formatter, no calendar object):
/// a CRL of a million entries encodes a million revocation dates.
///
/// RFC 5280 §4.1.2.5: UTCTime `YYMMDDHHMMSSZ` through 2049, GeneralizedTime `YYYYMMDDHHMMSSZ` from 2050;
/// RFC 6960 uses GeneralizedTime throughout. Whole seconds, always `Z`.
public enum DERTime {
    /// The civil date of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
    @inline(__always)
    public static func civil(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Days since 1970-01-01 of a civil date (`days_from_civil`).
    @inline(__always)
    public static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Appends the TLV of the time: UTCTime before 2050, GeneralizedTime from 2050 (or always, with `generalized`).
    @inline(__always)
    public static func append(_ seconds: Int64, generalized: Bool = false, to out: inout [UInt8]) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = seconds - days * 86_400
        let (year, month, day) = civil(days)
        let long = generalized || year >= 2050 || year < 1950
        out.append(long ? DER.generalizedTime : DER.utcTime)
        out.append(long ? 15 : 13)
        @inline(__always) func two(_ v: Int64) { out.append(0x30 + UInt8(v / 10)); out.append(0x30 + UInt8(v % 10)) }
        if long { two(year / 100 % 100) }
        two(year % 100); two(month); two(day)
        two(rest / 3600); two(rest / 60 % 60); two(rest % 60)
        out.append(0x5A)   // Z
    }

    public static func encode(_ seconds: Int64, generalized: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(17)
        append(seconds, generalized: generalized, to: &out)
        return out
    }
}
