import BegawiCore
import Hummingbird
import HTTPTypes

extension HubRoutes {
    /// The longest row key a snapshot request may name (keys are UUIDs or derived keys, far shorter).
    static let maxSnapshotKeyBytes = 512

    /// A part of a new replica's first pull as a snapshot: `table`'s rows after the key in
    /// `Begawi-Snapshot-After`, a SQLite file sent gzip-compressed (as it is with `encoding=identity`:
    /// a site on a fast link, where the deflate is what it would wait for).
    func snapshot(_ request: Request) async throws -> Response {
        let (site, replica) = try await caller(request)
        let query = request.uri.queryParameters
        guard let epoch = query.get("epoch"), let table = query.get("table"), !table.isEmpty else {
            throw HubRefusal(.badRequest, .badRequest, "snapshot needs epoch and table in the query")
        }
        guard epoch == store.hubReplicaID else {
            var refusal = HubRefusal(.conflict, .epochChanged, "the hub was restored from a backup (epoch \(store.hubReplicaID)); start a new session to re-sync")
            refusal.hubReplicaID = store.hubReplicaID
            throw refusal
        }
        let after = request.headers[.begawiSnapshotAfter]
        guard (after?.utf8.count ?? 0) <= HubRoutes.maxSnapshotKeyBytes else {
            throw HubRefusal(.badRequest, .badRequest, "\(WireHeader.snapshotAfter) is longer than any row key (\(HubRoutes.maxSnapshotKeyBytes) bytes at most)")
        }
        let maxRows = try HubRoutes.maxRows(query.get("max_rows"), page: SQLiteHubStore.maxSnapshotRows)
        let schemaVersion = try HubRoutes.schemaVersion(request)
        let compressed = query.get("encoding") != "identity"
        let answer = try await lanes.run { [store] in
            try store.snapshotPart(site: site, replica: replica, table: table, after: after, maxRows: maxRows, schemaVersion: schemaVersion,
                                   compressed: compressed)
        }
        guard let answer else {
            throw HubRefusal(.notFound, .snapshotUnavailable, "this hub gives snapshots only to sites on its current schema version; pull pages instead")
        }
        metrics.sent(site: site.id, bytes: answer.bytes.count, rows: answer.rows, throughSeq: nil)
        var headers = HTTPFields()
        if compressed { headers[.contentEncoding] = "gzip" }
        return HubAnswer.bytes(answer.bytes, contentType: Wire.snapshotMediaType, headers: headers)
    }
}

extension HTTPField.Name {
    static let begawiSnapshotAfter = HTTPField.Name(WireHeader.snapshotAfter)!
}
