public import BegawiCore
internal import GRDB

/// A site's replica after a migration still lacks the values the hub holds in the added columns and
/// tables: it records, with the migration, the version it came from, until it has fetched those rows.
extension Replica {
    /// Migrates as `migrate(to:version:)` does and records in the same transaction that the rows
    /// holding values of what versions after `catchUpFrom` added are still to be fetched
    /// (`schemaCatchUpFrom()`); a catch-up still pending keeps its older version.
    public func migrate(to schema: Schema, version: Int, catchUpFrom: Int) throws -> Replica {
        try migrate(to: schema, version: version) { db in
            try db.execute(sql: "INSERT OR IGNORE INTO _begawi_state(name, value) VALUES ('schema_catch_up_from', ?)", arguments: [catchUpFrom])
        }
    }

    /// The schema version whose later additions' values are still to be fetched; nil when none are.
    public func schemaCatchUpFrom() throws -> Int? {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT value FROM _begawi_state WHERE name = 'schema_catch_up_from'") }
    }

    /// Records that the catch-up is done.
    public func finishSchemaCatchUp() throws {
        try pool.write { db in try db.execute(sql: "DELETE FROM _begawi_state WHERE name = 'schema_catch_up_from'") }
    }
}
