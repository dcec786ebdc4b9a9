public import BegawiHub
import BegawiCore
import BegawiRules
internal import GRDB

extension SQLiteHubStore {
    /// Enrollments by partner × program × status for the filter's period, with totals. Counts
    /// only: no participant appears in a report. The statement and the folding are shared with the
    /// PostgreSQL store (`EnrollmentReport+Query`).
    public func enrollmentReport(_ filter: ReportFilter) throws -> EnrollmentReport {
        let filter = try filter.validate()
        try EnrollmentReport.requireReportTables(schema)
        let sql = EnrollmentReport.querySQL(schema) { "?\($0)" }
        let groups = try hubReplica.ownerRead { db in
            try Row.fetchAll(db, sql: sql, arguments: [filter.from, filter.to, filter.partner, filter.program, filter.status]).map { row in
                EnrollmentReport.Group(
                    partner: try row.decode(String?.self, forColumn: "partner"), partnerName: try row.decode(String?.self, forColumn: "partner_name"),
                    program: try row.decode(String?.self, forColumn: "program"), title: try row.decode(String?.self, forColumn: "title"),
                    status: try row.decode(String?.self, forColumn: "status"), count: try row.decode(Int.self, forColumn: "n"))
            }
        }
        return EnrollmentReport(filter: filter, policy: policy, groups: groups)
    }
}
