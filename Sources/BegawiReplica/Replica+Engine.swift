import BegawiCore
internal import GRDB

extension Replica {
    /// Runs `body` in one IMMEDIATE transaction with capture suspended: the engine's own writes are
    /// not captured again. State and new sites are saved with the same commit.
    func engineWrite<T>(_ body: (EngineTransaction) throws -> T) throws -> T {
        do {
            return try pool.writeWithoutTransaction { db in try engineWrite(on: db, body) }
        } catch let error as BegawiError {
            throw error
        } catch let error as DatabaseError {
            throw BegawiError(.storage, "the replica \(path) could not complete a transaction; nothing of it was applied", cause: "\(error.resultCode): \(error.message ?? "")")
        }
    }

    /// One engine transaction on the writer connection `db`, already held (`engineWrite` without
    /// taking the connection: a snapshot's adopt keeps a file attached across its transactions).
    func engineWrite<T>(on db: Database, _ body: (EngineTransaction) throws -> T) throws -> T {
        var result: T?
        // From the lock taken (BEGIN IMMEDIATE) to the commit: how long staff writers wait.
        let metered = writeLockMeter.recording
        var locked: ContinuousClock.Instant?
        defer { if let locked { writeLockMeter.record(ContinuousClock.now - locked) } }
        try db.inTransaction(.immediate) {
            if metered { locked = ContinuousClock.now }
            try db.execute(sql: "INSERT INTO _begawi_applying(engine) VALUES (1)")
            let tx = try engineTransaction(db)
            result = try body(tx)
            try tx.flush()
            for (id, site) in tx.sites.takeAdded() {
                try db.execute(sql: "INSERT INTO _begawi_sites(id, site) VALUES (?, ?)", arguments: [id, site])
            }
            try saveState(db, tx.state)
            try db.execute(sql: "DELETE FROM _begawi_applying")
            return .commit
        }
        return result!
    }

    /// The engine's view of the replica inside a transaction already open on `db` (read or write).
    func engineTransaction(_ db: Database) throws -> EngineTransaction {
        EngineTransaction(db: db, state: try loadState(db), sites: try SiteDirectory.load(db), tables: tables)
    }

    func loadState(_ db: Database) throws -> EngineState {
        var values: [String: Int64] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT name, value FROM _begawi_state WHERE name IN ('hlc', 'counter', 'seq', 'offset', 'remote_max', 'counter_at_clock')") {
            values[row[0]] = row[1]
        }
        guard let hlc = values["hlc"], let counter = values["counter"], let seq = values["seq"], counter >= 0, seq >= 0 else {
            throw BegawiError(.corrupted, "the replica \(path) lacks its clock state; restore it from a backup")
        }
        return EngineState(clock: HybridClock(last: HybridTimestamp(rawValue: UInt64(bitPattern: hlc))),
                           counter: UInt64(counter), seq: UInt64(seq), offset: values["offset"] ?? 0,
                           remoteMax: HybridTimestamp(rawValue: UInt64(bitPattern: values["remote_max"] ?? 0)),
                           counterFollowsClock: values["counter_at_clock"] == 1)
    }

    func saveState(_ db: Database, _ state: EngineState) throws {
        let statement = try db.cachedStatement(sql: "INSERT OR REPLACE INTO _begawi_state(value, name) VALUES (?, ?)")
        try statement.execute(arguments: [Int64(bitPattern: state.clock.last.rawValue), "hlc"])
        try statement.execute(arguments: [Int64(state.counter), "counter"])
        try statement.execute(arguments: [Int64(state.seq), "seq"])
        try statement.execute(arguments: [state.offset, "offset"])
        try statement.execute(arguments: [Int64(bitPattern: state.remoteMax.rawValue), "remote_max"])
    }
}
