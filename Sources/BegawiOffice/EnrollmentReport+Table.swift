extension EnrollmentReport {
    /// Aligned columns: each partner's programs, the partner's subtotal, and the grand total.
    public var table: String {
        let report = self
        let period = "enrollments registered \(report.from.map { "from \($0)" } ?? "from the start") \(report.to.map { "to \($0)" } ?? "to date")"
        guard !report.lines.isEmpty else { return period + ": none" }
        var rows: [[String]] = [["partner", "program"] + report.statuses + ["total"]]
        let subtotals = Dictionary(uniqueKeysWithValues: report.partnerTotals.map { ($0.partner, $0) })
        var current: String?
        func subtotal(_ partner: String) {
            guard let s = subtotals[partner] else { return }
            rows.append(["", "  all programs"] + report.statuses.map { String(s.counts[$0] ?? 0) } + [String(s.total)])
        }
        for line in report.lines {
            if let c = current, c != line.partner { subtotal(c) }
            let first = current != line.partner
            current = line.partner
            // Names and titles come from partner sites: shown on one line, with nothing a terminal
            // would obey (ESC, bidi overrides) or a reader could not see.
            rows.append([first ? InvisibleCharacters.shown("\(line.partnerName) (\(line.partner))") : "", InvisibleCharacters.shown(line.programTitle)]
                        + report.statuses.map { String(line.counts[$0] ?? 0) } + [String(line.total)])
        }
        if let c = current { subtotal(c) }
        rows.append(["TOTAL", ""] + report.statuses.map { String(report.totals[$0] ?? 0) } + [String(report.total)])
        let widths = (0..<rows[0].count).map { i in rows.map { $0[i].count }.max() ?? 0 }
        let lines = rows.map { row in
            row.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return i < 2 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        return ([period] + lines).joined(separator: "\n")
    }
}
