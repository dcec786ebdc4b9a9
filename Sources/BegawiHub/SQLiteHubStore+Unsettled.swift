public import BegawiCore
import BegawiReplica
import Foundation

/// The refusals of each replica's last push, kept until its next push: a site whose push answer was
/// lost with the connection (the hub had committed) hears them at its next session, so that a
/// refused change does not stay at the site while the hub's row never comes back to it.
extension SQLiteHubStore {
    static let unsettledSQL = """
        CREATE TABLE IF NOT EXISTS _hub_unsettled(
            replica TEXT PRIMARY KEY NOT NULL, base INTEGER NOT NULL, position INTEGER NOT NULL, refused TEXT NOT NULL) WITHOUT ROWID;
        """

    /// Records what a push refused, in its transaction, replacing the replica's previous push's (the
    /// site settled those before pushing again: `SyncRound` settles a session's first).
    func noteRefusals(replica id: String, result: ApplyResult, _ context: ReplicaContext) throws {
        guard !result.refused.isEmpty else {
            try context.execute("DELETE FROM _hub_unsettled WHERE replica = ?", [.text(id)])
            return
        }
        let refused = String(decoding: try JSONEncoder().encode(result.refused), as: UTF8.self)
        try context.execute("INSERT OR REPLACE INTO _hub_unsettled(replica, base, position, refused) VALUES (?, ?, ?, ?)",
                            [.text(id), .integer(Int64(clamping: result.cursor.baseSeq)), .integer(Int64(clamping: result.cursor.seq)), .text(refused)])
    }

    /// The refusals of the replica's last push, as its answer carried them (the hub's rows to restore
    /// as they are now, cut to the site's `schemaVersion`); nil when that push refused nothing.
    public func unsettledRefusals(site: SiteRecord, replica id: String, schemaVersion: Int?) throws -> PushOutcome? {
        let stored = try replica.read { context in
            try context.query("SELECT base, position, refused FROM _hub_unsettled WHERE replica = ?", [.text(id)]).first
        }
        guard let stored else { return nil }
        guard stored.count == 3, case .integer(let storedBase) = stored[0], case .integer(let storedSeq) = stored[1],
              let base = UInt64(exactly: storedBase), let seq = UInt64(exactly: storedSeq),
              let text = stored[2].text, let refused = try? JSONDecoder().decode([RowRefusal].self, from: Data(text.utf8)) else {
            throw BegawiError(.corrupted, "a push's refusals kept for replica \(id) (_hub_unsettled) cannot be read in \(replica.path); restore the hub from a backup")
        }
        let projection = try versions.schema(forSiteAt: schemaVersion)
        return PushOutcome(cursor: ExchangeCursor(baseSeq: base, seq: seq), rowsChanged: 0, conflicts: 0, refused: refused,
                           restore: try restoreBatch(refused, site: site, projection: projection))
    }

    /// The hub's whole rows for refused rows the site may see, as the base64 batch a push answer carries.
    func restoreBatch(_ refused: [RowRefusal], site: SiteRecord, projection: Schema?) throws -> String? {
        guard !refused.isEmpty else { return nil }
        var keys: [RowKey] = []
        for r in refused where !keys.contains(r.row) { keys.append(r.row) }
        var whole = try replica.wholeRows(keys, view: view(for: site))
        if let projection { whole = whole.projected(onto: projection) }
        return whole.rows.isEmpty ? nil : Data(try BatchCodec.encode(whole)).base64EncodedString()
    }
}
