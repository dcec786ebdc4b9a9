import BegawiCore

/// Enrollments counted by partner (the program's provider) × program × status, with totals.
public struct EnrollmentReport: Sendable, Equatable, Codable {
    /// One partner's program: its counts by status.
    public struct Line: Sendable, Equatable, Codable {
        /// The partner's site id (the program's provider).
        public var partner: String
        /// The partner's name, as its site wrote it.
        public var partnerName: String
        /// The program's id.
        public var program: String
        /// The program's title, as its site wrote it.
        public var programTitle: String
        /// Enrollments by status.
        public var counts: [String: Int]
        /// Enrollments of every status.
        public var total: Int
    }

    /// The filter's first registration date, as given.
    public var from: String?
    /// The filter's last registration date, as given.
    public var to: String?
    /// The statuses as columns, in the schema's order (then any others found).
    public var statuses: [String]
    /// One line per partner's program, by partner name, then program title.
    public var lines: [Line]
    /// Totals by status.
    public var totals: [String: Int]
    /// The total of everything.
    public var total: Int

    /// Totals per partner, in the order of the lines.
    public var partnerTotals: [(partner: String, counts: [String: Int], total: Int)] {
        var order: [String] = []
        var sums: [String: ([String: Int], Int)] = [:]
        for line in lines {
            if sums[line.partner] == nil { order.append(line.partner); sums[line.partner] = ([:], 0) }
            for (status, n) in line.counts { sums[line.partner]!.0[status, default: 0] += n }
            sums[line.partner]!.1 += line.total
        }
        return order.map { ($0, sums[$0]!.0, sums[$0]!.1) }
    }
}

extension EnrollmentReport {
    /// The report as CSV (RFC 4180, CRLF line ends): one line per partner's program with a column
    /// per status, then the totals. Values are data: a cell or a line inside a cell that a
    /// spreadsheet would run as a formula is prefixed with an apostrophe (see `cell`).
    public var csv: String {
        var out = [(["partner", "partner_name", "program", "program_title"] + statuses + ["total"]).map(EnrollmentReport.cell).joined(separator: ",")]
        for line in lines {
            let cells = [line.partner, line.partnerName, line.program, line.programTitle] + statuses.map { String(line.counts[$0] ?? 0) } + [String(line.total)]
            out.append(cells.map(EnrollmentReport.cell).joined(separator: ","))
        }
        out.append((["TOTAL", "", "", ""] + statuses.map { String(totals[$0] ?? 0) } + [String(total)]).map(EnrollmentReport.cell).joined(separator: ","))
        return out.joined(separator: "\r\n") + "\r\n"
    }

    /// One CSV field, by Unicode scalars (a `Character` hides a quote under a combining mark and
    /// takes CR LF as one): quoted when it holds `"`, `,`, CR or LF, with `"` doubled. A field that
    /// starts with `=`, `+`, `-`, `@`, tab or CR (unless it is a whole number), and each line inside
    /// a field that starts with `=`, `+`, `-`, `@` or tab, gets a leading apostrophe, so that neither
    /// a spreadsheet nor a reader that splits lines runs it as a formula. A NUL, which ends a cell in
    /// some spreadsheets, becomes U+FFFD; every other character is kept.
    static func cell(_ text: String) -> String {
        let field: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r"]
        let line: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t"]
        var out = String.UnicodeScalarView()
        var quote = false
        var atStart = true, afterBreak = false
        for scalar in text.unicodeScalars {
            if atStart, field.contains(scalar), Int(text) == nil { out.append("'") }
            if afterBreak, line.contains(scalar) { out.append("'") }
            atStart = false
            afterBreak = scalar == "\r" || scalar == "\n"
            switch scalar {
            case "\"": quote = true; out.append("\""); out.append("\"")
            case ",", "\r", "\n": quote = true; out.append(scalar)
            case "\u{0}": out.append("\u{FFFD}")
            default: out.append(scalar)
            }
        }
        let body = String(out)
        return quote ? "\"" + body + "\"" : body
    }
}
