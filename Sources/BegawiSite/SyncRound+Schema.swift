import BegawiCore
import BegawiReplica
import BegawiRules
import Foundation

/// Following the hub's schema: when the session names a later version than the replica holds, the
/// site fetches it, checks it and migrates its replica in one transaction before it syncs.
extension SyncRound {
    /// Migrates the replica to the session's schema version when it is later than the replica's, then
    /// fetches the rows holding values of what it added (`catchUp`); returns the schema migrated to
    /// (nil when there was nothing to do), for the site's own checks from now on, and the rows the
    /// catch-up received.
    ///
    /// A hostile or mistaken hub must not make a site lose data: the file must match the session's
    /// digest, and must only add tables and nullable or defaulted columns to the replica's own (`SchemaEvolution`).
    func followSchema(_ session: HubSession) async throws -> (migrated: SchemaDocument?, received: Int) {
        guard let target = session.schemaVersion else { return (nil, 0) }
        let local = try await lane.run { try $0.schemaVersion() } ?? 1
        guard target > local else { return (nil, try await catchUp(client, pageRows: session.pageRows)) }
        let bytes = try await client.schema(version: target)
        let document: SchemaDocument
        do {
            document = try SchemaDocument.parse(Data(bytes))
        } catch {
            throw BegawiError(.network, "the hub's schema version \(target) could not be read; nothing was changed, and the site tries again at the next round", cause: "\(error)")
        }
        guard document.version == target, session.schemaDigest.map({ $0 == document.digest }) ?? true else {
            throw BegawiError(.network, "the schema the hub sent is not the version \(target) its session names (another version or digest); nothing was changed, and the site tries again at the next round")
        }
        try await lane.migrate { replica in
            // Tables only: the rules are the hub's to judge; what a site must refuse is losing data.
            let evolution = SchemaEvolution(history: [SchemaDocument(tables: replica.schema, version: local)],
                                            candidate: SchemaDocument(tables: document.schema, version: target))
            guard evolution.isAllowed else {
                let reasons = evolution.refusals.map(\.problem).joined(separator: "; ")
                throw BegawiError(.invalidSchema, "the hub's schema version \(target) does not only add to this replica's version \(local) (\(reasons)); the replica was not changed. Tell the office: a site takes only new tables and new nullable or defaulted columns")
            }
            return try replica.migrate(to: document.schema, version: target, catchUpFrom: local)
        }
        logger.notice("replica migrated to the hub's schema", metadata: ["schema.from": "\(local)", "schema.to": "\(target)"])
        onMigrated?(document)
        // The running daemon adopts `document` at once; a daemon started later reads the file at `schema`.
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: configuration.schemaPath), options: .atomic)
        } catch {
            logger.warning("cannot write the hub's schema to the site's schema file; this daemon checks with the new one, but after a restart the site's checks read the old one until it is replaced",
                           metadata: ["schema.file": "\(configuration.schemaPath)", "error": "\(error)"])
        }
        var client = self.client
        client.schemaVersion = target
        return (document, try await catchUp(client, pageRows: session.pageRows))
    }

    /// Fetches, once after a migration, the rows that hold values in the columns and tables it added
    /// (the normal feed sends only what changed after this replica's cursor), and records it done; a
    /// round cut short does it again (merging is idempotent). Returns the rows received.
    func catchUp(_ client: HubClient, pageRows: Int) async throws -> Int {
        guard let from = try await lane.run({ try $0.schemaCatchUpFrom() }) else { return 0 }
        var after: UInt64 = 0
        var received = 0
        while true {
            let (bytes, next) = try await client.catchUp(fromVersion: from, after: after, maxRows: pageRows)
            let batch = try BatchCodec.decode(bytes)
            guard batch.rows.isEmpty || (batch.afterSeq == 0 && batch.throughSeq == 0 && !batch.complete) else {
                throw BegawiError(.network, "the hub's catch-up page names a range of its feed; check that hub_url names a Begawi hub of this version")
            }
            _ = try await lane.run { try $0.apply(batch, budget: Replica.pageWriteBudget) }
            received += batch.rows.count
            onProgress?()
            guard let next else { break }
            after = next
        }
        try await lane.run { try $0.finishSchemaCatchUp() }
        if received > 0 { logger.info("received the values the schema's new columns hold", metadata: ["rows.received": "\(received)"]) }
        return received
    }
}
