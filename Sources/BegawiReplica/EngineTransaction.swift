import BegawiCore
internal import GRDB

/// The replica's clock, write counter and change sequence, loaded and saved in each engine transaction.
struct EngineState {
    var clock: HybridClock
    var counter: UInt64
    var seq: UInt64
    /// Milliseconds added to the wall times capture triggers record: the site's estimate of how far
    /// its system clock is behind the hub's (negative when ahead).
    var offset: Int64 = 0
    /// The greatest clock received from another replica.
    var remoteMax: HybridTimestamp = HybridTimestamp(rawValue: 0)
    /// Counters stay below 2^62: the wire's codec refuses any above (`BatchCodec`).
    static let counterLimit: UInt64 = 1 << 62
    /// Whether the write counter never falls below the clock (the hub's rule: `Replica.keepCounterAtClock`).
    var counterFollowsClock = false

    /// Takes the counter of the next local write, stamped at `clock`: one more than the last, and,
    /// under the hub's rule, at least the clock's raw value. The clock moves on by at least one at
    /// every write, so from the first such write on the counter equals the clock: a counter above
    /// every one issued before a given time, without knowing how many writes were made since (a
    /// restored copy of the hub does not know what the lost one wrote after the backup).
    mutating func advanceCounter(stampedAt clock: HybridTimestamp) throws -> UInt64 {
        var next = counter + 1
        if counterFollowsClock { next = max(next, clock.rawValue) }
        guard next < EngineState.counterLimit else {
            throw BegawiError(.clock, "the replica's write counter reached the largest value the wire carries; its clock state (_begawi_state 'hlc', 'counter') is damaged: restore the file from a backup")
        }
        counter = next
        return next
    }
}

/// The statements of one synced table, prepared once per engine transaction.
struct TableStatements {
    let selectRecordAndValues: FastStatement
    let selectLive: FastStatement
    let selectDead: FastStatement
    let insertLive: FastStatement
    let deleteLive: FastStatement
    let upsertDead: FastStatement
    let deleteDead: FastStatement
}

/// One engine transaction: the connection, the replica's state, and prepared statements.
final class EngineTransaction {
    let db: Database
    var state: EngineState
    var sites: SiteDirectory
    private let tables: [InstalledTable]
    private var perTable: [TableStatements?]
    private var prepared: [String: FastStatement] = [:]
    private var updateLiveStatements: [String: FastStatement] = [:]

    /// A statement prepared once per transaction (a damaged file makes this throw, never crash).
    func statement(_ sql: String) throws -> FastStatement {
        if let s = prepared[sql] { return s }
        let s = try FastStatement(db, sql)
        prepared[sql] = s
        return s
    }

    var selectRecord: FastStatement {
        get throws { try statement("SELECT seq, vector, stamps, origin FROM _begawi_rows WHERE tbl = ? AND key = ?") }
    }
    var updateRecord: FastStatement {
        get throws { try statement("UPDATE _begawi_rows SET seq = ?3, vector = ?4, stamps = ?5, origin = ?6 WHERE tbl = ?1 AND key = ?2") }
    }

    lazy var newConflicts = BulkInserter(db: db, head: Replica.insertConflictHead, width: 13)
    lazy var newRecords = BulkInserter(db: db, head: "INSERT INTO _begawi_rows(tbl, key, seq, vector, stamps, origin) VALUES ", width: 6)
    private var newLiveRows: [BulkInserter?]

    init(db: Database, state: EngineState, sites: SiteDirectory, tables: [InstalledTable]) {
        self.db = db
        self.state = state
        self.sites = sites
        self.tables = tables
        perTable = Array(repeating: nil, count: tables.count)
        newLiveRows = Array(repeating: nil, count: tables.count)
    }

    /// Notes a clock received from another replica: the hybrid clock observes it and the greatest is kept.
    func observeRemote(_ clock: HybridTimestamp) {
        state.clock.observe(clock)
        if clock > state.remoteMax { state.remoteMax = clock }
    }

    /// The small integer that stands for another replica in this file (`_begawi_peers.id`, kept in
    /// `_begawi_rows.origin`), made on first use.
    func replicaNumber(for replicaID: String) throws -> Int64 {
        try db.execute(sql: "INSERT OR IGNORE INTO _begawi_peers(replica) VALUES (?)", arguments: [replicaID])
        return try Int64.fetchOne(db, sql: "SELECT id FROM _begawi_peers WHERE replica = ?", arguments: [replicaID]) ?? 0
    }

