public import BegawiCore
import Foundation
internal import GRDB
internal import CSQLite

/// A site's local SQLite replica: synced tables that any program may write, and the engine that
/// captures those writes, exports what another replica lacks and merges what other replicas send.
///
/// Not `Sendable`: one owner drives it; every method runs in its own SQLite transaction, so other
/// processes (staff applications, the `sqlite3` shell) may use the file at the same time.
public final class Replica {
    /// The replica file.
    public let path: String
    /// This replica's own id (random, made at creation); names it as the source of its batches.
    public let replicaID: String
    /// The site that owns this replica; stamps its local writes.
    public let siteID: String
    /// The synced tables installed in the file.
    public let schema: Schema
    /// How long this replica's engine transactions held the write lock, when started: its own, so
    /// that another replica's writes in the process never land in its figures.
    public let writeLockMeter = WriteLockMeter()

    /// For tests only: a gated apply looks up each row on its own, as before the batch's rows held
    /// were read set-wise (`EngineTransaction.heldKeys`), so that both ways can be compared on the
    /// same batches. Set before the replica is used; never in a running daemon.
    package var lookUpEveryRow = false

    let pool: DatabasePool
    let wallClock: any WallClock
    let tables: [InstalledTable]
    let tableByID: [Int64: Int]
    let tableByName: [String: Int]

    private init(path: String, pool: DatabasePool, replicaID: String, siteID: String, tables: [InstalledTable], clock: any WallClock) {
        self.path = path
        self.pool = pool
        self.replicaID = replicaID
        self.siteID = siteID
        self.tables = tables
        self.schema = Schema(tables: tables.map(\.spec))
        self.wallClock = clock
        var byID: [Int64: Int] = [:]
        var byName: [String: Int] = [:]
        for (i, t) in tables.enumerated() {
            byID[t.id] = i
            byName[t.spec.name] = i
        }
        tableByID = byID
        tableByName = byName
    }

