/// Wrong credentials per address as token buckets, without I/O or a clock of its own (times are
/// seconds from any fixed start): each address may fail `perMinute` times at once, and earns one
/// more try every 60/`perMinute` seconds. An address with no try left is refused without its
/// credential even being checked, until a try refills. A correct credential does not refill the
/// bucket: a partner with a valid credential could otherwise guess others' between its own.
///
/// At most `maxAddresses` are tracked: when full, those refilled are forgotten first, then the
/// ones untouched for longest.
struct FailureBuckets {
    struct Entry {
        var tries: Double
        var updated: Double
    }

    let perMinute: Int
    let maxAddresses: Int
    private(set) var entries: [String: Entry] = [:]

    init(perMinute: Int, maxAddresses: Int = 10_000) {
        self.perMinute = perMinute
        self.maxAddresses = max(1, maxAddresses)
    }

    private var refillPerSecond: Double { Double(perMinute) / 60 }

    private func refilled(_ entry: Entry, at now: Double) -> Double {
        min(Double(perMinute), entry.tries + max(0, now - entry.updated) * refillPerSecond)
    }

    /// Seconds until `address` may try again (at least 1), or nil if it may try now.
    func retryAfter(_ address: String, at now: Double) -> Int? {
        guard let entry = entries[address] else { return nil }
        let tries = refilled(entry, at: now)
        guard tries < 1 else { return nil }
        return max(1, Int(((1 - tries) / refillPerSecond).rounded(.up)))
    }

    /// Counts a wrong credential from `address`.
    mutating func failed(_ address: String, at now: Double) {
        if entries[address] == nil, entries.count >= maxAddresses { evict(at: now) }
        let tries = entries[address].map { refilled($0, at: now) } ?? Double(perMinute)
        entries[address] = Entry(tries: max(0, tries - 1), updated: now)
    }

    /// Whether `address` failed recently enough that its bucket has not refilled: the addresses a
    /// hub sharing its counts with other processes asks the database about before a credential.
    func hasFailed(_ address: String, at now: Double) -> Bool {
        guard let entry = entries[address] else { return false }
        return refilled(entry, at: now) < Double(perMinute)
    }

    /// Takes in what other processes know of `address`: its tries left (`SharedAuthFailures`)
    /// replace this process's count when fewer, and refill from `now` as this process's would.
    mutating func adopt(_ address: String, tries: Double, at now: Double) {
        let tries = tries.isFinite ? min(Double(perMinute), max(0, tries)) : 0
        let own = entries[address].map { refilled($0, at: now) } ?? Double(perMinute)
        guard tries < own else { return }
        if entries[address] == nil, entries.count >= maxAddresses { evict(at: now) }
        entries[address] = Entry(tries: tries, updated: now)
    }

    private mutating func evict(at now: Double) {
        entries = entries.filter { refilled($0.value, at: now) < Double(perMinute) }
        guard entries.count >= maxAddresses else { return }
        // Still full of addresses that failed recently: forget the oldest tenth at once, so that a
        // flood from many addresses costs one sort per tenth of the table, not one per failure.
        let oldest = entries.sorted { $0.value.updated < $1.value.updated }.prefix(max(1, maxAddresses / 10))
        for (key, _) in oldest { entries[key] = nil }
    }
}
