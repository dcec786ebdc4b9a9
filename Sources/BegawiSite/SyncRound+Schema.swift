import BegawiCore
import BegawiReplica
import BegawiRules
import Foundation

/// Following the hub's schema: when the session names a later version than the replica holds, the
/// site fetches it, checks it and migrates its replica in one transaction before it syncs.
extension SyncRound {
    /// Migrates the replica to the session's schema version when it is later than the replica's;
    /// returns the version migrated to, or nil when there was nothing to do.
    ///
    /// A hostile or mistaken hub must not make a site lose data: the file must match the session's
    /// digest, and must only add tables and nullable columns to the replica's own (`SchemaEvolution`).
    func followSchema(_ session: HubSession) async throws -> Int? {
        guard let target = session.schemaVersion else { return nil }
        let local = try await lane.run { try $0.schemaVersion() } ?? 1
        guard target > local else { return nil }
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
                throw BegawiError(.invalidSchema, "the hub's schema version \(target) does not only add to this replica's version \(local) (\(reasons)); the replica was not changed. Tell the office: a site takes only new tables and new nullable columns")
            }
            return try replica.migrate(to: document.schema, version: target)
        }
        logger.notice("replica migrated to the hub's schema", metadata: ["schema.from": "\(local)", "schema.to": "\(target)"])
        return target
    }
}
