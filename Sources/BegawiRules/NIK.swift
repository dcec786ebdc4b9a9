import BegawiCore

/// The Indonesian population number (Nomor Induk Kependudukan): 16 digits — province, regency and
/// kecamatan (2 + 2 + 2), birth date DDMMYY with 40 added to the day for women, and a 4-digit serial.
///
/// Messages never repeat the number: it is personal data.
public enum NIK {
    /// Why a NIK is not plausible, or nil when it is.
    public static func problem(_ text: String) -> String? {
        let digits = Array(text.utf8)
        guard digits.count == 16, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return "a NIK has exactly 16 digits and nothing else (got \(text.count) characters); check the number on the KTP"
        }
        func number(_ from: Int, _ count: Int) -> Int {
            digits[from..<from + count].reduce(0) { $0 * 10 + Int($1 - 0x30) }
        }
        let province = number(0, 2), regency = number(2, 2), kecamatan = number(4, 2)
        guard provinces.contains(province) else {
            return "the NIK's first two digits are not an Indonesian province code; check the number on the KTP"
        }
        guard regency >= 1, kecamatan >= 1 else {
            return "the NIK's region code (digits 3–6) names no regency or kecamatan; check the number on the KTP"
        }
        var day = number(6, 2)
        let month = number(8, 2)
        if day > 40 { day -= 40 }
        guard (1...12).contains(month), day >= 1, day <= daysInMonth[month - 1] else {
            return "the NIK's birth date (digits 7–12, DDMMYY, with 40 added to the day for women) is not a date; check the number on the KTP"
        }
        guard number(12, 4) >= 1 else {
            return "the NIK's serial (its last four digits) cannot be 0000; check the number on the KTP"
        }
        return nil
    }

    /// The birth date a NIK encodes as (day, month, two-digit year, female).
    public static func birth(_ text: String) -> (day: Int, month: Int, year: Int, female: Bool)? {
        guard problem(text) == nil else { return nil }
        let digits = Array(text.utf8).map { Int($0 - 0x30) }
        let day = digits[6] * 10 + digits[7]
        return (day > 40 ? day - 40 : day, digits[8] * 10 + digits[9], digits[10] * 10 + digits[11], day > 40)
    }

    /// The row key derived from a NIK: "p" and the first 32 hex digits of HMAC-SHA256(salt, NIK).
    ///
    /// The same person registered at two sites gets the same key; the key does not show the NIK to
    /// someone who lacks the programme's salt.
    public static func key(for nik: String, salt: String) -> String {
        "p" + Hex.encode(Hashing.hmacSHA256(key: Array(salt.utf8), message: Array(nik.utf8)).prefix(16))
    }

    /// Province codes in use (Kemendagri; the new Papua provinces included).
    static let provinces: Set<Int> = [11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 31, 32, 33, 34, 35, 36, 51, 52, 53,
                                      61, 62, 63, 64, 65, 71, 72, 73, 74, 75, 76, 81, 82, 91, 92, 93, 94, 95, 96, 97]
    static let daysInMonth = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
}
