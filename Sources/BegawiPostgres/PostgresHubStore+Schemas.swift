public import BegawiHub
public import BegawiRules
public import Foundation
import PostgresNIO

/// The published schema versions, in `_hub_schemas`. Each process caches them (a published
/// version never changes) and re-reads the latest at each `refresh`, so that a version published
/// through one process reaches the others without a restart.
extension PostgresHubStore {
    /// The latest published schema version as of the last `refresh`; nil for a hub that records none.
    public var currentSchemaVersion: Int? { cachedVersions.current }

    /// A published schema version, as published; nil for one never published. A version this
    /// process has not seen yet (published through another) is read from the database.
    public func publishedSchema(version: Int) -> PublishedSchema? {
        if let known = cachedVersions.published[version] { return known }
        try? refresh()
        return cachedVersions.published[version]
    }

    /// Every published version, oldest first.
    public func published() throws -> [PublishedSchema] {
        try pool.withLink(PostgresHubStore.published)
    }

    /// Checks `text` against the published versions and, if allowed, records it as the current
    /// version; a refusal changes nothing (the error lists every refused change with what to do).
    /// Publishers take turns (the table is locked), so two cannot record the same version.
    /// The synced tables are made, or given the version's new columns, in the same transaction.
    public func publish(schemaText text: Data) throws -> SchemaEvolution {
        let candidate = try SchemaDocument.parse(text)
        let now = Int64(clamping: clock.nowMilliseconds())
        let evolution = try pool.withLink { link in
            try link.transaction { link in
                try link.query("LOCK TABLE _hub_schemas IN SHARE ROW EXCLUSIVE MODE")
                let history = try SchemaVersions.documents(try PostgresHubStore.published(link))
                let evolution = SchemaEvolution(history: history, candidate: candidate)
                try evolution.requireAllowed()
                // The synced tables: made by the first version, widened by later ones.
                try SyncedTables.install(candidate.schema, on: link)
                if !evolution.isPublished {
                    try link.query("""
                        INSERT INTO _hub_schemas (version, document, digest, published_at)
                        VALUES (\(Int64(candidate.version)), \(String(decoding: text, as: UTF8.self)), \(candidate.digest), \(now))
                        """)
                }
                return evolution
            }
        }
        try refresh()
        if let policy, candidate.policy == policy {
            // A first version published through this process: the rules are installed now (a
            // process opened before any publish had nothing to check them against).
            try pool.withLink { link in _ = try PostgresHubStore.installRules(policy, schema: candidate.schema, clock: clock, on: link) }
        }
        return evolution
    }

    static func published(_ link: PostgresLink) throws -> [PublishedSchema] {
        try link.query("SELECT version, document, digest, published_at FROM _hub_schemas ORDER BY version").map { row in
            let (version, document, digest, publishedAt) = try decode("_hub_schemas") { try row.decode((Int, String, String, Int64).self) }
            return PublishedSchema(version: version, document: document, digest: digest, publishedAt: publishedAt)
        }
    }
}
