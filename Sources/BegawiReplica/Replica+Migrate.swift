public import BegawiCore
import Foundation
package import GRDB

/// Moving a replica to a later version of its schema: new tables, and new columns at the end of
/// installed tables. Rows written before keep their registers; a new column has none until a write
/// sets it, which the stored state already says (a register absent from the row's mask), and holds
/// its default meanwhile (SQLite fills the rows stored before, the merge the rows that arrive later).
extension Replica {
    /// Migrates the replica to `schema` in one write transaction (a failure or a kill leaves the old
    /// schema whole) and returns the replica reloaded; this one must not be used afterwards.
    ///
    /// Only additions are taken: new tables, and nullable or defaulted columns after the installed
    /// ones (with new limits for installed columns). Check a new version with `SchemaEvolution` first: it says what
    /// to do instead of a refused change; this refuses it too, so that nothing half-done reaches a file.
    public func migrate(to schema: Schema) throws -> Replica {
        try migrate(to: schema, version: nil) { _ in }
    }

    /// Migrates as `migrate(to:)` does and records `version` as the replica's schema version
    /// (`schemaVersion()`) in the same transaction.
    public func migrate(to schema: Schema, version: Int) throws -> Replica {
        try migrate(to: schema, version: version) { _ in }
    }

    /// The schema version recorded by the last `migrate(to:version:)`; nil when none was.
    public func schemaVersion() throws -> Int? {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT value FROM _begawi_state WHERE name = 'schema_version'") }
    }

    /// Migrates as `migrate(to:)` does, records `version` if given, and runs `alongside` in the same
    /// transaction, for the owner's record of the version (the hub's list of published schemas).
    package func migrate(to schema: Schema, version: Int?, alongside: (Database) throws -> Void) throws -> Replica {
        try schema.validate()
        let plan = try migrationPlan(to: schema)
        try engineWrite { tx in
            // Captured writes are stamped under the columns they were made with, before any changes.
            _ = try absorbOutbox(tx)
            let db = tx.db
            for (installed, next) in plan.changed {
                let q = ReplicaSQL.quote
                for column in next.columns.dropFirst(installed.spec.columns.count) {
                    let type = column.type.uppercased()
                    let constraints = (column.notNull ? " NOT NULL" : "") + (column.defaultLiteral.map { " DEFAULT " + $0 } ?? "")
                    try db.execute(sql: "ALTER TABLE \(q(next.name)) ADD COLUMN \(q(column.name)) \(type)\(constraints)")
                    try db.execute(sql: "ALTER TABLE \(ReplicaSQL.dead(next)) ADD COLUMN \(q(column.name)) \(type)")
                }
                for suffix in Replica.triggerSuffixes {
                    try db.execute(sql: "DROP TRIGGER IF EXISTS \(q("_begawi_\(next.name)_\(suffix)"))")
                }
                for trigger in ReplicaSQL.triggers(next, id: installed.id) { try db.execute(sql: trigger) }
                let spec = String(decoding: try JSONEncoder().encode(next), as: UTF8.self)
                try db.execute(sql: "UPDATE _begawi_tables SET spec = ? WHERE id = ?", arguments: [spec, installed.id])
            }
            try Replica.install(Schema(tables: plan.added), in: db)
            if let version {
                try db.execute(sql: "INSERT OR REPLACE INTO _begawi_state(name, value) VALUES ('schema_version', ?)", arguments: [version])
            }
            try alongside(db)
        }
        return try Replica.load(path: path, pool: pool, clock: wallClock)
    }

    /// The names `ReplicaSQL.triggers` gives a table's triggers, after `_begawi_<table>_`.
    static let triggerSuffixes = ["insert", "update", "rekey", "delete"]

    /// The installed tables that change and the tables to add; throws on anything but additions.
    func migrationPlan(to schema: Schema) throws -> (changed: [(InstalledTable, TableSpec)], added: [TableSpec]) {
        func refuse(_ table: String, _ what: String) -> BegawiError {
            BegawiError(.invalidSchema, "table '\(table)': \(what); a replica takes only new tables and new nullable or defaulted columns after the installed ones (`begawi hub schema publish` says how to make this change in steps)")
        }
        var changed: [(InstalledTable, TableSpec)] = []
        for installed in tables {
            let old = installed.spec
            guard let next = schema.table(named: old.name) else { throw refuse(old.name, "the new schema drops it") }
            guard next != old else { continue }
            guard next.primaryKey.name == old.primaryKey.name, next.columns.count >= old.columns.count else {
                throw refuse(old.name, "the new schema changes its key or drops a column")
            }
            for (was, now) in zip(old.columns, next.columns)
            where was.name != now.name || was.type.uppercased() != now.type.uppercased() || was.notNull != now.notNull
                || was.defaultValue != now.defaultValue {
                throw refuse(old.name, "column '\(was.name)' is renamed, moved, retyped, or changes NOT NULL or its default")
            }
            if let strict = next.columns.dropFirst(old.columns.count).first(where: { $0.notNull && $0.defaultValue == nil }) {
                throw refuse(old.name, "the new column '\(strict.name)' is NOT NULL without a default, which rows already stored cannot be")
            }
            changed.append((installed, next))
        }
        return (changed, schema.tables.filter { tableByName[$0.name] == nil })
    }
}
