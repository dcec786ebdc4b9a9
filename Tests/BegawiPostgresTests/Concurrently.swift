import Foundation

/// Runs each job on a thread of its own, all at once, and returns when every one has ended: the
/// writers and readers of a feed test each hold a session and block on it.
func concurrently(_ jobs: [@Sendable () -> Void]) {
    let done = DispatchSemaphore(value: 0)
    for job in jobs {
        Thread.detachNewThread {
            job()
            done.signal()
        }
    }
    for _ in jobs { done.wait() }
}

/// A value several threads read and change, one at a time.
final class Shared<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    /// Reads or changes the value under the lock.
    func with<T>(_ body: (inout Value) -> T) -> T {
        lock.withLock { body(&value) }
    }
}