    /// Collects inserts of rows new to a table, written several at a time.
    func newLiveRowInserter(_ table: Int) -> BulkInserter {
        if let b = newLiveRows[table] { return b }
        let t = tables[table]
        let columns = ([t.spec.primaryKey] + t.spec.columns).map { ReplicaSQL.quote($0.name) }.joined(separator: ", ")
        let b = BulkInserter(db: db, head: "INSERT INTO \(ReplicaSQL.quote(t.spec.name)) (\(columns)) VALUES ", width: t.spec.columns.count + 1)
        newLiveRows[table] = b
        return b
    }

    /// Writes the collected inserts of one synced table's rows (not its merge state), before reading it.
    func flush(table: Int) throws {
        try newLiveRows[table]?.flush()
    }

    /// Writes every collected insert.
    func flush() throws {
        try newRecords.flush()
        try newConflicts.flush()
        for case let b? in newLiveRows { try b.flush() }
    }

    func statements(_ table: Int) throws -> TableStatements {
        if let s = perTable[table] { return s }
        let t = tables[table]
        let s = TableStatements(
            selectRecordAndValues: try FastStatement(db, t.selectRecordAndValues),
            selectLive: try FastStatement(db, t.selectLive), selectDead: try FastStatement(db, t.selectDead),
            insertLive: try FastStatement(db, t.insertLive),
            deleteLive: try FastStatement(db, t.deleteLive), upsertDead: try FastStatement(db, t.upsertDead),
            deleteDead: try FastStatement(db, t.deleteDead))
        perTable[table] = s
        return s
    }

    /// Loads a row's stored record, with register values from the table (live) or its twin (deleted).
    func loadRecord(table: Int, key: String, withValues: Bool) throws -> RowRecord? {
        if withValues { return try loadRecordAndValues(table: table, key: key) }
        let spec = tables[table]
        let select = try selectRecord
        select.reset()
        select.bind(1, spec.id)
        select.bind(2, key)
        guard try select.step() else {
            select.reset()
            return nil
        }
        var record = try RowRecord.decode(seq: UInt64(clamping: select.int64(0)), stamps: select.blob(2), vector: select.blob(1),
                                          columnCount: spec.spec.columns.count, sites: sites)
        record.heldWholeBy = select.isNull(3) ? nil : select.int64(3)
        select.reset()
        if withValues, record.state.columns.contains(where: { $0 != nil }) {
            let s = try statements(table)
            let values = record.state.isLive ? s.selectLive : s.selectDead
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

    /// Stores a record: a new one joins the bulk insert, a known one is updated in place.
    func storeRecord(table: Int, key: String, record: RowRecord, isNew: Bool) throws {
        let row: [SQLValue] = [.integer(tables[table].id), .text(key), .integer(Int64(record.seq)),
                               .blob(record.encodeVector(sites: &sites)), .blob(record.encodeStamps(sites: &sites)),
                               record.heldWholeBy.map { .integer($0) } ?? .null]
        if isNew {
            try newRecords.add(row)
        } else {
            try updateRecord.run(bindings: row)
        }
    }

    /// The record and its values in one statement (the table and its twin joined to the record).
    private func loadRecordAndValues(table: Int, key: String) throws -> RowRecord? {
        let spec = tables[table]
        let select = try statements(table).selectRecordAndValues
        select.reset()
        select.bind(1, spec.id)
        select.bind(2, key)
        defer { select.reset() }
        guard try select.step() else { return nil }
        var record = try RowRecord.decode(seq: UInt64(clamping: select.int64(0)), stamps: select.blob(2), vector: select.blob(1),
                                          columnCount: spec.spec.columns.count, sites: sites)
        let n = spec.spec.columns.count
        record.heldWholeBy = select.isNull(Int32(3 + 2 * n)) ? nil : select.int64(Int32(3 + 2 * n))
        let offset = record.state.isLive ? 3 : 3 + n
        for i in record.state.columns.indices where record.state.columns[i] != nil {
            record.state.columns[i]!.value = select.value(Int32(offset + i))
        }
        return record
    }

    /// `UPDATE t SET <changed columns> WHERE key = ?1`, one statement per set of changed columns.
    func updateLive(table: Int, mask: UInt64) throws -> FastStatement {
        let cacheKey = "\(table)/\(mask)"
        if let s = updateLiveStatements[cacheKey] { return s }
        let spec = tables[table].spec
        var sets: [String] = []
        var parameter = 2
        for (i, c) in spec.columns.enumerated() where mask & (1 << UInt64(i)) != 0 {
            sets.append("\(ReplicaSQL.quote(c.name)) = ?\(parameter)")
            parameter += 1
        }
        let s = try FastStatement(db, "UPDATE \(ReplicaSQL.quote(spec.name)) SET \(sets.joined(separator: ", ")) WHERE \(ReplicaSQL.quote(spec.primaryKey.name)) = ?1")
        updateLiveStatements[cacheKey] = s
        return s
    }

}
