import BegawiCore
internal import CSQLite
import Foundation
internal import GRDB

/// Adopting a snapshot of the hub's rows part by part (a new replica's first pull): each part's rows
/// are written as they are, in engine transactions held no longer than a budget, without merging them
/// one by one; a row this replica already holds (a staff write, or a part adopted again after a crash)
/// merges as a pulled page would. The cursor moves only with the last part, to the position of the
/// first: the pages after it bring whatever changed while the parts were fetched.
extension Replica {
    /// The snapshot transfer from `source` under way, if any.
    public func snapshotProgress(from source: String) throws -> SnapshotProgress? {
        try pool.read { db in try loadSnapshotProgress(db, source: source) }
    }

    /// The part to fetch next from `source`: where a transfer under way stands, else the first
    /// table's first part (nil for a replica without tables).
    public func nextSnapshotPart(from source: String) throws -> SnapshotProgress? {
        try snapshotProgress(from: source) ?? tables.first.map { SnapshotProgress(position: 0, table: $0.spec.name, after: nil) }
    }

    /// Forgets a snapshot transfer under way (its adopted rows stay; the pages bring the rest).
    public func abandonSnapshot() throws {
        try pool.write { db in try db.execute(sql: "DELETE FROM _begawi_state WHERE name LIKE 'snapshot\\_%' ESCAPE '\\'") }
    }

    /// Adopts the snapshot part in the file at `path`, exported by `source`, in engine transactions of
    /// about `budget` each. A part that does not fit this replica's schema throws `badBatch`.
    public func adoptSnapshotPart(at path: String, from source: String, budget: Duration) throws -> SnapshotAdoption {
        try adoptSnapshotPart(.path(path), from: source, budget: budget)
    }

    /// Adopts a snapshot part held in memory (`file`: the bytes of its SQLite file, never written to disk).
    public func adoptSnapshotPart(_ file: [UInt8], from source: String, budget: Duration) throws -> SnapshotAdoption {
        try adoptSnapshotPart(.bytes(file), from: source, budget: budget)
    }

    /// The rows of the part in the file at `path`, and the part to fetch after it (nil after the last),
    /// read from the part's description, so that it is fetched while this one is adopted.
    public func snapshotPart(following path: String, from source: String) throws -> (rows: Int, next: SnapshotProgress?) {
        try snapshotPart(following: .path(path), from: source)
    }

    /// The rows of a part held in memory, and the part to fetch after it (see `snapshotPart(following:from:)`).
    public func snapshotPart(following file: [UInt8], from source: String) throws -> (rows: Int, next: SnapshotProgress?) {
        try snapshotPart(following: .bytes(file), from: source)
    }

    /// Where a part's SQLite file is: on disk, or its bytes in memory.
    private enum PartFile {
        case path(String)
        case bytes([UInt8])
    }

    private func adoptSnapshotPart(_ file: PartFile, from source: String, budget: Duration) throws -> SnapshotAdoption {
        do {
            return try pool.writeWithoutTransaction { db in
                try attaching(file, on: db) { try withoutCaptureTriggers(db) { try adoptAttachedPart(db, source: source, budget: budget) } }
            }
        } catch let error as DatabaseError {
            throw BegawiError(.storage, "the replica \(self.path) could not adopt a part of the hub's snapshot; the next round fetches it again",
                              cause: "\(error.resultCode): \(error.message ?? "")")
        }
    }

    private func snapshotPart(following file: PartFile, from source: String) throws -> (rows: Int, next: SnapshotProgress?) {
        do {
            return try pool.writeWithoutTransaction { db in
                try attaching(file, on: db) {
                    let part = try describeAttachedPart(db, source: source)
                    return (part.rows, part.next)
                }
            }
        } catch let error as DatabaseError {
            throw BegawiError(.badBatch, "the hub's snapshot part could not be read; the pages bring the rows instead",
                              cause: "\(error.resultCode): \(error.message ?? "")")
        }
    }

