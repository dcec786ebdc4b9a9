public import BegawiHub
import BegawiCore
import BegawiRules
internal import GRDB

extension SQLiteHubStore {
    /// The tables and columns the report reads (the Handak Begawi schema).
    static let reportColumns: [(String, [String])] = [
        ("enrollments", ["program_id", "status", "registered_on"]), ("programs", ["provider", "title"]), ("partners", ["name"]),
    ]

    /// Enrollments by partner × program × status for the filter's period, with totals. Counts
    /// only: no participant appears in a report.
    public func enrollmentReport(_ filter: ReportFilter) throws -> EnrollmentReport {
        let filter = try filter.validate()
        for (table, columns) in SQLiteHubStore.reportColumns {
            guard let spec = schema.tables.first(where: { $0.name == table }),
                  columns.allSatisfy({ c in spec.columns.contains { $0.name == c } }) else {
                throw BegawiError(.configuration, "the report needs the Handak Begawi tables (enrollments, programs, partners; config/handak-begawi.json); this hub's schema lacks \(table) or its columns \(columns.joined(separator: ", "))")
            }
        }
        let keys = Dictionary(uniqueKeysWithValues: schema.tables.map { ($0.name, "\"\($0.primaryKey.name)\"") })
        let sql = """
            SELECT p.provider AS partner, pa.name AS partner_name, e.program_id AS program, p.title AS title, e.status AS status, count(*) AS n
            FROM enrollments e
              LEFT JOIN programs p ON p.\(keys["programs"]!) = e.program_id
              LEFT JOIN partners pa ON pa.\(keys["partners"]!) = p.provider
            WHERE (?1 IS NULL OR e.registered_on >= ?1) AND (?2 IS NULL OR e.registered_on <= ?2)
              AND (?3 IS NULL OR p.provider = ?3) AND (?4 IS NULL OR e.program_id = ?4) AND (?5 IS NULL OR e.status = ?5)
            GROUP BY p.provider, e.program_id, e.status
            """
        let rows = try hubReplica.ownerRead { db in
            try Row.fetchAll(db, sql: sql, arguments: [filter.from, filter.to, filter.partner, filter.program, filter.status])
        }
        // An enrollment's life in order; statuses the schema adds come after, by name.
        let lifecycle = ["registered", "active", "completed", "certified", "dropped"]
        var declared = (policy?.tables["enrollments"]?.allowedValues["status"] ?? Set(lifecycle))
            .sorted { (lifecycle.firstIndex(of: $0) ?? lifecycle.count, $0) < (lifecycle.firstIndex(of: $1) ?? lifecycle.count, $1) }
        var lines: [String: EnrollmentReport.Line] = [:]
        var totals: [String: Int] = [:]
        for row in rows {
            let partner = try row.decode(String?.self, forColumn: "partner") ?? "?"
            let program: String = try row.decode(forColumn: "program")
            let status = try row.decode(String?.self, forColumn: "status") ?? ""
            let n: Int = try row.decode(forColumn: "n")
            let partnerName = try row.decode(String?.self, forColumn: "partner_name") ?? partner
            let programTitle = try row.decode(String?.self, forColumn: "title") ?? program
            if !declared.contains(status) { declared.append(status) }
            var line = lines[partner + "\u{0}" + program] ?? EnrollmentReport.Line(
                partner: partner, partnerName: partnerName, program: program, programTitle: programTitle,
                counts: [:], total: 0)
            line.counts[status, default: 0] += n
            line.total += n
            lines[partner + "\u{0}" + program] = line
            totals[status, default: 0] += n
        }
        let sorted = lines.values.sorted { ($0.partnerName, $0.partner, $0.programTitle, $0.program) < ($1.partnerName, $1.partner, $1.programTitle, $1.program) }
        return EnrollmentReport(from: filter.from, to: filter.to, statuses: declared, lines: sorted, totals: totals,
                                total: totals.values.reduce(0, +))
    }
}
