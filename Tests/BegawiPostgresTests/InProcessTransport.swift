import BegawiCore
import BegawiHub
import BegawiSite
import Foundation

/// A site daemon's transport served by any hub store in the same process, as `HubRoutes` serves
/// session, push, pull, snapshot parts, schema files and catch-up (the same store calls and
/// bodies, the site's schema version from its header), so that a real round
/// (`SiteDaemon.syncOnce`) runs against either store without HTTP. Counts the snapshot parts and
/// pulls it served.
final class InProcessTransport: HubTransport, @unchecked Sendable {
    let store: any HubStore
    let site: SiteRecord
    let configuration: HubConfiguration
    private let lock = NSLock()
    private var parts = 0
    private var pulls = 0
    private var catchUps = 0
    /// Snapshot parts, pulls and catch-up pages served.
    var served: (parts: Int, pulls: Int, catchUps: Int) { lock.withLock { (parts, pulls, catchUps) } }

    init(store: any HubStore, site: SiteRecord, configuration: HubConfiguration = HubConfiguration()) {
        self.store = store
        self.site = site
        self.configuration = configuration
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        return e
    }()

    func send(_ request: HubRequest) async throws -> HubResponse {
        guard let replica = request.headers.first(where: { $0.0 == WireHeader.replica })?.1 else {
            return HubResponse(status: 400, headers: [:], body: [])
        }
        let path = request.path.split(separator: "?", maxSplits: 1)
        var query: [String: String] = [:]
        for pair in path.count > 1 ? path[1].split(separator: "&") : [] {
            let parts = pair.split(separator: "=", maxSplits: 1)
            query[String(parts[0])] = parts.count > 1 ? String(parts[1]).removingPercentEncoding : ""
        }
        func number(_ name: String) -> Int? { query[name].flatMap { Int($0) } }
        let schemaVersion = request.headers.first { $0.0 == WireHeader.schemaVersion }.flatMap { Int($0.1) }
        switch path[0] {
        case "/v1/session":
            var session = try store.session(site: site, replica: replica, configuration: configuration)
            session.protocolVersion = Wire.protocolVersion
            session.unsettled = try store.unsettledRefusals(site: site, replica: replica, schemaVersion: nil)
            return HubResponse(status: 200, headers: [:], body: Array(try Self.encoder.encode(session)))
        case "/v1/push":
            let outcome = try store.push(site: site, replica: replica, batch: try BatchCodec.decode(request.body), schemaVersion: schemaVersion)
            return HubResponse(status: 200, headers: [:], body: Array(try Self.encoder.encode(outcome)))
        case "/v1/pull":
            guard let base = query["base"].flatMap({ UInt64($0) }), let position = query["position"].flatMap({ UInt64($0) }),
                  let maxRows = number("max_rows") else { return HubResponse(status: 400, headers: [:], body: []) }
            lock.withLock { pulls += 1 }
            let page = try store.pull(site: site, replica: replica, after: ExchangeCursor(baseSeq: base, seq: position), maxRows: maxRows,
                                      schemaVersion: schemaVersion, fresh: query["fresh"] == "1")
            return HubResponse(status: 200, headers: [:], body: page.bytes)
        case "/v1/snapshot":
            guard let table = query["table"], let maxRows = number("max_rows") else { return HubResponse(status: 400, headers: [:], body: []) }
            let after = request.headers.first { $0.0 == WireHeader.snapshotAfter }?.1
            let identity = query["encoding"] == "identity"
            guard let part = try store.snapshotPart(site: site, replica: replica, table: table, after: after, maxRows: maxRows,
                                                    schemaVersion: schemaVersion, compressed: !identity) else {
                return HubResponse(status: 404, headers: [:], body: [])
            }
            lock.withLock { parts += 1 }
            // What curl does with the hub's gzip.
            return HubResponse(status: 200, headers: [:], body: identity ? part.bytes : try GzipDecoder.decode(part.bytes, limit: 1 << 30))
        case "/v1/schema":
            let current = try store.session(site: site, replica: replica, configuration: configuration).schemaVersion
            guard let version = number("version") ?? current, let published = store.publishedSchema(version: version) else { return HubResponse(status: 404, headers: [:], body: []) }
            return HubResponse(status: 200, headers: [:], body: Array(published.document.utf8))
        case "/v1/catch-up":
            guard let from = number("from"), let after = query["after"].flatMap({ UInt64($0) }), let maxRows = number("max_rows") else {
                return HubResponse(status: 400, headers: [:], body: [])
            }
            let (_, bytes, next) = try store.catchUp(site: site, replica: replica, fromVersion: from, schemaVersion: schemaVersion, afterSeq: after,
                                                    maxRows: maxRows)
            lock.withLock { catchUps += 1 }
            return HubResponse(status: 200, headers: next.map { [WireHeader.catchUpNext.lowercased(): String($0)] } ?? [:], body: bytes)
        default:
            return HubResponse(status: 404, headers: [:], body: [])
        }
    }
}
