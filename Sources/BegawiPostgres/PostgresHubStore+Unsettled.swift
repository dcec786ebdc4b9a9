public import BegawiCore
public import BegawiHub
import Foundation
import NIOCore
import PostgresNIO

/// The refusals of each replica's last push, kept until its next push, as the SQLite store keeps
/// them: a site whose push answer was lost with the connection hears them at its next session.
extension PostgresHubStore {
    /// Records what a push refused, in its transaction, replacing the replica's previous push's.
    func noteRefusals(replica id: String, cursor: ExchangeCursor, refused: [RowRefusal], on link: PostgresLink) throws {
        guard !refused.isEmpty else {
            try link.query("DELETE FROM _hub_unsettled WHERE replica = \(id)")
            return
        }
        let text = String(decoding: try JSONEncoder().encode(refused), as: UTF8.self)
        let (base, seq) = (Int64(clamping: cursor.baseSeq), Int64(clamping: cursor.seq))
        try link.query("""
            INSERT INTO _hub_unsettled (replica, base, position, refused) VALUES (\(id), \(base), \(seq), \(text))
            ON CONFLICT (replica) DO UPDATE SET base = EXCLUDED.base, position = EXCLUDED.position, refused = EXCLUDED.refused
            """)
    }

    /// What the replica's last push refused, as its answer said it: the rows to restore as the hub
    /// holds them now, cut to the site's `schemaVersion`; nil when that push refused nothing.
    public func unsettledRefusals(site: SiteRecord, replica id: String, schemaVersion: Int?) throws -> PushOutcome? {
        try pool.withLink { link -> PushOutcome? in
            guard let row = try link.query("SELECT base, position, refused FROM _hub_unsettled WHERE replica = \(id)").first else { return nil }
            // The site's version is judged only when there is something to give back, as on SQLite: a
            // session naming a version this hub never published is not refused for it here.
            let document = try exchangeDocument()
            let projection = try cachedVersions.schema(forSiteAt: schemaVersion)
            let schema = document.schema
            let (storedBase, storedSeq, text) = try PostgresHubStore.decode("_hub_unsettled") { try row.decode((Int64, Int64, String).self) }
            guard let base = UInt64(exactly: storedBase), let seq = UInt64(exactly: storedSeq),
                  let refused = try? JSONDecoder().decode([RowRefusal].self, from: Data(text.utf8)) else {
                throw PostgresHubStore.damaged("a push's refusals kept for a replica (_hub_unsettled) cannot be read")
            }
            // The refused rows the hub holds now, whole, as the push's answer gave them back: one read.
            var keys: [RowKey] = []
            for refusal in refused where !keys.contains(refusal.row) { keys.append(refusal.row) }
            // Under the rules, only rows the site may see (as the push's answer gave them).
            if let view = siteView(for: site) {
                let visible = try view.visible(keys, on: link)
                keys = keys.filter(visible.contains)
            }
            var bindings = PostgresBindings()
            bindings.append(keys.map(\.table))
            bindings.append(keys.map(\.key))
            var held: [RowKey: RowState] = [:]
            for stored in try link.query(PostgresQuery(unsafeSQL: """
                SELECT r.tbl, r.key, r.state FROM unnest($1::text[], $2::text[]) AS k(tbl, key)
                JOIN _begawi_rows r ON r.tbl = k.tbl AND r.key = k.key WHERE r.state IS NOT NULL
                """, binds: bindings)) {
                let (table, key, bytes) = try PostgresHubStore.decode("_begawi_rows") { try stored.decode((String, String, ByteBuffer).self) }
                guard let spec = schema.table(named: table) else { continue }
                held[RowKey(table: table, key: key)] = try MergeState.decode(Array(bytes.readableBytesView), columnCount: spec.columns.count)
            }
            let whole = keys.compactMap { key -> RowChange? in
                guard let state = held[key], let table = schema.tables.firstIndex(where: { $0.name == key.table }) else { return nil }
                return RowChange(table: table, key: key.key, state: state)
            }
            var restore: String?
            if !whole.isEmpty {
                let batch = ChangeBatch(replicaID: hubReplicaID, baseSeq: 0, afterSeq: 0, throughSeq: 0, complete: false,
                                        tables: schema.tables.map { BatchTable(name: $0.name, columns: $0.columns.map(\.name)) }, rows: whole)
                let cut = projection.map { batch.projected(onto: $0) } ?? batch
                if !cut.rows.isEmpty { restore = Data(try BatchCodec.encode(cut)).base64EncodedString() }
            }
            return PushOutcome(cursor: ExchangeCursor(baseSeq: base, seq: seq), rowsChanged: 0, conflicts: 0, refused: refused, restore: restore)
        }
    }
}
