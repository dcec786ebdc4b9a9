import BegawiCore
internal import GRDB

extension Replica {
    /// The milliseconds added to the wall times that capture triggers record.
    public func clockOffset() throws -> Int64 {
        try pool.read { db in try loadState(db).offset }
    }

    /// Adopts a new estimate of how far this machine's clock is from the hub's (`offset` is added to
    /// local wall times), and re-stamps this site's own writes that the hub has not acknowledged
    /// (changed after `unsentAfterSeq`), so that a clock that was wrong neither wins every conflict
    /// nor loses work. Returns how many distinct stamps were changed.
    ///
    /// Own unsent stamps move by the change of offset, are never left in the corrected future,
    /// keep their order, and stay above every clock received from other replicas (they were written after
    /// seeing those) and above this site's own stamps already sent. The hybrid clock restarts from
    /// the greatest of those: the one time it may move backwards, since every stamp it vouched for
    /// was re-stamped.
    /// A change of less than `threshold` milliseconds only updates the offset.
    @discardableResult
    public func correctClock(offset: Int64, unsentAfterSeq: UInt64, threshold: Int64 = 1000) throws -> Int {
        try engineWrite { tx in
            let delta = offset &- tx.state.offset
            tx.state.offset = offset
            guard delta.magnitude >= threshold.magnitude else { return 0 }
            let db = tx.db
            struct Item { let table: Int; let key: String; var record: RowRecord }
            var items: [Item] = []
            var own = Set<UInt64>()
            // Every row is read: own stamps already sent bound the clock from below as well.
            var sentMax: UInt64 = 0
            let select = try FastStatement(db, "SELECT tbl, key, seq, vector, stamps, origin FROM _begawi_rows")
            select.reset()
            while try select.step() {
                guard let table = tableByID[select.int64(0)] else { continue }
                var record = try RowRecord.decode(seq: UInt64(clamping: select.int64(2)), stamps: select.blob(4), vector: select.blob(3),
                                                  columnCount: tables[table].spec.columns.count, sites: tx.sites)
                record.heldWholeBy = select.isNull(5) ? nil : select.int64(5)
                var mine = false
                var registers: [(Register?, UInt64)] = [(record.state.deleted, record.registerSeq[0])]
                for (i, r) in record.state.columns.enumerated() { registers.append((r, record.registerSeq[i + 1])) }
                for case let (r?, seq) in registers where r.stamp.site == siteID {
                    if seq > unsentAfterSeq {
                        own.insert(r.stamp.clock.rawValue)
                        mine = true
                    } else {
                        sentMax = max(sentMax, r.stamp.clock.rawValue)
                    }
                }
                if mine { items.append(Item(table: table, key: select.text(1), record: record)) }
            }
            select.reset()

            // A strictly increasing map: shifted by the change of offset, never past the corrected
            // wall time (a stamp from the future is pulled back to now), above every other replica's clock.
            let now = Int64(clamping: wallClock.nowMilliseconds()) &+ offset
            let ceiling = HybridTimestamp(milliseconds: UInt64(max(0, now)), counter: 0).rawValue
            let shift = Int64(clamping: delta) << 16
            var map: [UInt64: UInt64] = [:]
            var previous = max(tx.state.remoteMax.rawValue, sentMax)
            for raw in own.sorted() {
                let shifted = shift >= 0 ? raw.addingReportingOverflow(UInt64(shift)).partialValue : (raw > UInt64(-shift) ? raw - UInt64(-shift) : 0)
                let next = max(min(shifted, ceiling), previous &+ 1)
                map[raw] = next
                previous = next
            }
            func restamp(_ r: inout Register?, _ seq: UInt64) {
                guard var reg = r, reg.stamp.site == siteID, seq > unsentAfterSeq, let to = map[reg.stamp.clock.rawValue] else { return }
                reg.stamp = Stamp(clock: HybridTimestamp(rawValue: to), site: reg.stamp.site, counter: reg.stamp.counter)
                r = reg
            }
            for (raw, to) in map where raw == to { map[raw] = nil }
            for var item in items {
                restamp(&item.record.state.deleted, item.record.registerSeq[0])
                for i in item.record.state.columns.indices { restamp(&item.record.state.columns[i], item.record.registerSeq[i + 1]) }
                if item.record.bornAt == nil { item.record.heldWholeBy = nil }
                try tx.storeRecord(table: item.table, key: item.key, record: item.record, isNew: false)
            }
            // Not the wall time: writes recorded offline but not yet stamped keep their own times.
            tx.state.clock = HybridClock(last: HybridTimestamp(rawValue: previous))
            return map.count
        }
    }
}
