import Foundation

/// Wakes the pulls a hub holds (long-polls) when its feed may have grown: the store's commit path
/// calls `committed()`; a held pull waits for a generation past the one it read before it looked
/// at the feed, so a commit between its look and its wait is never missed.
///
/// `@unchecked Sendable`: all state is behind `lock`. Waiting holds no thread and no database
/// transaction: a parked continuation only.
public final class FeedNotifier: @unchecked Sendable {
    /// Why a wait ended.
    public enum Wake: Sendable, Equatable {
        /// A commit came after the generation the waiter had seen.
        case committed
        /// The time ran out.
        case timedOut
        /// The hub is shutting down, or the waiter was cancelled.
        case closed
        /// Too many pulls are held already: answer at once.
        case full
    }

    private enum Entry {
        case created
        case parked(CheckedContinuation<Void, Never>)
        case cancelled
    }

    private let lock = NSLock()
    private var generationNow: UInt64 = 0
    private var entries: [UInt64: Entry] = [:]
    private var nextID: UInt64 = 0
    private var isClosed = false

    /// Makes a notifier with no waiters.
    public init() {}

    /// The number of commits so far: read it before looking at the feed, then wait past it.
    public var generation: UInt64 { lock.withLock { generationNow } }

    /// The pulls held now.
    public var held: Int { lock.withLock { entries.count } }

    /// Something was committed that a site may see: every held pull looks again.
    public func committed() {
        let woken = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
            generationNow &+= 1
            return takeParked()
        }
        for continuation in woken { continuation.resume() }
    }

    /// Releases every held pull, now and from now on (the hub is shutting down).
    public func close() {
        let woken = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
            isClosed = true
            return takeParked()
        }
        for continuation in woken { continuation.resume() }
    }

    /// Whether `close()` was called.
    public var closed: Bool { lock.withLock { isClosed } }

    /// Waits until a commit after generation `seen`, at most `timeout`, with at most `limit` pulls held at once.
    public func wait(past seen: UInt64, timeout: Duration, limit: Int) async -> Wake {
        let id: UInt64? = lock.withLock {
            guard entries.count < limit else { return nil }
            nextID &+= 1
            entries[nextID] = .created
            return nextID
        }
        guard let id else { return .full }
        return await withTaskGroup(of: Wake.self) { group in
            group.addTask { await self.park(id, past: seen) }
            group.addTask {
                // Cancelled when the park ends first; either way the race is decided by the first to finish.
                do { try await Task.sleep(for: timeout) } catch { return .closed }
                return .timedOut
            }
            let first = await group.next() ?? .closed
            group.cancelAll()
            return first
        }
    }

    private func park(_ id: UInt64, past seen: UInt64) async -> Wake {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = lock.withLock { () -> Bool in
                    if case .cancelled = entries[id] { entries[id] = nil; return true }
                    if generationNow != seen || isClosed { entries[id] = nil; return true }
                    entries[id] = .parked(continuation)
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let parked = lock.withLock { () -> CheckedContinuation<Void, Never>? in
                switch entries[id] {
                case .parked(let continuation)?:
                    entries[id] = nil
                    return continuation
                case .created?:
                    entries[id] = .cancelled
                    return nil
                case .cancelled?, nil:
                    return nil
                }
            }
            parked?.resume()
        }
        return lock.withLock { generationNow != seen ? .committed : .closed }
    }

    /// Takes every parked continuation out (under `lock`); entries not parked yet see the new state when they park.
    private func takeParked() -> [CheckedContinuation<Void, Never>] {
        var woken: [CheckedContinuation<Void, Never>] = []
        for (id, entry) in entries {
            if case .parked(let continuation) = entry {
                woken.append(continuation)
                entries[id] = nil
            }
        }
        return woken
    }
}
