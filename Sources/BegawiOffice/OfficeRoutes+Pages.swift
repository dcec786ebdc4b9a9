import BegawiCore
import BegawiHub
import BegawiReplica
import Hummingbird

/// The dashboard's pages once signed in: fleet health, consolidated enrollments with filters and
/// CSV, and the conflict ledger with a way to re-apply a losing value.
extension OfficeRoutes {
    func nav(_ s: OfficeSession) -> OfficeViews.Nav {
        OfficeViews.Nav(csrf: s.csrf, site: Shown(s.site))
    }

    func overview(_ s: OfficeSession) async throws -> Response {
        let at = clock.nowMilliseconds()
        let (health, expired) = try await lanes.office { [store, retention] in
            (try store.health(), Set(try store.expiredSites(now: at, retention: retention)))
        }
        let now = Int64(clamping: at)
        let sites = health.map { h in
            // A revoked site is never counted expired (the horizon looks at active sites only).
            OfficeViews.Overview.Site(
                id: h.site, name: Shown(h.site), kind: Shown(h.kind), revoked: h.revoked, expired: expired.contains(h.site),
                stale: h.lastContact.map { now - $0 > 3_600_000 } ?? true, contact: OfficeText.time(h.lastContact),
                pending: h.pending.map(String.init) ?? "–", offset: OfficeText.seconds(h.clockOffsetMilliseconds),
                version: h.daemonVersion ?? "–", schema: h.schemaVersion.map(String.init) ?? "–", refused: h.rowsRefused, conflicts: h.conflicts)
        }
        return try await render("overview", OfficeViews.Overview(nav: nav(s), sites: sites))
    }

    static func filter(_ request: Request) -> ReportFilter {
        let q = request.uri.queryParameters
        func text(_ name: String) -> String? { q.get(name).flatMap { $0.isEmpty ? nil : String($0) } }
        return ReportFilter(from: text("dari"), to: text("sampai"), partner: text("mitra"), program: text("program"), status: text("status"))
    }

    func enrollments(_ request: Request, _ s: OfficeSession) async throws -> Response {
        let filter = OfficeRoutes.filter(request)
        let (all, report, problem) = try await lanes.office { [store] () -> (EnrollmentReport, EnrollmentReport?, String?) in
            let all = try store.enrollmentReport(ReportFilter())
            do { return (all, try store.enrollmentReport(filter), nil) } catch let e as BegawiError { return (all, nil, e.message) }
        }
        var partners: [(String, String)] = [], programs: [(String, String)] = []
        for line in all.lines {
            if !partners.contains(where: { $0.0 == line.partner }) { partners.append((line.partner, line.partnerName)) }
            programs.append((line.program, line.programTitle))
        }
        let shown = report.map { report in
            OfficeViews.Enrollments.Report(
                query: request.uri.query.map { "?" + $0 } ?? "",
                columns: report.statuses.map { OfficeViews.Enrollments.Column(label: Shown(OfficeText.status($0))) },
                lines: report.lines.map { line in
                    OfficeViews.Enrollments.Line(
                        partner: line.partner, program: line.program, partnerName: Shown(line.partnerName), programTitle: Shown(line.programTitle),
                        cells: report.statuses.map { OfficeViews.Enrollments.Cell(status: $0, count: line.counts[$0] ?? 0) }, total: line.total)
                },
                totals: report.statuses.map { OfficeViews.Enrollments.Cell(status: $0, count: report.totals[$0] ?? 0) },
                total: report.total, empty: report.lines.isEmpty)
        }
        let view = OfficeViews.Enrollments(
            nav: nav(s), from: filter.from ?? "", to: filter.to ?? "",
            partners: OfficeViews.Select("mitra", partners, filter.partner),
            programs: OfficeViews.Select("program", programs, filter.program),
            statuses: OfficeViews.Select("status", all.statuses.map { ($0, OfficeText.status($0)) }, filter.status),
            problem: report == nil ? Shown(problem ?? "") : nil, report: shown)
        return try await render("enrollments", view, status: report == nil ? .badRequest : .ok)
    }

    func enrollmentsCSV(_ request: Request) async throws -> Response {
        let filter = OfficeRoutes.filter(request)
        let report = try await lanes.office { [store] in try store.enrollmentReport(filter) }
        var response = OfficeRoutes.answer(report.csv, type: "text/csv; charset=utf-8")
        response.headers[.contentDisposition] = "attachment; filename=\"pendaftaran-\(filter.from ?? "awal")-\(filter.to ?? "kini").csv\""
        return response
    }

    func conflicts(_ s: OfficeSession, notice: String?) async throws -> Response {
        let reviews = try await lanes.office { [store] in try store.conflictReviews(limit: 500) }
        let rows = reviews.map { r in
            let c = r.entry
            return OfficeViews.Conflicts.Row(
                id: c.id, detected: OfficeText.time(Int64(clamping: c.detectedAt)), table: Shown(c.table), key: Shown(c.key),
                column: Shown(c.column), loser: Shown(OfficeText.value(c.loserValue)), loserSite: Shown(c.loser.site),
                winner: Shown(c.winnerIsDelete ? "(dihapus)" : OfficeText.value(c.winnerValue)), winnerSite: Shown(c.winner.site),
                reapplied: OfficeText.time(r.reappliedAt), isReapplied: r.reappliedAt != nil,
                blocked: Shown(r.blocked ?? ""), isBlocked: r.reappliedAt == nil && r.blocked != nil,
                open: r.reappliedAt == nil && r.blocked == nil)
        }
        return try await render("conflicts", OfficeViews.Conflicts(nav: nav(s), csrf: s.csrf, notice: notice.map(Shown.init), rows: rows, empty: rows.isEmpty))
    }

    func reapply(_ request: Request, id: String?, _ s: OfficeSession) async throws -> Response {
        let form = try await OfficeRoutes.form(request)
        guard form["csrf"] == s.csrf else {
            let view = OfficeViews.Notice(title: "Konflik", nav: nav(s), message: Shown("Formulir kedaluwarsa; muat ulang halaman konflik."))
            return try await render("notice", view, status: .forbidden)
        }
        guard let id = id.flatMap(Int64.init) else { return OfficeRoutes.redirect("/office/konflik") }
        let message: String
        do {
            let c = try await lanes.run { [store] in try store.reapply(conflict: id, by: s.site) }
            logger.notice("conflict re-applied from the dashboard", metadata: ["conflict": "\(id)", "table": "\(c.table)", "site.id": "\(s.site)"])
            message = "Konflik \(id) diterapkan ulang: nilai yang kalah kini menjadi nilai hub."
        } catch let e as BegawiError {
            message = "Konflik \(id) tidak diterapkan ulang: \(e.message)"
        }
        // The outcome waits in the session for the page the browser is sent to (never in the URL).
        let token = request.cookies[OfficeSessions.cookie]?.value
        try await lanes.run { [sessions] in try sessions.flash(token, message) }
        return OfficeRoutes.redirect("/office/konflik")
    }
}