    /// Runs `body` with the part attached as `snap`: a file, or the bytes in memory, attached writable (an
    /// engine transaction begins on every attached database, and one read-only refuses it).
    private func attaching<T>(_ file: PartFile, on db: Database, _ body: () throws -> T) throws -> T {
        switch file {
        case .path(let path):
            try db.execute(sql: "ATTACH DATABASE ? AS snap", arguments: [path])
        case .bytes(let bytes):
            guard !bytes.isEmpty else {
                throw BegawiError(.badBatch, "the hub's snapshot part is empty; the pages bring the rows instead")
            }
            // The bytes where they are, attached only within this closure: a copy for SQLite would be a third
            // part in memory beside this one and the one prefetched (peak RSS). No flag: SQLite neither frees
            // nor grows them, and nothing is written to a part (it is only read).
            return try bytes.withUnsafeBufferPointer { buffer in
                try db.execute(sql: "ATTACH DATABASE ':memory:' AS snap")
                defer { try? db.execute(sql: "DETACH DATABASE snap") }
                let size = sqlite3_int64(buffer.count)
                guard sqlite3_deserialize(db.sqliteConnection, "snap", UnsafeMutablePointer(mutating: buffer.baseAddress!), size, size, 0) == SQLITE_OK else {
                    throw BegawiError(.badBatch, "the hub's snapshot part could not be opened in memory; the pages bring the rows instead")
                }
                return try body()
            }
        }
        defer { try? db.execute(sql: "DETACH DATABASE snap") }
        return try body()
    }

    /// Runs `body` with triggers off on the writer's connection, if the file has no triggers but the
    /// capture triggers (named `_begawi_…`): those do nothing in an engine transaction, yet cost a trigger
    /// program per adopted row (half again the time of the values' insert). A program's own triggers
    /// keep them all on, so that it sees the adopted rows as it sees a pulled page's.
    private func withoutCaptureTriggers<T>(_ db: Database, _ body: () throws -> T) throws -> T {
        let others = try Int.fetchOne(db, sql: """
            SELECT count(*) FROM (SELECT name FROM sqlite_master WHERE type = 'trigger' UNION ALL
                                  SELECT name FROM sqlite_temp_master WHERE type = 'trigger') WHERE name NOT LIKE '\\_begawi\\_%' ESCAPE '\\'
            """) ?? 1
        guard others == 0 else { return try body() }
        // Turning them off or on again expires the connection's prepared statements: once per part.
        _ = begawi_sqlite_enable_triggers(db.sqliteConnection, 0)
        defer { _ = begawi_sqlite_enable_triggers(db.sqliteConnection, 1) }
        return try body()
    }

    /// The attached part's table, its rows, the position the cursor takes after the last part, and the part after it.
    private func describeAttachedPart(_ db: Database, source: String) throws -> (index: Int, rows: Int, position: UInt64, next: SnapshotProgress?) {
        var meta: [String: DatabaseValue] = [:]
        do {
            for row in try Row.fetchAll(db, sql: "SELECT name, value FROM snap.part") {
                guard let name = String.fromDatabaseValue(row[0] as DatabaseValue) else { continue }
                meta[name] = row[1] as DatabaseValue
            }
        } catch let error as DatabaseError {
            throw BegawiError(.badBatch, "the hub's snapshot part is not a readable SQLite file; the pages bring the rows instead",
                              cause: "\(error.resultCode): \(error.message ?? "")")
        }
        guard Int64.fromDatabaseValue(meta["format"] ?? .null) == Int64(SnapshotPart.format) else {
            throw BegawiError(.badBatch, "the hub's snapshot part is in another layout than this site reads (a hub of another version); the pages bring the rows instead")
        }
        guard let epoch = String.fromDatabaseValue(meta["epoch"] ?? .null), let name = String.fromDatabaseValue(meta["table"] ?? .null),
              let columns = String.fromDatabaseValue(meta["columns"] ?? .null), let head = Int64.fromDatabaseValue(meta["position"] ?? .null),
              let finished = Int64.fromDatabaseValue(meta["finished"] ?? .null), head >= 0 else {
            throw BegawiError(.badBatch, "the hub's snapshot part lacks its description; the pages bring the rows instead")
        }
        guard epoch == source, let index = tableByName[name],
              columns == ([tables[index].spec.primaryKey.name] + tables[index].spec.columns.map(\.name)).joined(separator: "\n") else {
            throw BegawiError(.badBatch, "the hub's snapshot part of table '\(name)' does not fit this replica's schema; the pages bring the rows instead")
        }
        let progress = try loadSnapshotProgress(db, source: source)
        if let progress, progress.table != name {
            throw BegawiError(.badBatch, "the hub sent a snapshot part of table '\(name)' where '\(progress.table)' was next; the next round asks again")
        }
        let position = progress?.position ?? UInt64(head)
        let next: SnapshotProgress?
        if finished != 0 {
            next = index + 1 < tables.count ? SnapshotProgress(position: position, table: tables[index + 1].spec.name, after: nil) : nil
        } else {
            next = SnapshotProgress(position: position, table: name, after: String.fromDatabaseValue(meta["last_key"] ?? .null))
        }
        let rows = Int64.fromDatabaseValue(meta["rows"] ?? .null).map { Int(clamping: max(0, $0)) } ?? 0
        return (index, rows, position, next)
    }

