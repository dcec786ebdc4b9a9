@testable import BegawiOffice
import Testing

/// The report's CSV (`/office/pendaftaran.csv`, `begawi hub report --format csv`): RFC 4180 by
/// Unicode scalars, and nothing a spreadsheet would run as a formula, not even after a line break.
@Suite struct EnrollmentCSVTests {
    /// The titles: a bare LF and a bare CR, each followed by a formula; and a quote under a
    /// combining mark.
    static let titles = ["Las\n=cmd|' /C calc'!A0", "Las\r=cmd|' /C calc'!A0", "Jahit \"\u{301},x", "=1+2", "-2", "@SUM(A1)",
                         "\tTab", "\rCR", "a\r\n+b\n\n-c", "Pelatihan \u{202E}fdp.exe", "Las\u{0}rahasia"]

    static func report() -> EnrollmentReport {
        let lines = titles.enumerated().map { i, title in
            EnrollmentReport.Line(partner: "lpk-a", partnerName: "LPK A", program: "prog-\(i)", programTitle: title,
                                  counts: ["registered": i], total: i)
        }
        return EnrollmentReport(from: nil, to: nil, statuses: ["registered"], lines: lines, totals: ["registered": 55], total: 55)
    }

    @Test func eachRecordParsesBackToItsFieldsAndNoneStartsAFormula() throws {
        let records = try RFC4180.parse(EnrollmentCSVTests.report().csv)
        #expect(records.count == 1 + EnrollmentCSVTests.titles.count + 1)
        #expect(records.allSatisfy { $0.count == 6 })
        for (i, title) in EnrollmentCSVTests.titles.enumerated() {
            let field = records[i + 1][3]
            #expect(RFC4180.withoutGuards(field) == title.replacingNUL, "\(title.debugDescription) came back as \(field.debugDescription)")
            #expect(records[i + 1][2] == "prog-\(i)")
        }
        for record in records {
            for field in record {
                for line in RFC4180.lines(field) where Int(line) == nil {
                    #expect(line.unicodeScalars.first.map { !"=+-@\t".unicodeScalars.contains($0) } ?? true,
                            "a line starts a formula: \(field.debugDescription)")
                }
            }
        }
        // Whole numbers stay numbers; the bidi override is kept as data.
        #expect(records[1...].allSatisfy { Int($0[4]) != nil })
        #expect(records[10][3] == "Pelatihan \u{202E}fdp.exe")
    }
}

extension String {
    /// What the CSV makes of a NUL.
    var replacingNUL: String { String(String.UnicodeScalarView(unicodeScalars.map { $0 == "\u{0}" ? "\u{FFFD}" : $0 })) }
}

/// A strict RFC 4180 reader by Unicode scalars: records end with CRLF; a field with `"`, `,`, CR or
/// LF must be quoted; anything else is an error.
enum RFC4180 {
    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    static func parse(_ text: String) throws -> [[String]] {
        let s = Array(text.unicodeScalars)
        var records: [[String]] = []
        var record: [String] = []
        var i = 0
        while i < s.count {
            var field = String.UnicodeScalarView()
            if s[i] == "\"" {
                i += 1
                while true {
                    guard i < s.count else { throw Malformed(description: "a quoted field does not end") }
                    if s[i] == "\"" {
                        if i + 1 < s.count, s[i + 1] == "\"" { field.append("\""); i += 2; continue }
                        i += 1
                        break
                    }
                    field.append(s[i])
                    i += 1
                }
            } else {
                while i < s.count, s[i] != ",", s[i] != "\r" {
                    guard s[i] != "\"", s[i] != "\n" else { throw Malformed(description: "a bare quote or LF in an unquoted field at \(i)") }
                    field.append(s[i])
                    i += 1
                }
            }
            record.append(String(field))
            guard i < s.count else { throw Malformed(description: "the last record does not end with CRLF") }
            if s[i] == "," { i += 1; continue }
            guard s[i] == "\r", i + 1 < s.count, s[i + 1] == "\n" else { throw Malformed(description: "a field is followed by \(s[i].escaped(asASCII: true)) at \(i), not , or CRLF") }
            i += 2
            records.append(record)
            record = []
        }
        return records
    }

    /// The lines of a field (split at CR, LF or CRLF).
    static func lines(_ field: String) -> [String] {
        var out: [String] = [], line = String.UnicodeScalarView()
        for c in field.unicodeScalars {
            if c == "\r" || c == "\n" { out.append(String(line)); line = String.UnicodeScalarView() } else { line.append(c) }
        }
        return out + [String(line)]
    }

    /// A field without the apostrophes the report puts before a formula (at its start or after a
    /// line break).
    static func withoutGuards(_ field: String) -> String {
        var out = String.UnicodeScalarView()
        var atLineStart = true
        let s = Array(field.unicodeScalars)
        for (i, c) in s.enumerated() {
            if atLineStart, c == "'", i + 1 < s.count, "=+-@\t\r".unicodeScalars.contains(s[i + 1]) { atLineStart = false; continue }
            atLineStart = c == "\r" || c == "\n"
            out.append(c)
        }
        return String(out)
    }
}
