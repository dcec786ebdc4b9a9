package import BegawiCore
package import BegawiRules

/// The enrollment report's one statement and its folding into lines, shared by both hub stores:
/// the SQLite file and the PostgreSQL database hold the same synced tables under the same names,
/// so one SQL text serves both, but for how each writes a numbered parameter.
extension EnrollmentReport {
    /// The tables and columns the report reads (the Handak Begawi schema).
    static let reportColumns: [(String, [String])] = [
        ("enrollments", ["program_id", "status", "registered_on"]), ("programs", ["provider", "title"]), ("partners", ["name"]),
    ]

    /// One group of the statement's answer: a partner's program's enrollments of one status.
    package struct Group: Sendable {
        /// The program's provider (a site id); nil when the program is not at the hub.
        package var partner: String?
        /// The partner's name; nil when the partner is not at the hub.
        package var partnerName: String?
        /// The program's id.
        package var program: String?
        /// The program's title; nil when the program is not at the hub.
        package var title: String?
        /// The enrollments' status.
        package var status: String?
        /// How many.
        package var count: Int

        /// Makes a group as the statement answers it.
        package init(partner: String?, partnerName: String?, program: String?, title: String?, status: String?, count: Int) {
            self.partner = partner
            self.partnerName = partnerName
            self.program = program
            self.title = title
            self.status = status
            self.count = count
        }
    }

    /// The statement counting enrollments by partner, program and status for `schema` (which must
    /// hold the report's tables: `requireReportTables`). Its columns: partner, partner_name,
    /// program, title, status, n; its five parameters, bound by position, the filter's from, to,
    /// partner, program and status (NULL: any), written as `parameter(n)` writes the n-th (`?1` in
    /// SQLite, `$1` in PostgreSQL). Values are never written into the text.
    package static func querySQL(_ schema: Schema, parameter: (Int) -> String) -> String {
        let keys = Dictionary(schema.tables.map { ($0.name, "\"\($0.primaryKey.name)\"") }, uniquingKeysWith: { a, _ in a })
        // CAST: PostgreSQL must know a parameter's type to compare it with NULL; SQLite takes it too.
        let v = (1...5).map { "CAST(\(parameter($0)) AS text)" }
        return """
            SELECT p.provider AS partner, pa.name AS partner_name, e.program_id AS program, p.title AS title, e.status AS status, count(*) AS n
            FROM enrollments e
              LEFT JOIN programs p ON p.\(keys["programs"]!) = e.program_id
              LEFT JOIN partners pa ON pa.\(keys["partners"]!) = p.provider
            WHERE (\(v[0]) IS NULL OR e.registered_on >= \(v[0]))
              AND (\(v[1]) IS NULL OR e.registered_on <= \(v[1]))
              AND (\(v[2]) IS NULL OR p.provider = \(v[2]))
              AND (\(v[3]) IS NULL OR e.program_id = \(v[3]))
              AND (\(v[4]) IS NULL OR e.status = \(v[4]))
            GROUP BY p.provider, pa.name, e.program_id, p.title, e.status
            """
    }

    /// Throws a configuration error naming what is missing when `schema` lacks the report's tables
    /// or columns.
    package static func requireReportTables(_ schema: Schema) throws {
        for (table, columns) in reportColumns {
            guard let spec = schema.table(named: table), columns.allSatisfy({ c in spec.columns.contains { $0.name == c } }) else {
                throw BegawiError(.configuration, "the report needs the Handak Begawi tables (enrollments, programs, partners; config/handak-begawi.json); this hub's schema lacks \(table) or its columns \(columns.joined(separator: ", "))")
            }
        }
    }

    /// The report from the statement's groups: statuses in an enrollment's life order (those the
    /// rules declare, then any others found, by name), one line per partner's program, totals.
    package init(filter: ReportFilter, policy: AccessPolicy?, groups: [Group]) {
        let lifecycle = ["registered", "active", "completed", "certified", "dropped"]
        var declared = (policy?.tables["enrollments"]?.allowedValues["status"] ?? Set(lifecycle))
            .sorted { (lifecycle.firstIndex(of: $0) ?? lifecycle.count, $0) < (lifecycle.firstIndex(of: $1) ?? lifecycle.count, $1) }
        var lines: [String: EnrollmentReport.Line] = [:]
        var totals: [String: Int] = [:]
        for group in groups {
            let partner = group.partner ?? "?"
            let program = group.program ?? "?"
            let status = group.status ?? ""
            if !declared.contains(status) { declared.append(status) }
            var line = lines[partner + "\u{0}" + program] ?? EnrollmentReport.Line(
                partner: partner, partnerName: group.partnerName ?? partner, program: program, programTitle: group.title ?? program,
                counts: [:], total: 0)
            line.counts[status, default: 0] += group.count
            line.total += group.count
            lines[partner + "\u{0}" + program] = line
            totals[status, default: 0] += group.count
        }
        let sorted = lines.values.sorted { ($0.partnerName, $0.partner, $0.programTitle, $0.program) < ($1.partnerName, $1.partner, $1.programTitle, $1.program) }
        self.init(from: filter.from, to: filter.to, statuses: declared, lines: sorted, totals: totals, total: totals.values.reduce(0, +))
    }
}