    private func adoptAttachedPart(_ db: Database, source: String, budget: Duration) throws -> SnapshotAdoption {
        let (index, _, position, next) = try describeAttachedPart(db, source: source)
        let sites = try Row.fetchAll(db, sql: "SELECT id, site FROM snap.sites")
        let siteRows = sites.compactMap { row -> (Int, String)? in
            guard let id = Int64.fromDatabaseValue(row[0] as DatabaseValue), let site = String.fromDatabaseValue(row[1] as DatabaseValue) else { return nil }
            return (Int(clamping: id), site)
        }
        guard siteRows.count == sites.count, siteRows.allSatisfy({ (1...SiteDirectory.maxID).contains($0.0) }) else {
            throw BegawiError(.badBatch, "the hub's snapshot part numbers a site outside 1–\(SiteDirectory.maxID); the pages bring the rows instead")
        }
        let numbers = try Row.fetchOne(db, sql: "SELECT count(*), ifnull(min(n), 1), ifnull(max(n), 0) FROM snap.records")
        let (count, first, last): (Int64, Int64, Int64) = numbers.map { ($0[0], $0[1], $0[2]) } ?? (0, 1, 0)
        // Rows are adopted by their numbers, which give their change numbers: they must be 1, 2, 3…
        guard first == 1, last == count else {
            throw BegawiError(.badBatch, "the hub's snapshot part does not number its rows 1 to \(count); the pages bring the rows instead")
        }
        var adoption = SnapshotAdoption()
        adoption.next = next
        var done: Int64 = 0
        // Rows per transaction, sized from the last one's work to hold the write lock about `budget`
        // with the commit. The commit's own time is left out: a slow disk's sync does not shrink with the
        // rows, and counting it would split a part into ever more commits, each paying it again.
        var chunk: Int64 = 500
        var took = Duration.zero
        // Only the part's last commit is made durable (`synchronous = FULL`, which syncs the WAL and so
        // every commit before it); the ones before it are not synced (`NORMAL`). A power cut may take them
        // back, but only together with the part's progress, kept in the same file: the part is fetched
        // and adopted again. Nothing leaves the replica before a durable commit: the round goes on to the
        // next part, and a part that fails is made durable before the error goes up.
        var unsynced = false
        // The WAL checkpointed after 8,192 pages (32 MB, as the hub's) rather than 1,000 while the part
        // is adopted: an eighth of the checkpoints, each of which syncs the WAL and the file.
        let checkpointPages = try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint") ?? 1000
        try db.execute(sql: "PRAGMA wal_autocheckpoint = 8192")
        defer {
            try? db.execute(sql: "PRAGMA wal_autocheckpoint = \(checkpointPages)")
            try? db.execute(sql: "PRAGMA synchronous = FULL")
            // A part cut by an error: its commits so far made durable by one that is (the engine state, as it is).
            if unsynced { _ = try? engineWrite(on: db) { _ in } }
        }
        repeat {
            let isLast = done + chunk >= count
            try db.execute(sql: isLast ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL")
            done = try engineWrite(on: db) { tx in
                let started = ContinuousClock.now
                defer { took = ContinuousClock.now - started }
                _ = try absorbOutbox(tx)
                let through = min(count, done + chunk)
                try adoptRows(tx, table: index, after: done, through: through, sender: source, sites: siteRows, adoption: &adoption)
                if through >= count { try finishSnapshotPart(tx.db, source: source, position: position, next: adoption.next) }
                return through
            }
            unsynced = !isLast
            let fill = (budget * 3 / 4) / max(took, .microseconds(100))
            chunk = Int64(max(100, min(Double(chunk) * 2, Double(chunk) * fill)))
        } while done < count
        if adoption.next == nil { adoption.cursor = ExchangeCursor(baseSeq: position, seq: position) }
        return adoption
    }

    /// Adopts the part's rows numbered `after` + 1 through `through`: the new ones in three statements
    /// (merge state renumbered by `SnapshotStamps`, then values), those held already merged one by one.
    private func adoptRows(_ tx: EngineTransaction, table: Int, after: Int64, through: Int64, sender: String, sites: [(Int, String)],
                           adoption: inout SnapshotAdoption) throws {
        let db = tx.db
        let spec = tables[table].spec, tableID = tables[table].id
        let senderNumber = try tx.replicaNumber(for: sender)
        let seqBefore = Int64(clamping: tx.state.seq)
        let range = "r.n > ?1 AND r.n <= ?2", held = "EXISTS (SELECT 1 FROM _begawi_rows x WHERE x.tbl = ?3 AND x.key = r.key)"
        let partSites = SiteDirectory(rows: sites)
        // Staff writes the outbox gave the engine are written first: they may be rows of this part.
        try tx.flush()
        var known: [(n: Int64, key: String, record: RowRecord)] = []
        // Whether the replica holds a key in the range's span: one search (a new replica nearly always holds
        // none) before one per row.
        let holdsAny = try Bool.fetchOne(db, sql: """
            SELECT EXISTS (SELECT 1 FROM (SELECT min(r.key) AS low, max(r.key) AS high FROM snap.records r WHERE \(range)) s
                           CROSS JOIN _begawi_rows x WHERE x.tbl = ?3 AND x.key BETWEEN s.low AND s.high)
            """, arguments: [after, through, tableID]) ?? true
        for row in !holdsAny ? [] : try Row.fetchAll(db, sql: "SELECT r.n, r.key, r.vector, r.stamps FROM snap.records r WHERE \(range) AND \(held) ORDER BY r.n",
                                                     arguments: [after, through, tableID]) {
            let vector: Data = row[2], stamps: Data = row[3]
            known.append((row[0], row[1], try RowRecord.decode(seq: 0, stamps: Array(stamps), vector: Array(vector), columnCount: spec.columns.count,
                                                              sites: partSites)))
        }
        let stamps = SnapshotStamps(part: sites, sites: &tx.sites, columnCount: spec.columns.count)
        let (vector, renumber) = (SnapshotStamps.vectorFunction, SnapshotStamps.stampsFunction)
        // New rows take the next change numbers in key order; without rows held already, their part numbers.
        let numbered = known.isEmpty
            ? "SELECT r.key, r.vector, r.stamps, ?4 + r.n - ?1 AS seq FROM snap.records r WHERE \(range)"
            : "SELECT r.key, r.vector, r.stamps, ?4 + row_number() OVER (ORDER BY r.n) AS seq FROM snap.records r WHERE \(range) AND NOT \(held)"
        let added = try stamps.installed(on: db) {
            try db.execute(sql: """
                INSERT INTO _begawi_rows(tbl, key, seq, vector, stamps, origin)
                  SELECT ?3, key, seq, \(vector)(vector), \(renumber)(stamps, seq), ?5 FROM (\(numbered))
                """, arguments: [after, through, tableID, seqBefore, senderNumber])
            return db.changesCount
        }
        tx.state.seq += UInt64(added)
        adoption.rows += added
        if added > 0 { tx.observeRemote(HybridTimestamp(rawValue: stamps.maxClock)) }
        // The values of the rows just adopted, as the hub holds them.
        let names = ([spec.primaryKey] + spec.columns).map { ReplicaSQL.quote($0.name) }
        let list = names.joined(separator: ", "), values = names.map { "v." + $0 }.joined(separator: ", ")
        let adopted = known.isEmpty ? ""
            : " AND EXISTS (SELECT 1 FROM snap.records r JOIN _begawi_rows x ON x.tbl = ?3 AND x.key = r.key WHERE r.n = v.n AND x.seq > ?4)"
        for (target, from) in [(ReplicaSQL.quote(spec.name), "snap.live"), (ReplicaSQL.dead(spec), "snap.dead")] {
            try db.execute(sql: "INSERT INTO \(target) (\(list)) SELECT \(values) FROM \(from) v WHERE v.n > ?1 AND v.n <= ?2\(adopted)",
                           arguments: known.isEmpty ? [after, through] : [after, through, tableID, seqBefore])
        }
        // Rows held already merge with what the part holds, as a pulled page's rows would.
        var merge = BatchMerge(replica: self, tx: tx, now: Int64(wallClock.nowMilliseconds()), senderNumber: senderNumber)
        let all = Array(spec.columns.indices)
        for (n, key, record) in known {
            var incoming = record.state
            let live = try FastStatement(db, "SELECT \(names.dropFirst().joined(separator: ", ")) FROM \(incoming.isLive ? "snap.live" : "snap.dead") WHERE n = ?")
            live.reset()
            live.bind(1, n)
            if try live.step() {
                for i in incoming.columns.indices where incoming.columns[i] != nil { incoming.columns[i]!.value = live.value(Int32(i)) }
            }
            live.reset()
            _ = try merge.merge(table: table, key: key, incoming: incoming, columns: all, mayExist: true)
            adoption.rows += 1
            adoption.merged += 1
        }
        adoption.conflicts += merge.conflicts
    }

    /// Records the part adopted: where the next one starts, or, after the last, the cursor (unless the
    /// pages moved it meanwhile).
    private func finishSnapshotPart(_ db: Database, source: String, position: UInt64, next: SnapshotProgress?) throws {
        try db.execute(sql: "DELETE FROM _begawi_state WHERE name LIKE 'snapshot\\_%' ESCAPE '\\'")
        guard let next else {
            guard try loadCursor(db, replicaID: source) == .start else { return }
            try db.execute(sql: "INSERT OR REPLACE INTO _begawi_cursors(source, base, position) VALUES (?, ?, ?)",
                           arguments: [source, Int64(clamping: position), Int64(clamping: position)])
            return
        }
        for (name, value) in [("snapshot_source", source.databaseValue), ("snapshot_position", Int64(clamping: next.position).databaseValue),
                              ("snapshot_table", next.table.databaseValue), ("snapshot_after", next.after?.databaseValue ?? .null)] {
            try db.execute(sql: "INSERT INTO _begawi_state(name, value) VALUES (?, ?)", arguments: [name, value])
        }
    }

    func loadSnapshotProgress(_ db: Database, source: String) throws -> SnapshotProgress? {
        var values: [String: DatabaseValue] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT name, value FROM _begawi_state WHERE name LIKE 'snapshot\\_%' ESCAPE '\\'") {
            let name: String = row[0]
            values[name] = row[1] as DatabaseValue
        }
        guard String.fromDatabaseValue(values["snapshot_source"] ?? .null) == source,
              let position = Int64.fromDatabaseValue(values["snapshot_position"] ?? .null), position >= 0,
              let table = String.fromDatabaseValue(values["snapshot_table"] ?? .null) else { return nil }
        return SnapshotProgress(position: UInt64(position), table: table, after: String.fromDatabaseValue(values["snapshot_after"] ?? .null))
    }
}
