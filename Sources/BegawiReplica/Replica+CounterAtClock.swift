internal import GRDB

extension Replica {
    /// Makes every later write of this replica take a counter no lower than its hybrid-clock time
    /// (`EngineState.advanceCounter`): the hub's rule. A copy of the hub put back from an older
    /// backup then signs its next writes above every write the lost hub made after the backup,
    /// which sites may hold in their version vectors, as long as its clock is past them (which
    /// last-writer-wins needs anyway for the new write to win). Kept in the file, so every process
    /// that opens it, and every backup of it, follows the rule.
    /// Written only when missing: an open of a file that has the rule changes nothing in it.
    public func keepCounterAtClock() throws {
        guard try !countsAtClock() else { return }
        try pool.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO _begawi_state(name, value) VALUES ('counter_at_clock', 1)")
        }
    }

    /// Whether this replica follows the hub's rule (`keepCounterAtClock`).
    public func countsAtClock() throws -> Bool {
        try pool.read { db in try Int64.fetchOne(db, sql: "SELECT value FROM _begawi_state WHERE name = 'counter_at_clock'") == 1 }
    }
}
