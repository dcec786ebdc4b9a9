import BegawiCore
internal import GRDB

/// The replica's clock, write counter and change sequence, loaded and saved in each engine transaction.
struct EngineState {
    var clock: HybridClock
    var counter: UInt64
    var seq: UInt64
}

extension Replica {
    /// Runs `body` in one IMMEDIATE transaction with capture suspended: the engine's own writes are
    /// not captured again. State and new sites are saved with the same commit.
    func engineWrite<T>(_ body: (Database, inout EngineState, inout SiteDirectory) throws -> T) throws -> T {
        do {
            return try pool.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    try db.execute(sql: "INSERT INTO _begawi_applying(engine) VALUES (1)")
                    var state = try loadState(db)
                    var sites = SiteDirectory(rows: try Row.fetchAll(db, sql: "SELECT id, site FROM _begawi_sites").map { ($0[0], $0[1]) })
                    result = try body(db, &state, &sites)
                    for (id, site) in sites.takeAdded() {
                        try db.execute(sql: "INSERT INTO _begawi_sites(id, site) VALUES (?, ?)", arguments: [id, site])
                    }
                    try saveState(db, state)
                    try db.execute(sql: "DELETE FROM _begawi_applying")
                    return .commit
                }
                return result!
            }
        } catch let error as BegawiError {
            throw error
        } catch let error as DatabaseError {
            throw BegawiError(.storage, "the replica \(path) could not complete a transaction; nothing of it was applied", cause: "\(error.resultCode): \(error.message ?? "")")
        }
    }

    func loadState(_ db: Database) throws -> EngineState {
        var values: [String: Int64] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT name, value FROM _begawi_state WHERE name IN ('hlc', 'counter', 'seq')") {
            values[row[0]] = row[1]
        }
        guard let hlc = values["hlc"], let counter = values["counter"], let seq = values["seq"] else {
            throw BegawiError(.corrupted, "the replica \(path) lacks its clock state; restore it from a backup")
        }
        return EngineState(clock: HybridClock(last: HybridTimestamp(rawValue: UInt64(bitPattern: hlc))),
                           counter: UInt64(counter), seq: UInt64(seq))
    }

    func saveState(_ db: Database, _ state: EngineState) throws {
        let statement = try db.cachedStatement(sql: "UPDATE _begawi_state SET value = ? WHERE name = ?")
        try statement.execute(arguments: [Int64(bitPattern: state.clock.last.rawValue), "hlc"])
        try statement.execute(arguments: [Int64(state.counter), "counter"])
        try statement.execute(arguments: [Int64(state.seq), "seq"])
    }

    /// Loads a row's stored record, with register values from the table (live) or its twin (deleted).
    func loadRecord(_ db: Database, table: Int, key: String, sites: SiteDirectory, withValues: Bool) throws -> RowRecord? {
        let spec = tables[table]
        let select = try FastStatement(db, "SELECT seq, vector, stamps FROM _begawi_rows WHERE tbl = ? AND key = ?")
        select.reset()
        select.bind(1, spec.id)
        select.bind(2, key)
        guard try select.step() else { return nil }
        var record = try RowRecord.decode(seq: UInt64(select.int64(0)), stamps: select.blob(2), vector: select.blob(1),
                                          columnCount: spec.spec.columns.count, sites: sites)
        select.reset()
        if withValues, record.state.columns.contains(where: { $0 != nil }) {
            let values = try FastStatement(db, record.state.isLive ? spec.selectLive : spec.selectDead)
            values.reset()
            values.bind(1, key)
            if try values.step() {
                for i in record.state.columns.indices where record.state.columns[i] != nil {
                    record.state.columns[i]!.value = values.value(Int32(i))
                }
            }
            values.reset()
        }
        return record
    }

    func saveRecord(_ db: Database, table: Int, key: String, record: RowRecord, sites: inout SiteDirectory) throws {
        let upsert = try FastStatement(db, "INSERT OR REPLACE INTO _begawi_rows(tbl, key, seq, vector, stamps) VALUES (?, ?, ?, ?, ?)")
        upsert.reset()
        upsert.bind(1, tables[table].id)
        upsert.bind(2, key)
        upsert.bind(3, Int64(record.seq))
        upsert.bind(4, blob: record.encodeVector(sites: &sites))
        upsert.bind(5, blob: record.encodeStamps(sites: &sites))
        try upsert.run()
        upsert.reset()
    }
}
