public import BegawiCore
public import BegawiHub
import Foundation
public import Hummingbird
import HTTPTypes
public import Logging

/// The office's dashboard under `/office/`: fleet health, consolidated enrollments with filters
/// and CSV, and the conflict ledger with a way to re-apply a losing value. Signed in with the
/// credential of a site of kind office; no other site may open it.
public struct OfficeRoutes: HubRouteGroup {
    let store: any HubStore & OfficeStore
    /// Where sessions live (`OfficeStore.officeSessions`: the process on SQLite, the database on PostgreSQL).
    let sessions: any OfficeSessionStore
    let pages: OfficePages
    let clock: any WallClock
    let logger: Logger
    /// The hub's lanes: sign-in in the sync lane, pages in the office's own.
    let lanes: Blocking
    /// The retention the health page judges expired sites by (the hub's at its start).
    let retention: HubRetention

    /// The dashboard over the hub's store; its sessions live where the store keeps them
    /// (`OfficeStore.officeSessions`: as long as this value on SQLite, in the database on PostgreSQL).
    public init(store: any HubStore & OfficeStore, lanes: Blocking, retention: HubRetention = HubRetention(),
                clock: any WallClock = SystemWallClock(), logger: Logger) throws {
        self.store = store
        self.retention = retention
        self.lanes = lanes
        self.sessions = try store.officeSessions()
        self.pages = try OfficePages()
        self.clock = clock
        self.logger = logger
    }

    /// Every page is under `/office`.
    public var pathPrefix: String { "/office" }

    /// The sign-in form checks the office's credential.
    public var credentialPaths: Set<String> { ["/office/masuk"] }

    /// Mounts the dashboard's pages under `/office/`.
    public func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("/office/gaya.css") { _, _ in OfficeRoutes.answer(OfficeTemplates.style, type: "text/css; charset=utf-8") }
        router.get("/office/masuk") { request, _ in try await signInPage(message: nil, status: .ok) }
        router.post("/office/masuk") { request, _ in try await signIn(request) }
        router.post("/office/keluar") { request, _ in try await signOut(request) }
        router.get("/office/") { request, _ in try await page(request) { s in try await overview(s) } }
        router.get("/office/pendaftaran") { request, _ in try await page(request) { s in try await enrollments(request, s) } }
        router.get("/office/pendaftaran.csv") { request, _ in try await page(request) { _ in try await enrollmentsCSV(request) } }
        router.get("/office/konflik") { request, _ in try await page(request) { s in
            let token = request.cookies[OfficeSessions.cookie]?.value
            return try await conflicts(s, notice: try await lanes.run { [sessions] in try sessions.takeFlash(token) })
        } }
        router.post("/office/konflik/:id/terapkan") { request, context in
            try await page(request) { s in try await reapply(request, id: context.parameters.get("id"), s) }
        }
    }

    // MARK: sessions

    /// Runs a page for a signed-in office, or sends the browser to sign in. The session is read
    /// where it lives and the credential that opened it is checked in the database at each request,
    /// in one trip to the sync lane: `hub revoke-site` runs in another process, and its revocation
    /// must end the session at once.
    func page(_ request: Request, _ body: (OfficeSession) async throws -> Response) async throws -> Response {
        let token = request.cookies[OfficeSessions.cookie]?.value
        let now = clock.nowMilliseconds()
        let (found, current) = try await lanes.run { [store, sessions] () -> (OfficeSession?, Bool) in
            guard let s = try sessions.session(token, now: now) else { return (nil, false) }
            return (s, try store.credentialIsCurrent(site: s.site, secretHash: s.credential))
        }
        guard let s = found else { return OfficeRoutes.redirect("/office/masuk") }
        guard current else {
            try await lanes.run { [sessions] in try sessions.end(token) }
            logger.notice("dashboard session ended: the office's credential was revoked or replaced", metadata: ["site.id": "\(s.site)"])
            var response = try await signInPage(message: "Sesi berakhir: kredensial kantor ini telah dicabut atau diganti. Masuk dengan kredensial yang berlaku.",
                                      status: .unauthorized)
            OfficeRoutes.clearCookie(&response)
            return response
        }
        return try await body(s)
    }

    func signInPage(message: String?, status: HTTPResponse.Status) async throws -> Response {
        try await render("signIn", OfficeViews.SignIn(message: message.map(Shown.init)), status: status)
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
        let site = try await lanes.run { [store] in try store.authenticate(token: token) }
        guard let site, site.kind == .office else {
            logger.notice("dashboard sign-in refused", metadata: ["site.id": "\(site?.id ?? "unknown")"])
            return try await signInPage(message: site == nil ? "Kredensial tidak dikenal, salah, atau sudah dicabut."
                              : "Kredensial ini milik situs \(site!.id), bukan kantor. Hanya kantor yang dapat membuka dasbor.", status: .unauthorized)
        }
        guard let credential = SiteCredential.parse(token) else { return try await signInPage(message: nil, status: .unauthorized) }
        let now = clock.nowMilliseconds()
        let cookie = try await lanes.run { [sessions] in try sessions.start(site: site.id, credential: credential.secretHash, now: now) }
        var response = OfficeRoutes.redirect("/office/")
        response.setCookie(Cookie(name: OfficeSessions.cookie, value: cookie, maxAge: Int(OfficeSession.lifetimeMilliseconds / 1000),
                                  path: "/office", secure: true, httpOnly: true, sameSite: .strict))
        logger.info("dashboard sign-in", metadata: ["site.id": "\(site.id)"])
        return response
    }

    /// Ends the session, form token or not: a sign-out that cleared only the cookie would leave a
    /// copied cookie working. (Signing someone out is all a forged sign-out could do.)
    func signOut(_ request: Request) async throws -> Response {
        let token = request.cookies[OfficeSessions.cookie]?.value
        try await lanes.run { [sessions] in try sessions.end(token) }
        var response = OfficeRoutes.redirect("/office/masuk")
        OfficeRoutes.clearCookie(&response)
        return response
    }

    static func clearCookie(_ response: inout Response) {
        response.setCookie(Cookie(name: OfficeSessions.cookie, value: "", maxAge: 0, path: "/office", secure: true, httpOnly: true, sameSite: .strict))
    }

    // MARK: helpers

    /// A page rendered from its template, in the office's lane: a page of 500 conflicts takes
    /// Mustache tens of milliseconds (it reads values by reflection), which must not hold one of the
    /// cooperative threads that every request shares.
    func render(_ template: String, _ view: some Sendable, status: HTTPResponse.Status = .ok) async throws -> Response {
        let html = try await lanes.office { [pages] in pages.render(template, view) }
        return OfficeRoutes.answer(html, type: "text/html; charset=utf-8", status: status)
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
