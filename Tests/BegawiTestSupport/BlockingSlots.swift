import Foundation

/// How many blocking tests may run at once: as many as the cooperative pool has threads, the
/// number that could run before they moved off it. Waiting for a slot suspends; it holds no thread.
actor BlockingSlots {
    /// The slots every blocking test shares.
    static let shared = BlockingSlots(count: max(2, ProcessInfo.processInfo.activeProcessorCount))

    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    private init(count: Int) {
        free = count
    }

    /// Returns once a slot is free and taken.
    func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    /// Hands the slot to the longest waiter, or frees it.
    func release() {
        if waiting.isEmpty {
            free += 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
