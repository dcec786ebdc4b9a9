import BegawiCore
import BegawiHub
import BegawiSite
import Foundation

/// A site daemon's transport served by a hub store in the same process, as `HubRoutes` serves
/// session, push and pull (the same store calls, the same JSON and refusal bodies), so that a test
/// runs real rounds (`SiteDaemon.syncOnce`) against a real hub file with an injected clock.
/// `failPullsAfter` stops answering pulls after that many (a link lost, or a site stopped, mid-round);
/// `loseAnswerOfPush` loses the answer of that push (counted from 1) after the hub committed it;
/// with `downAfterLoss`, the link stays down after that (every later request fails).
final class StoreTransport: HubTransport, @unchecked Sendable {
    let store: SQLiteHubStore
    let site: SiteRecord
    let configuration: HubConfiguration
    private let lock = NSLock()
    private var pullsLeft: Int?
    /// Cursors of the pulls asked, in order, and whether each asked for a fresh copy.
    var pulls: [(cursor: ExchangeCursor, fresh: Bool)] { lock.withLock { asked } }
    private var asked: [(cursor: ExchangeCursor, fresh: Bool)] = []
    /// Whether it serves `/v1/snapshot` (off: as a hub from before snapshots, which answers 404).
    var snapshots = false
    /// Snapshot parts served before the link is lost (nil: no limit), and what runs before each one
    /// is served (a staff write while the snapshot is fetched).
    var snapshotPartsLeft: Int?
    var beforeSnapshotPart: (() throws -> Void)?
    /// Snapshot parts served, and the rows each request asked for (served or not).
    private(set) var snapshotParts = 0
    private(set) var snapshotRows: [Int] = []
    /// Snapshot requests (counted from 1) lost to the link: the hub writes the part, its answer never arrives.
    var loseSnapshotRequests: Set<Int> = []
    /// Keys of the rows each push delivered, in order.
    var pushed: [[String]] { lock.withLock { delivered } }
    private var delivered: [[String]] = []
    private let loseAnswerOfPush: Int?
    var downAfterLoss = false
    private var down = false

    init(store: SQLiteHubStore, site: SiteRecord, configuration: HubConfiguration = HubConfiguration(), failPullsAfter: Int? = nil,
         loseAnswerOfPush: Int? = nil) {
        self.store = store
        self.site = site
        self.configuration = configuration
        pullsLeft = failPullsAfter
        self.loseAnswerOfPush = loseAnswerOfPush
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        return e
    }()

    func send(_ request: HubRequest) async throws -> HubResponse {
        let replica = request.headers.first { $0.0 == WireHeader.replica }!.1
        if lock.withLock({ down }) { throw BegawiError(.network, "the hub cannot be reached (test transport)") }
        do {
            return try answer(request, replica: replica)
        } catch let refusal as HubRefusal {
            return HubResponse(status: refusal.status, headers: [:], body: Array(try JSONEncoder().encode(refusal.body)))
        }
    }

    func answer(_ request: HubRequest, replica: String) throws -> HubResponse {
        let path = request.path.split(separator: "?", maxSplits: 1)
        var query: [String: String] = [:]
        for pair in path.count > 1 ? path[1].split(separator: "&") : [] {
            let parts = pair.split(separator: "=", maxSplits: 1)
            query[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        switch path[0] {
        case "/v1/session":
            var session = try store.session(site: site, replica: replica, configuration: configuration)
            session.protocolVersion = Wire.protocolVersion
            session.unsettled = try store.unsettledRefusals(site: site, replica: replica, schemaVersion: nil)
            try store.noteSession(site: site.id, replica: replica, report: SiteReport())
            return HubResponse(status: 200, headers: [:], body: Array(try StoreTransport.encoder.encode(session)))
        case "/v1/push":
            let batch = try BatchCodec.decode(request.body)
            let outcome = try store.push(site: site, replica: replica, batch: batch, schemaVersion: nil)
            let count = lock.withLock {
                delivered.append(batch.rows.map(\.key))
                return delivered.count
            }
            if count == loseAnswerOfPush {
                lock.withLock { down = downAfterLoss }
                throw BegawiError(.network, "the connection was reset after the hub committed (test transport)")
            }
            return HubResponse(status: 200, headers: [:], body: Array(try StoreTransport.encoder.encode(outcome)))
        case "/v1/pull":
            let cursor = ExchangeCursor(baseSeq: UInt64(query["base"]!)!, seq: UInt64(query["position"]!)!)
            let fresh = query["fresh"] == "1"
            try lock.withLock {
                asked.append((cursor, fresh))
                if let left = pullsLeft {
                    guard left > 0 else { throw BegawiError(.network, "the hub cannot be reached (test transport)") }
                    pullsLeft = left - 1
                }
            }
            let page = try store.pull(site: site, replica: replica, after: cursor, maxRows: Int(query["max_rows"]!)!, schemaVersion: nil, fresh: fresh)
            return HubResponse(status: 200, headers: [:], body: page.bytes)
        case "/v1/snapshot" where snapshots:
            let lost = lock.withLock {
                snapshotRows.append(Int(query["max_rows"]!)!)
                return loseSnapshotRequests.contains(snapshotRows.count)
            }
            try lock.withLock {
                if let left = snapshotPartsLeft {
                    guard left > 0 else { throw BegawiError(.network, "the hub cannot be reached (test transport)") }
                    snapshotPartsLeft = left - 1
                }
                if !lost { snapshotParts += 1 }
            }
            try beforeSnapshotPart?()
            let after = request.headers.first { $0.0 == WireHeader.snapshotAfter }?.1
            guard let part = try store.snapshotPart(site: site, replica: replica, table: query["table"]!, after: after,
                                                    maxRows: Int(query["max_rows"]!)!, schemaVersion: nil,
                                                    compressed: query["encoding"] != "identity") else {
                return HubResponse(status: 404, headers: [:], body: [])
            }
            if lost { throw BegawiError(.network, "the connection was reset in the middle of the part (test transport)") }
            // What curl does with the hub's gzip.
            let body = query["encoding"] == "identity" ? part.bytes : try GzipDecoder.decode(part.bytes, limit: 1 << 30)
            return HubResponse(status: 200, headers: [:], body: body)
        default:
            return HubResponse(status: 404, headers: [:], body: [])
        }
    }
}
