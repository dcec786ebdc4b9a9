import Foundation

/// Addresses another hub process said have used up their tries (`NOTIFY begawi_auth`, heard by
/// `PostgresFeedListener`), for a minute after each word: the middleware asks the database about
/// them before it checks a credential, as it does for the addresses that failed in this process.
/// Bounded: past `maxAddresses`, those heard of longest ago are forgotten (the cost is one checked
/// try at that process, as before anything was heard).
///
/// `@unchecked Sendable`: `heard` is only touched under `lock`.
final class RefusedAddresses: @unchecked Sendable {
    private let lock = NSLock()
    private var heard: [String: Double] = [:]
    private let now: @Sendable () -> Double
    let maxAddresses: Int
    /// How long a word is kept: a bucket refills within a minute whatever the allowance.
    static let seconds = 60.0

    /// An empty set; `now` is seconds on any clock that never goes back (the process's by default).
    init(maxAddresses: Int = 10_000, now: @escaping @Sendable () -> Double = RefusedAddresses.monotonicSeconds) {
        self.maxAddresses = max(1, maxAddresses)
        self.now = now
    }

    /// Seconds since an arbitrary start, never going back.
    static func monotonicSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// Notes that another process refused `address` (a notification's payload).
    func note(_ address: String) {
        guard !address.isEmpty, address.utf8.count <= 200 else { return }
        lock.withLock {
            let at = now()
            if heard[address] == nil, heard.count >= maxAddresses {
                heard = heard.filter { at - $0.value < RefusedAddresses.seconds }
                if heard.count >= maxAddresses {
                    for (key, _) in heard.sorted(by: { $0.value < $1.value }).prefix(max(1, maxAddresses / 10)) { heard[key] = nil }
                }
            }
            heard[address] = at
        }
    }

    /// How many addresses are kept (some may be past their minute).
    var count: Int { lock.withLock { heard.count } }

    /// Whether another process refused `address` within the last minute.
    func contains(_ address: String) -> Bool {
        lock.withLock {
            guard let at = heard[address] else { return false }
            return now() - at < RefusedAddresses.seconds
        }
    }
}
