import BegawiCore

/// One housekeeping pass over the store (`HubHousekeeping` runs it periodically).
extension SQLiteHubStore {
    /// Runs each concern's step at time `now` (ms since the Unix epoch); returns what each did, by a
    /// log metadata name (such as `tombstones.purged`), for the pass's log line. A step that fails
    /// does not keep the others from running (an unwritable archive folder must not stop the purge);
    /// the pass then throws the first failure, naming the steps that failed.
    public func housekeep(now: UInt64, retention: HubRetention) throws -> [String: Int] {
        try SQLiteHubStore.housekeepingSteps([
            ("purge", { try self.purgeBelowHorizon(now: now, retention: retention) }),
            ("retention", { try self.applyRetention(now: now, retention: retention) }),
            // Last: it gives back the pages the steps above freed.
            ("space", { try self.giveSpaceBack() }),
        ])
    }

    /// Runs a pass's steps in order, each even when one before it failed; returns their counts
    /// merged, or throws the first failure naming every step that failed. Both hub stores' passes.
    package static func housekeepingSteps(_ steps: [(name: String, body: () throws -> [String: Int])]) throws -> [String: Int] {
        var done: [String: Int] = [:]
        var failed: [(step: String, error: any Error)] = []
        for (name, body) in steps {
            do { done.merge(try body()) { $1 } } catch { failed.append((name, error)) }
        }
        if let first = failed.first {
            let steps = failed.map(\.step).joined(separator: ", ")
            if let error = first.error as? BegawiError {
                throw BegawiError(error.code, "housekeeping step \(steps) failed: \(error.message)", cause: error.cause)
            }
            throw BegawiError(.storage, "housekeeping step \(steps) failed", cause: "\(first.error)")
        }
        return done
    }
}
