public import BegawiCore
public import BegawiRules
import BegawiReplica
public import Foundation
internal import GRDB

/// The schema versions the hub published (`_hub_schemas`), kept in the hub's file beside the tables
/// they describe, so that the version recorded and the tables installed commit together.
extension SQLiteHubStore {
    static let schemasSQL = """
        CREATE TABLE IF NOT EXISTS _hub_schemas(
            version INTEGER PRIMARY KEY, document TEXT NOT NULL, digest TEXT NOT NULL, published_at INTEGER NOT NULL);
        """

    /// Creates a new hub database with the schema file's tables, and records the file as the first
    /// published version.
    public static func create(at path: String, schemaText: Data, clock: any WallClock = SystemWallClock()) throws {
        let document = try SchemaDocument.parse(schemaText)
        try create(at: path, schema: document.schema, clock: clock)
        let replica = try Replica.open(at: path, clock: clock)
        defer { try? replica.close() }
        try replica.ownerWrite { db in try record(document, text: schemaText, at: Int64(clock.nowMilliseconds()), in: db) }
    }

    /// Every published version, oldest first; empty for a hub made before versions were recorded.
    public static func published(at path: String) throws -> [PublishedSchema] {
        let replica = try Replica.open(at: path)
        defer { try? replica.close() }
        return try published(replica)
    }

    static func published(_ replica: Replica) throws -> [PublishedSchema] {
        try replica.ownerRead { db in
            guard try db.tableExists("_hub_schemas") else { return [] }
            return try Row.fetchAll(db, sql: "SELECT version, document, digest, published_at FROM _hub_schemas ORDER BY version").map {
                PublishedSchema(version: $0["version"], document: $0["document"], digest: $0["digest"], publishedAt: $0["published_at"])
            }
        }
    }

    static func record(_ document: SchemaDocument, text: Data, at time: Int64, in db: Database) throws {
        try db.execute(sql: schemasSQL)
        try db.execute(sql: "INSERT INTO _hub_schemas(version, document, digest, published_at) VALUES (?, ?, ?, ?)",
                       arguments: [document.version, String(decoding: text, as: UTF8.self), document.digest, time])
    }

    /// The published versions as parsed documents; a stored text that no longer parses is a damaged file.
    static func documents(_ published: [PublishedSchema]) throws -> [SchemaDocument] {
        try SchemaVersions.documents(published)
    }

    /// The history a candidate is checked against. A hub made before versions were recorded has
    /// none: its installed tables stand in as version 0, so that the candidate adds to them.
    static func history(_ replica: Replica) throws -> [SchemaDocument] {
        let published = try documents(try published(replica))
        return published.isEmpty ? [SchemaDocument(tables: replica.schema, version: 0)] : published
    }

    /// Checks `text` against the published versions and, if allowed, migrates the hub's tables and
    /// records the version in one transaction; with a refusal nothing changes (the error lists every
    /// refused change with what to do instead). Returns the check's result.
    public static func publish(at path: String, schemaText text: Data, clock: any WallClock = SystemWallClock()) throws -> SchemaEvolution {
        let candidate = try SchemaDocument.parse(text)
        let replica = try Replica.open(at: path, clock: clock)
        var open: Replica? = replica
        defer { try? open?.close() }
        let evolution = SchemaEvolution(history: try history(replica), candidate: candidate)
        try evolution.requireAllowed()
        guard !evolution.isPublished else { return evolution }
        let migrated = try replica.migrate(to: candidate.schema, version: candidate.version) { db in
            try record(candidate, text: text, at: Int64(clock.nowMilliseconds()), in: db)
        }
        open = migrated
        return evolution
    }

    /// Refuses a schema file that is not the published current version, saying what to do. A hub made
    /// before versions were recorded records the file as its first version when it declares the tables
    /// installed; otherwise the file must be published first.
    public static func requirePublished(at path: String, schemaText text: Data, file: String, clock: any WallClock = SystemWallClock()) throws {
        let document = try SchemaDocument.parse(text)
        let replica = try Replica.open(at: path, clock: clock)
        defer { try? replica.close() }
        let published = try published(replica)
        let publish = "`begawi hub schema publish \(file)` (it checks the file and migrates the hub's tables)"
        guard let current = published.max(by: { $0.version < $1.version }) else {
            guard declaresInstalled(document.schema, replica.schema) else {
                throw BegawiError(.configuration, "the schema file \(file) declares other tables or columns than the hub's database holds, and this hub has no published schema version yet; publish the file with \(publish), or point `schema` in hub.toml at the file the hub was made with")
            }
            try replica.ownerWrite { db in try record(document, text: text, at: Int64(clock.nowMilliseconds()), in: db) }
            return
        }
        guard current.digest != document.digest else { return }
        throw unpublished(file: file, version: document.version, current: current.version)
    }

    /// Refuses to serve with declared tables and rules other than the published current version's: the
    /// daemon's own check, whoever starts it (`requirePublished` also compares the version numbers,
    /// and records a first version). Nothing is checked without declared tables, or on a hub that
    /// records no version.
    func requireServing(declared: Schema?, policy: AccessPolicy?, file: String) throws {
        guard let declared, let current = try SQLiteHubStore.published(replica).max(by: { $0.version < $1.version }) else { return }
        let published = try SQLiteHubStore.documents([current])[0]
        guard published.schema != declared || published.policy != policy else { return }
        throw SQLiteHubStore.unpublished(file: file, version: nil, current: current.version)
    }

    /// The refusal of a schema file that is not the published current version; `version` is the file's
    /// (nil when unknown: tables and rules were given).
    package static func unpublished(file: String, version: Int?, current: Int) -> BegawiError {
        let publish = "`begawi hub schema publish \(file)` (it checks the file and migrates the hub's tables)"
        let orPoint = "or point `schema` in hub.toml at the published one (`begawi hub schema show > FILE` writes it)"
        switch version {
        case current?:
            return BegawiError(.configuration, "the schema file \(file) declares version \(current) but differs from the published version \(current), and the hub does not take a change silently; give the file \"version\": \(current + 1) and publish it with \(publish), \(orPoint)")
        case let version?:
            return BegawiError(.configuration, "the schema file \(file) is version \(version), but the hub's published schema is version \(current); publish the file with \(publish), \(orPoint)")
        case nil:
            return BegawiError(.configuration, "the schema file \(file) differs from the hub's published schema version \(current), and the hub does not take a change silently; publish the file with \(publish), \(orPoint)")
        }
    }

    /// Whether `declared` has exactly the installed tables and columns (names, types, NOT NULL, defaults, keys);
    /// limits may differ, since the file in force sets them.
    static func declaresInstalled(_ declared: Schema, _ installed: Schema) -> Bool {
        func shape(_ schema: Schema) -> [String: [String]] {
            Dictionary(schema.tables.map { t in
                (t.name, ([t.primaryKey] + t.columns).map { "\($0.name) \($0.type.uppercased()) \($0.notNull) \($0.defaultLiteral ?? "-")" })
            }, uniquingKeysWith: { a, _ in a })
        }
        return shape(declared) == shape(installed)
    }
}
