import Foundation

/// The dashboard as a plain HTTPS client sees it (libcurl, no browser): sign in with a credential,
/// keep the session cookie, and send pages' requests with it. Redirects are not followed, so a
/// test sees where the hub sends the browser.
final class OfficeClient {
    let probe: HubProbe
    /// The session cookie (`begawi_office=…`), once signed in.
    var cookie: String?

    /// A client of the cluster's hub, or of another hub process's `url`.
    init(_ cluster: Cluster, url: String? = nil) throws {
        // The probe's own credential header is ignored under /office/; the dashboard reads the form.
        probe = try HubProbe(cluster, site: cluster.sites.first ?? "office", replica: SiteIdentity.freshReplicaID(), url: url)
    }

    /// Posts the sign-in form; keeps the cookie the hub sets.
    @discardableResult
    func signIn(_ credential: String) async throws -> ProbeAnswer {
        let answer = try await post("/office/masuk", ["kredensial": credential])
        if let set = answer.headers["set-cookie"], let pair = set.split(separator: ";").first, pair.hasPrefix("begawi_office="),
           pair != "begawi_office=" {
            cookie = String(pair)
        }
        return answer
    }

    func get(_ path: String) async throws -> ProbeAnswer {
        try await probe.send("GET", path, headers: cookie.map { [("Cookie", $0)] } ?? [], replicaHeader: false)
    }

    func post(_ path: String, _ form: [String: String]) async throws -> ProbeAnswer {
        let body = form.sorted { $0.key < $1.key }.map { "\(OfficeClient.encode($0.key))=\(OfficeClient.encode($0.value))" }.joined(separator: "&")
        let headers = [("Content-Type", "application/x-www-form-urlencoded")] + (cookie.map { [("Cookie", $0)] } ?? [])
        return try await probe.send("POST", path, headers: headers, body: Array(body.utf8), replicaHeader: false)
    }

    /// The form token of a page (`name="csrf" value="…"`).
    static func csrf(_ page: ProbeAnswer) -> String? {
        let text = String(decoding: page.body, as: UTF8.self)
        guard let range = text.range(of: "name=\"csrf\" value=\"") else { return nil }
        return String(text[range.upperBound...].prefix { $0 != "\"" })
    }

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }
}
