public import BegawiCore
internal import GRDB

/// Which time stamps captured writes.
public enum CaptureClock: Sendable, Equatable {
    /// The wall time each capture trigger noted, through the hybrid clock (the daemon's way).
    case recorded
    /// This wall time for every pending write, through the hybrid clock (tests simulate skewed clocks).
    case wall(UInt64)
    /// Exactly this hybrid time for every pending write (the conformance cases dictate clocks).
    case forced(HybridTimestamp)
}

extension Replica {
    /// Stamps the local writes that the capture triggers recorded since the last call, and returns how many.
    ///
    /// Each recorded write gets the next dot of this site and a hybrid-clock time from the wall time the
    /// trigger noted, so writes made while the daemon was stopped keep their order and their time.
    /// Export and apply call this first, in the same transaction. Tests may say which time to use.
    @discardableResult
    public func captureLocalChanges(clock: CaptureClock = .recorded) throws -> Int {
        try engineWrite { tx in try absorbOutbox(tx, clock: clock) }
    }

    /// How many captured local writes are waiting to be stamped.
    public func pendingCaptureCount() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM _begawi_outbox") ?? 0 }
    }

    /// Stamps every pending write, a bounded chunk at a time, so that memory does not grow with
    /// the backlog (a site may have imported a million rows while offline).
    func absorbOutbox(_ tx: EngineTransaction, clock source: CaptureClock = .recorded, chunk: Int = 4096) throws -> Int {
        var total = 0
        while true {
            let n = try absorbOutboxChunk(tx, clock: source, limit: chunk)
            total += n
            if n < chunk { return total }
        }
    }

    private func absorbOutboxChunk(_ tx: EngineTransaction, clock source: CaptureClock, limit: Int) throws -> Int {
        let db = tx.db
        struct Entry { let seq: Int64, table: Int64, key: String, op: Int64, mask: Int64, wall: Int64 }
        var entries: [Entry] = []
        entries.reserveCapacity(limit)
        let read = try FastStatement(db, "SELECT seq, tbl, key, op, mask, wall FROM _begawi_outbox ORDER BY seq LIMIT ?")
        read.reset()
        read.bind(1, Int64(limit))
        while try read.step() {
            entries.append(Entry(seq: read.int64(0), table: read.int64(1), key: read.text(2), op: read.int64(3), mask: read.int64(4), wall: read.int64(5)))
        }
        read.reset()
        guard let last = entries.last else { return 0 }

        var cache: [String: RowRecord] = [:]
        // Per row: whether it is new to the replica, and whether its tombstone twin may hold values.
        var order: [(table: Int, key: String, isNew: Bool, mayHaveTwin: Bool)] = []
        var orderIndex: [String: Int] = [:]
        for entry in entries {
            guard let table = tableByID[entry.table], let op = ReplicaSQL.Op(rawValue: entry.op) else {
                throw BegawiError(.corrupted, "the outbox of \(path) names an unknown table or operation; restore the file from a backup")
            }
            let cacheKey = "\(table)\u{0}\(entry.key)"
            let columnCount = tables[table].spec.columns.count
            var record: RowRecord
            if let cached = cache[cacheKey] {
                record = cached
            } else {
                let loaded = try tx.loadRecord(table: table, key: entry.key, withValues: false)
                record = loaded ?? RowRecord(columnCount: columnCount)
                orderIndex[cacheKey] = order.count
                order.append((table, entry.key, loaded == nil, loaded.map { !$0.state.isLive } ?? false))
            }
            if op == .delete { order[orderIndex[cacheKey]!].mayHaveTwin = true }
            let clock: HybridTimestamp
            switch source {
            case .recorded:
                let (corrected, overflow) = entry.wall.addingReportingOverflow(tx.state.offset)
                clock = try tx.state.clock.tick(wallMilliseconds: UInt64(max(0, overflow ? entry.wall : corrected)))
            case .wall(let wall): clock = try tx.state.clock.tick(wallMilliseconds: wall)
            case .forced(let forced): clock = tx.state.clock.tick(forced: forced)
            }
            let counter = try tx.state.advanceCounter(stampedAt: clock)
            tx.state.seq += 1
            let stamp = Stamp(clock: clock, site: siteID, counter: counter)
            // A row new to the engine is born here: until another replica's change reaches it, an export can tell
            // whether the receiver ever had it (a row born and deleted between two pushes is not sent).
            if record.seq == 0 {
                record.markBorn(at: tx.state.seq)
            } else if record.bornAt == nil {
                record.heldWholeBy = nil
            }
            record.seq = tx.state.seq
            switch op {
            case .insert:
                record.state.deleted = Register(value: RowState.liveMarker, stamp: stamp)
                record.registerSeq[0] = tx.state.seq
                for i in 0..<columnCount {
                    record.state.columns[i] = Register(value: .null, stamp: stamp)
                    record.registerSeq[i + 1] = tx.state.seq
                }
            case .update:
                if record.state.deleted == nil {
                    // A row the engine never saw inserted: treat its first update as its insert.
                    record.state.deleted = Register(value: RowState.liveMarker, stamp: stamp)
                    record.registerSeq[0] = tx.state.seq
                }
                for i in 0..<columnCount where entry.mask & (1 << Int64(i)) != 0 || record.state.columns[i] == nil {
                    record.state.columns[i] = Register(value: .null, stamp: stamp)
                    record.registerSeq[i + 1] = tx.state.seq
                }
            case .delete:
                record.state.deleted = Register(value: RowState.deletedMarker, stamp: stamp)
                record.registerSeq[0] = tx.state.seq
            }
            record.state.vector.raise(siteID, to: counter)
            cache[cacheKey] = record
        }
        for (table, key, isNew, mayHaveTwin) in order {
            guard let record = cache["\(table)\u{0}\(key)"] else { continue }
            try tx.storeRecord(table: table, key: key, record: record, isNew: isNew)
            if record.state.isLive, mayHaveTwin {
                let statement = try tx.statements(table).deleteDead
                statement.reset()
                statement.bind(1, key)
                try statement.run()
            }
        }
        try tx.flush() // what follows in this transaction reads the stored records
        try db.execute(sql: "DELETE FROM _begawi_outbox WHERE seq <= ?", arguments: [last.seq])
        return entries.count
    }
}
