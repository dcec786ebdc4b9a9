extension ChangeBatch {
    /// The greatest hybrid clock among the batch's stamps, or nil for a batch without registers.
    public var latestClock: HybridTimestamp? {
        var latest: HybridTimestamp?
        for row in rows {
            if let d = row.state.deleted, latest.map({ d.stamp.clock > $0 }) ?? true { latest = d.stamp.clock }
            for case let r? in row.state.columns where latest.map({ r.stamp.clock > $0 }) ?? true { latest = r.stamp.clock }
        }
        return latest
    }
}
