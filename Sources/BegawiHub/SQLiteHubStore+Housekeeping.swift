import BegawiCore

/// One housekeeping pass over the store (`HubHousekeeping` runs it periodically).
extension SQLiteHubStore {
    /// Runs each concern's step at time `now` (ms since the Unix epoch); returns what each did, by a
    /// log metadata name (such as `rows.purged`), for the pass's log line.
    public func housekeep(now: UInt64, retention: HubRetention) throws -> [String: Int] {
        var done: [String: Int] = [:]
        // One line per concern (issue 15), each a method in its own file, e.g.:
        // done.merge(try purgeBelowHorizon(now: now, retention: retention)) { $1 }
        done.merge(try applyRetention(now: now, retention: retention)) { $1 }
        // Last: it gives back the pages the steps above freed.
        done.merge(try giveSpaceBack()) { $1 }
        return done
    }
}