    /// Creates a new replica file for a site, with the declared tables, their twins and capture triggers.
    ///
    /// The file must not exist yet (or be empty): Begawi never takes over an existing database.
    public static func create(at path: String, siteID: String, schema: Schema, clock: any WallClock = SystemWallClock()) throws -> Replica {
        try SiteID.validate(siteID)
        try schema.validate()
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size > 0 {
            throw BegawiError(.invalidArgument, "\(path) already exists; Begawi creates replicas only in new files. Open it instead, or choose another path")
        }
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: configuration())
        } catch {
            throw BegawiError(.storage, "cannot create the replica file \(path); check that its folder exists and is writable", cause: "\(error)")
        }
        var generator = UUIDv7Generator()
        let replicaID = generator.next()
        do {
            try makeIncremental(pool)
            try pool.write { db in
                try db.execute(sql: ReplicaSQL.bookkeeping)
                try db.execute(sql: Replica.refusalsSQL)
                let now = Int64(clock.nowMilliseconds())
                for (name, value) in [("format", DatabaseValue(value: ReplicaSQL.format)), ("replica_id", replicaID.databaseValue),
                                      ("site_id", siteID.databaseValue), ("hlc", 0.databaseValue), ("counter", 0.databaseValue),
                                      ("seq", 0.databaseValue), ("created_at", now.databaseValue)] {
                    try db.execute(sql: "INSERT INTO _begawi_state(name, value) VALUES (?, ?)", arguments: [name, value])
                }
                try install(schema, in: db)
            }
        } catch let error as BegawiError {
            throw error
        } catch {
            throw BegawiError(.storage, "cannot set up the replica in \(path)", cause: "\(error)")
        }
        return try load(path: path, pool: pool, clock: clock)
    }

    /// Opens an existing replica. A file that is not a replica, is damaged, or was made by a newer
    /// Begawi is refused with a clear error before anything writes to it.
    public static func open(at path: String, clock: any WallClock = SystemWallClock()) throws -> Replica {
        try ReplicaFileCheck.verify(path: path)
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: configuration())
        } catch {
            throw BegawiError(.storage, "cannot open the replica file \(path)", cause: "\(error)")
        }
        do {
            // Ledgers added after format 1 files were first made; a file that has them is not written to.
            if try !pool.read({ db in try db.tableExists("_begawi_refusals") }) {
                try pool.write { db in try db.execute(sql: Replica.refusalsSQL) }
            }
        } catch {
            throw BegawiError(.storage, "cannot open the replica file \(path) for writing", cause: "\(error)")
        }
        return try load(path: path, pool: pool, clock: clock)
    }

    /// SQLite in multi-thread mode, once per process, before its first connection: GRDB serializes
    /// each connection, so SQLite's per-call mutexes only cost time (about a fifth of apply's).
    static let sqliteSetUp: Void = {
        _ = begawi_sqlite_config_multithread()
        _ = begawi_sqlite_config_no_memstatus()
    }()

    static func configuration() -> Configuration {
        _ = sqliteSetUp
        var config = Configuration()
        config.busyMode = .timeout(30)
        config.prepareDatabase { db in
            // Stated explicitly: Debian's build differs from upstream defaults. Sites hold people's work.
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Statement journals in memory, not in temporary files: each engine statement opens one.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            // A page cache big enough for a large batch's working set (the default is 2 MB).
            try db.execute(sql: "PRAGMA cache_size = -32768")
            // Deleted content is overwritten with zeros, so an evicted or erased person's data does not
            // linger in free pages of the file.
            try db.execute(sql: "PRAGMA secure_delete = ON")
        }
        return config
    }

    static func load(path: String, pool: DatabasePool, clock: any WallClock) throws -> Replica {
        do {
            return try pool.read { db in
                let state = try Dictionary(Row.fetchAll(db, sql: "SELECT name, value FROM _begawi_state").map {
                    (try $0.decode(String.self, forColumn: "name"), $0["value"] as DatabaseValue)
                }, uniquingKeysWith: { first, _ in first })
                guard let replicaID = String.fromDatabaseValue(state["replica_id"] ?? .null),
                      let siteID = String.fromDatabaseValue(state["site_id"] ?? .null) else {
                    throw BegawiError(.corrupted, "\(path) lacks its replica id or site id; restore it from a backup")
                }
                var installed: [InstalledTable] = []
                for row in try Row.fetchAll(db, sql: "SELECT id, name, spec FROM _begawi_tables ORDER BY id") {
                    let spec = try JSONDecoder().decode(TableSpec.self, from: Data(try row.decode(String.self, forColumn: "spec").utf8))
                    installed.append(InstalledTable(id: try row.decode(forColumn: "id"), spec: spec))
                }
                return Replica(path: path, pool: pool, replicaID: replicaID, siteID: siteID, tables: installed, clock: clock)
            }
        } catch let error as BegawiError {
            throw error
        } catch {
            throw BegawiError(.corrupted, "cannot read the replica's bookkeeping in \(path)", cause: "\(error)")
        }
    }

    static func install(_ schema: Schema, in db: Database) throws {
        for table in schema.tables {
            if try db.tableExists(table.name) {
                throw BegawiError(.invalidSchema, "table '\(table.name)' already exists in the file; synced tables are created by Begawi")
            }
            let spec = String(decoding: try JSONEncoder().encode(table), as: UTF8.self)
            try db.execute(sql: "INSERT INTO _begawi_tables(name, spec) VALUES (?, ?)", arguments: [table.name, spec])
            let id = db.lastInsertedRowID
            try db.execute(sql: ReplicaSQL.createTable(table))
            try db.execute(sql: ReplicaSQL.createDeadTable(table))
            for trigger in ReplicaSQL.triggers(table, id: id) { try db.execute(sql: trigger) }
        }
    }

    /// Installs further tables into this replica. Already installed tables are left as they are.
    public func install(_ more: Schema) throws -> Replica {
        try more.validate()
        let new = Schema(tables: more.tables.filter { tableByName[$0.name] == nil })
        for t in more.tables {
            if let i = tableByName[t.name], tables[i].spec != t {
                throw BegawiError(.invalidSchema, "table '\(t.name)' is installed with other columns; install adds whole tables only: a new version of the schema is taken by migrate(to:)")
            }
        }
        guard !new.tables.isEmpty else { return self }
        try pool.write { db in try Replica.install(new, in: db) }
        return try Replica.load(path: path, pool: pool, clock: wallClock)
    }

    /// Closes the file; the replica must not be used afterwards.
    public func close() throws {
        // Fold the write-ahead log into the file, so that a copy of the closed file alone is complete.
        try? pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try pool.close()
    }
}

/// A synced table as installed in this replica, with its statements' SQL.
struct InstalledTable {
    let id: Int64
    let spec: TableSpec
    let selectRecordAndValues: String
    let selectLive: String
    let selectDead: String
    let insertLive: String
    let deleteLive: String
    let upsertDead: String
    let deleteDead: String

    init(id: Int64, spec: TableSpec) {
        self.id = id
        self.spec = spec
        let q = ReplicaSQL.quote
        let t = q(spec.name)
        let dead = ReplicaSQL.dead(spec)
        let key = q(spec.primaryKey.name)
        let columns = spec.columns.map { q($0.name) }
        let list = columns.joined(separator: ", ")
        let params = Array(repeating: "?", count: columns.count + 1).joined(separator: ", ")
        selectLive = "SELECT \(list) FROM \(t) WHERE \(key) = ?"
        let liveList = columns.map { "l.\($0)" }.joined(separator: ", ")
        let deadList = columns.map { "d.\($0)" }.joined(separator: ", ")
        selectRecordAndValues = """
            SELECT r.seq, r.vector, r.stamps, \(liveList), \(deadList), r.origin FROM _begawi_rows r
            LEFT JOIN \(t) l ON l.\(key) = r.key LEFT JOIN \(dead) d ON d.\(key) = r.key
            WHERE r.tbl = ? AND r.key = ?
            """
        selectDead = "SELECT \(list) FROM \(dead) WHERE \(key) = ?"
        insertLive = "INSERT INTO \(t) (\(key), \(list)) VALUES (\(params))"
        deleteLive = "DELETE FROM \(t) WHERE \(key) = ?"
        upsertDead = "INSERT OR REPLACE INTO \(dead) (\(key), \(list)) VALUES (\(params))"
        deleteDead = "DELETE FROM \(dead) WHERE \(key) = ?"
    }
}
