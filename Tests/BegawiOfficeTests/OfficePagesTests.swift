@testable import BegawiOffice
import Testing

/// The pages' templates over their views: each state of a conflict shows its one action, and a
/// value a row lacks never comes from the page around it (Mustache looks missing names up there).
@Suite struct OfficePagesTests {
    static func row(_ id: Int64, reapplied: Bool = false, blocked: String? = nil) -> OfficeViews.Conflicts.Row {
        OfficeViews.Conflicts.Row(
            id: id, detected: "d", table: Shown("t"), key: Shown("k"), column: Shown("c"), loser: Shown("L"), loserSite: Shown("a"),
            winner: Shown("W"), winnerSite: Shown("b"), reapplied: reapplied ? "2026-01-02 03:04:05 WITA" : "belum pernah", isReapplied: reapplied,
            blocked: Shown(blocked ?? ""), isBlocked: !reapplied && blocked != nil, open: !reapplied && blocked == nil)
    }

    @Test func eachConflictShowsItsOneAction() throws {
        let pages = try OfficePages()
        let nav = OfficeViews.Nav(csrf: "token-1", site: Shown("disnaker"))
        let view = OfficeViews.Conflicts(nav: nav, csrf: "token-1", notice: Shown("Konflik 1 diterapkan ulang"),
                                         rows: [Self.row(1, reapplied: true), Self.row(2, blocked: "baris ini sudah dihapus"), Self.row(3)], empty: false)
        let page = pages.render("conflicts", view)
        let rows = page.components(separatedBy: "<tr data-conflict=").dropFirst().map { $0.components(separatedBy: "</tr>")[0] }
        #expect(rows.count == 3, "\(page)")
        #expect(rows[0].contains("Diterapkan ulang 2026-01-02 03:04:05 WITA") && !rows[0].contains("<form") && !rows[0].contains("Tidak dapat"))
        #expect(rows[1].contains("Tidak dapat diterapkan ulang: baris ini sudah dihapus") && !rows[1].contains("<form") && !rows[1].contains("Diterapkan"))
        #expect(rows[2].contains("action=\"/office/konflik/3/terapkan\"") && rows[2].contains("value=\"token-1\""))
        #expect(page.contains("<p id=\"pesan\">Konflik 1 diterapkan ulang</p>"))
        #expect(!page.contains("id=\"kosong\""))
        // Without rows and a notice: the empty note, no message.
        let empty = pages.render("conflicts", OfficeViews.Conflicts(nav: nav, csrf: "token-1", notice: nil, rows: [], empty: true))
        #expect(empty.contains("id=\"kosong\"") && !empty.contains("id=\"pesan\""))
    }

    @Test func theSignInPageHasNoNavigationAndAnEnrollmentErrorNoTable() throws {
        let pages = try OfficePages()
        let signIn = pages.render("signIn", OfficeViews.SignIn(message: nil))
        #expect(!signIn.contains("<nav>") && !signIn.contains("id=\"pesan\"") && signIn.contains("id=\"kredensial\""))
        let nav = OfficeViews.Nav(csrf: "token-1", site: Shown("disnaker"))
        let none = OfficeViews.Select("status", [], nil)
        let failed = pages.render("enrollments", OfficeViews.Enrollments(
            nav: nav, from: "2025-13-01", to: "", partners: none, programs: none, statuses: none,
            problem: Shown("--from must be a date"), report: nil))
        #expect(failed.contains("<p class=\"peringatan\" id=\"pesan\">--from must be a date</p>") && !failed.contains("id=\"rekap\""))
        #expect(failed.contains("value=\"2025-13-01\""))
    }
}
