import BegawiCore
import BegawiRules
import Foundation
import Hummingbird
import HTTPTypes
import Logging

/// The office's dashboard under `/office/`: fleet health, consolidated enrollments with filters
/// and CSV, and the conflict ledger with a way to re-apply a losing value. Signed in with the
/// credential of a site of kind office; no other site may open it.
struct OfficeRoutes: Sendable {
    let store: any HubStore
    let sessions: OfficeSessions
    let clock: any WallClock
    let logger: Logger

    func register(on router: Router<HubRequestContext>) {
        router.get("/office/gaya.css") { _, _ in OfficeRoutes.answer(OfficeHTML.style, type: "text/css; charset=utf-8") }
        router.get("/office/masuk") { request, _ in signInPage(message: nil, status: .ok) }
        router.post("/office/masuk") { request, _ in try await signIn(request) }
        router.post("/office/keluar") { request, _ in try await signOut(request) }
        router.get("/office/") { request, _ in try await page(request) { s in try await overview(s) } }
        router.get("/office/pendaftaran") { request, _ in try await page(request) { s in try await enrollments(request, s) } }
        router.get("/office/pendaftaran.csv") { request, _ in try await page(request) { _ in try await enrollmentsCSV(request) } }
        router.get("/office/konflik") { request, _ in try await page(request) { s in
            try await conflicts(s, notice: sessions.takeFlash(request.cookies[OfficeSessions.cookie]?.value))
        } }
        router.post("/office/konflik/:id/terapkan") { request, context in
            try await page(request) { s in try await reapply(request, id: context.parameters.get("id"), s) }
        }
    }

    // MARK: sessions

    func session(_ request: Request) -> OfficeSessions.Session? {
        sessions.session(request.cookies[OfficeSessions.cookie]?.value, now: clock.nowMilliseconds())
    }

    /// Runs a page for a signed-in office, or sends the browser to sign in. The credential that
    /// opened the session is checked in the database at each request: `hub revoke-site` runs in
    /// another process, and its revocation must end the session at once.
    func page(_ request: Request, _ body: (OfficeSessions.Session) async throws -> Response) async throws -> Response {
        guard let s = session(request) else { return OfficeRoutes.redirect("/office/masuk") }
        let current = try await Blocking.run { [store] in try store.credentialIsCurrent(site: s.site, secretHash: s.credential) }
        guard current else {
            sessions.end(request.cookies[OfficeSessions.cookie]?.value)
            logger.notice("dashboard session ended: the office's credential was revoked or replaced", metadata: ["site.id": "\(s.site)"])
            var response = signInPage(message: "Sesi berakhir: kredensial kantor ini telah dicabut atau diganti. Masuk dengan kredensial yang berlaku.",
                                      status: .unauthorized)
            OfficeRoutes.clearCookie(&response)
            return response
        }
        return try await body(s)
    }

    func signInPage(message: String?, status: HTTPResponse.Status) -> Response {
        let notice: HTML = message.map { "<p class=\"peringatan\" id=\"pesan\">\($0)</p>" } ?? ""
        let body: HTML = """
            \(notice)
            <p>Masuk dengan kredensial kantor (berkas dari <code>begawi hub add-site --kind office</code>).</p>
            <form method="post" action="/office/masuk"><label>Kredensial kantor <input type="password" name="kredensial" id="kredensial" autocomplete="off" required></label>
            <button type="submit" id="masuk">Masuk</button></form>
            """
        return OfficeRoutes.answer(OfficeHTML.page(title: "Masuk", csrf: nil, body), status: status)
    }

    func signIn(_ request: Request) async throws -> Response {
        // A sign-in form is a few hundred bytes: a larger declared body is refused before a byte of
        // it is read, and the body timeout ends one that never comes.
        let limit = 16 << 10
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw HubRefusal(.contentTooLarge, .tooLarge, "a sign-in form has at most \(limit) bytes; sign in from the dashboard's page")
        }
        let form = try await OfficeRoutes.form(request, limit: limit)
        let token = (form["kredensial"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let site = try await Blocking.run { [store] in try store.authenticate(token: token) }
        guard let site, site.kind == .office else {
            logger.notice("dashboard sign-in refused", metadata: ["site.id": "\(site?.id ?? "unknown")"])
            return signInPage(message: site == nil ? "Kredensial tidak dikenal, salah, atau sudah dicabut."
                              : "Kredensial ini milik situs \(site!.id), bukan kantor. Hanya kantor yang dapat membuka dasbor.", status: .unauthorized)
        }
        guard let credential = SiteCredential.parse(token) else { return signInPage(message: nil, status: .unauthorized) }
        let cookie = sessions.start(site: site.id, credential: credential.secretHash, now: clock.nowMilliseconds())
        var response = OfficeRoutes.redirect("/office/")
        response.setCookie(Cookie(name: OfficeSessions.cookie, value: cookie, maxAge: Int(sessions.lifetimeMilliseconds / 1000),
                                  path: "/office", secure: true, httpOnly: true, sameSite: .strict))
        logger.info("dashboard sign-in", metadata: ["site.id": "\(site.id)"])
        return response
    }

    /// Ends the session, form token or not: a sign-out that cleared only the cookie would leave a
    /// copied cookie working. (Signing someone out is all a forged sign-out could do.)
    func signOut(_ request: Request) async throws -> Response {
        sessions.end(request.cookies[OfficeSessions.cookie]?.value)
        var response = OfficeRoutes.redirect("/office/masuk")
        OfficeRoutes.clearCookie(&response)
        return response
    }

    static func clearCookie(_ response: inout Response) {
        response.setCookie(Cookie(name: OfficeSessions.cookie, value: "", maxAge: 0, path: "/office", secure: true, httpOnly: true, sameSite: .strict))
    }

    // MARK: pages

    func overview(_ s: OfficeSessions.Session) async throws -> Response {
        let health = try await Blocking.office { [store] in try store.health() }
        let now = Int64(clock.nowMilliseconds())
        var rows: HTML = ""
        for h in health {
            let stale: HTML = (h.lastContact.map { now - $0 > 3_600_000 } ?? true) ? " class=\"peringatan\"" : ""
            rows += """
                <tr data-site="\(attribute: h.site)"><td>\(h.site)</td><td>\(h.kind)\(h.revoked ? " (dicabut)" : "")</td>\
                <td data-field="kontak"\(stale)>\(OfficeHTML.time(h.lastContact))</td>\
                <td class="n" data-field="tertunda">\(h.pending.map(String.init) ?? "–")</td>\
                <td class="n" data-field="selisih">\(OfficeHTML.seconds(h.clockOffsetMilliseconds))</td>\
                <td data-field="versi">\(h.agent ?? "–")</td>\
                <td class="n" data-field="penolakan">\(h.rowsRefused)</td><td class="n" data-field="konflik">\(h.conflicts)</td></tr>

                """
        }
        let body: HTML = """
            <h2>Kesehatan situs</h2>
            <p class="catatan">Kontak terakhir lebih dari satu jam yang lalu ditandai merah. Perubahan tertunda: yang belum diakui hub saat situs terakhir tersambung. Selisih jam: jam hub dikurangi jam situs.</p>
            <table id="kesehatan"><thead><tr><th>Situs</th><th>Jenis</th><th>Kontak terakhir</th><th>Perubahan tertunda</th><th>Selisih jam</th><th>Versi</th><th>Penolakan</th><th>Konflik</th></tr></thead>
            <tbody>
            \(rows)</tbody></table>
            """
        return OfficeRoutes.answer(OfficeHTML.page(title: "Ringkasan", csrf: s.csrf, site: s.site, body))
    }

    static func filter(_ request: Request) -> ReportFilter {
        let q = request.uri.queryParameters
        func text(_ name: String) -> String? { q.get(name).flatMap { $0.isEmpty ? nil : String($0) } }
        return ReportFilter(from: text("dari"), to: text("sampai"), partner: text("mitra"), program: text("program"), status: text("status"))
    }

    func enrollments(_ request: Request, _ s: OfficeSessions.Session) async throws -> Response {
        let filter = OfficeRoutes.filter(request)
        let (all, report, problem) = try await Blocking.office { [store] () -> (EnrollmentReport, EnrollmentReport?, String?) in
            let all = try store.enrollmentReport(ReportFilter())
            do { return (all, try store.enrollmentReport(filter), nil) } catch let e as BegawiError { return (all, nil, e.message) }
        }
        var partners: [(String, String)] = [], programs: [(String, String)] = []
        for line in all.lines {
            if !partners.contains(where: { $0.0 == line.partner }) { partners.append((line.partner, line.partnerName)) }
            programs.append((line.program, line.programTitle))
        }
        var body: HTML = """
            <form method="get" action="/office/pendaftaran" class="saring">
            <label>Dari <input type="date" name="dari" id="dari" value="\(attribute: filter.from ?? "")"></label>
            <label>Sampai <input type="date" name="sampai" id="sampai" value="\(attribute: filter.to ?? "")"></label>
            <label>Mitra \(OfficeHTML.select("mitra", partners, filter.partner))</label>
            <label>Program \(OfficeHTML.select("program", programs, filter.program))</label>
            <label>Status \(OfficeHTML.select("status", all.statuses.map { ($0, OfficeHTML.status($0)) }, filter.status))</label>
            <button type="submit" id="saring">Saring</button></form>

            """
        guard let report else {
            body += "<p class=\"peringatan\" id=\"pesan\">\(problem ?? "")</p>"
            return OfficeRoutes.answer(OfficeHTML.page(title: "Pendaftaran", csrf: s.csrf, site: s.site, body), status: .badRequest)
        }
        let query = request.uri.query.map { "?" + $0 } ?? ""
        body += "<p><a id=\"csv\" href=\"/office/pendaftaran.csv\(attribute: query)\">Unduh CSV</a></p>\n"
        body += "<table id=\"rekap\"><thead><tr><th>Mitra</th><th>Program</th>"
            + report.statuses.map { "<th>\(OfficeHTML.status($0))</th>" as HTML }.joined() + "<th>Jumlah</th></tr></thead><tbody>\n"
        for line in report.lines {
            body += "<tr data-partner=\"\(attribute: line.partner)\" data-program=\"\(attribute: line.program)\"><td>\(line.partnerName)</td><td>\(line.programTitle)</td>"
                + report.statuses.map { "<td class=\"n\" data-status=\"\(attribute: $0)\">\(line.counts[$0] ?? 0)</td>" as HTML }.joined()
                + "<td class=\"n\" data-status=\"total\">\(line.total)</td></tr>\n"
        }
        body += "<tr class=\"total\" id=\"total\"><td colspan=\"2\">Jumlah</td>"
            + report.statuses.map { "<td class=\"n\" data-status=\"\(attribute: $0)\">\(report.totals[$0] ?? 0)</td>" as HTML }.joined()
            + "<td class=\"n\" data-status=\"total\">\(report.total)</td></tr></tbody></table>"
        if report.lines.isEmpty { body += "<p id=\"kosong\">Tidak ada pendaftaran yang cocok dengan saringan ini.</p>" }
        return OfficeRoutes.answer(OfficeHTML.page(title: "Pendaftaran", csrf: s.csrf, site: s.site, body))
    }

    func enrollmentsCSV(_ request: Request) async throws -> Response {
        let filter = OfficeRoutes.filter(request)
        let report = try await Blocking.office { [store] in try store.enrollmentReport(filter) }
        var response = OfficeRoutes.answer(report.csv, type: "text/csv; charset=utf-8")
        response.headers[.contentDisposition] = "attachment; filename=\"pendaftaran-\(filter.from ?? "awal")-\(filter.to ?? "kini").csv\""
        return response
    }

    func conflicts(_ s: OfficeSessions.Session, notice: String?) async throws -> Response {
        let reviews = try await Blocking.office { [store] in try store.conflictReviews(limit: 500) }
        var body: HTML = notice.map { "<p id=\"pesan\">\($0)</p>\n" } ?? ""
        body += """
            <p class="catatan">Setiap tulisan yang kalah dalam penggabungan tercatat di sini dengan nilainya. Menerapkan ulang menulis nilai yang kalah sebagai perubahan hub; situs yang boleh melihat baris itu menerimanya pada sinkronisasi berikutnya.</p>
            <table id="konflik"><thead><tr><th>Waktu</th><th>Tabel</th><th>Kunci</th><th>Kolom</th><th>Nilai yang kalah</th><th>Dari</th><th>Nilai yang menang</th><th>Dari</th><th>Tindakan</th></tr></thead><tbody>

            """
        for r in reviews {
            let c = r.record
            let action: HTML
            if let at = r.reappliedAt {
                action = "Diterapkan ulang \(OfficeHTML.time(at))"
            } else if let why = r.blocked {
                action = "<span class=\"catatan\">Tidak dapat diterapkan ulang: \(why)</span>"
            } else {
                action = """
                    <form method="post" action="/office/konflik/\(c.id)/terapkan"><input type="hidden" name="csrf" value="\(attribute: s.csrf)">\
                    <button type="submit" class="terapkan">Terapkan ulang</button></form>
                    """
            }
            body += """
                <tr data-conflict="\(c.id)"><td>\(OfficeHTML.time(Int64(clamping: c.detectedAt)))</td><td>\(c.table)</td><td>\(c.key)</td>\
                <td>\(c.column)</td><td data-field="kalah">\(OfficeHTML.value(c.loserValue))</td><td>\(c.loser.site)</td>\
                <td data-field="menang">\(c.winnerIsDelete ? "(dihapus)" : OfficeHTML.value(c.winnerValue))</td><td>\(c.winner.site)</td><td data-field="tindakan">\(action)</td></tr>

                """
        }
        body += "</tbody></table>"
        if reviews.isEmpty { body += "<p id=\"kosong\">Belum ada konflik.</p>" }
        return OfficeRoutes.answer(OfficeHTML.page(title: "Konflik", csrf: s.csrf, site: s.site, body))
    }

    func reapply(_ request: Request, id: String?, _ s: OfficeSessions.Session) async throws -> Response {
        let form = try await OfficeRoutes.form(request)
        guard form["csrf"] == s.csrf else {
            return OfficeRoutes.answer(OfficeHTML.page(title: "Konflik", csrf: s.csrf, site: s.site,
                                                       "<p class=\"peringatan\" id=\"pesan\">Formulir kedaluwarsa; muat ulang halaman konflik.</p>"), status: .forbidden)
        }
        guard let id = id.flatMap(Int64.init) else { return OfficeRoutes.redirect("/office/konflik") }
        let message: String
        do {
            let c = try await Blocking.run { [store] in try store.reapply(conflict: id, by: s.site) }
            logger.notice("conflict re-applied from the dashboard", metadata: ["conflict": "\(id)", "table": "\(c.table)", "site.id": "\(s.site)"])
            message = "Konflik \(id) diterapkan ulang: nilai yang kalah kini menjadi nilai hub."
        } catch let e as BegawiError {
            message = "Konflik \(id) tidak diterapkan ulang: \(e.message)"
        }
        // The outcome waits in the session for the page the browser is sent to (never in the URL).
        sessions.flash(request.cookies[OfficeSessions.cookie]?.value, message)
        return OfficeRoutes.redirect("/office/konflik")
    }

    // MARK: helpers

    static func answer(_ page: HTML, status: HTTPResponse.Status = .ok) -> Response {
        answer(page.markup, type: "text/html; charset=utf-8", status: status)
    }

    static func answer(_ text: String, type: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "no-store"
        headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        headers[.xContentTypeOptions] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func redirect(_ location: String) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        headers[.cacheControl] = "no-store"
        return Response(status: .seeOther, headers: headers)
    }

    /// A form body (`application/x-www-form-urlencoded`, at most `limit` bytes, 64 KiB unless told).
    static func form(_ request: Request, limit: Int = 64 << 10) async throws -> [String: String] {
        var request = request
        let buffer = try await request.collectBody(upTo: limit)
        return OfficeForm.decode(Array(buffer.readableBytesView))
    }
}
