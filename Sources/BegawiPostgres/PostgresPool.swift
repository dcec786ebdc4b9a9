import BegawiCore
import Foundation
public import Logging

/// A process's sessions to the hub's database: at most `size` of them, opened when first needed,
/// each lent to one caller at a time (a thread of the hub's blocking lane, for one request).
///
/// A session the server ended (a restart, a timeout) is dropped when it comes back, and the next
/// caller gets a fresh one. A caller that finds every session lent waits, at most as long as a
/// statement may run, for one to come back.
public final class PostgresPool: @unchecked Sendable {
    private let settings: PostgresSettings
    private let logger: Logger
    /// How many sessions may be open at once.
    public let size: Int
    // Guards `idle`, `open` and `closed`; waiters sleep on it until a session comes back.
    private let condition = NSCondition()
    private var idle: [PostgresLink] = []
    private var open = 0
    private var closed = false

    /// A pool of at most `size` sessions with `settings`; none is opened yet.
    public init(settings: PostgresSettings, size: Int,
                logger: Logger = Logger(label: "begawi.postgres", factory: { _ in SwiftLogNoOpLogHandler() })) throws {
        guard (1...1_000).contains(size) else {
            throw BegawiError(.configuration, "a pool holds 1 to 1000 PostgreSQL sessions (and the server's max_connections must allow them)")
        }
        self.settings = settings
        self.size = size
        self.logger = logger
    }

    /// Runs `body` with a session of its own, given back afterwards (dropped if it has ended).
    @discardableResult
    public func withLink<T>(_ body: (PostgresLink) throws -> T) throws -> T {
        let link = try take()
        defer { giveBack(link) }
        return try body(link)
    }

    /// How many sessions are open now (lent or idle).
    public var openSessions: Int {
        condition.withLock { open }
    }

    /// Ends the idle sessions and refuses new loans; sessions lent now end when they come back.
    public func close() {
        let ending = condition.withLock {
            closed = true
            defer { idle = []; condition.broadcast() }
            open -= idle.count
            return idle
        }
        ending.forEach { $0.close() }
    }

    private func take() throws -> PostgresLink {
        let deadline = settings.statementTimeoutMilliseconds == 0 ? Date.distantFuture
            : Date().addingTimeInterval(Double(settings.statementTimeoutMilliseconds) / 1_000)
        condition.lock()
        while true {
            guard !closed else {
                condition.unlock()
                throw BegawiError(.storage, "the hub's PostgreSQL sessions are closed: the hub is stopping")
            }
            while let link = idle.popLast() {
                if !link.isClosed {
                    condition.unlock()
                    return link
                }
                open -= 1
            }
            if open < size {
                open += 1
                condition.unlock()
                do {
                    return try PostgresLink.connect(settings, logger: logger)
                } catch {
                    condition.withLock { open -= 1; condition.signal() }
                    throw error
                }
            }
            guard condition.wait(until: deadline) else {
                condition.unlock()
                throw BegawiError(.storage, "all \(size) PostgreSQL sessions of this hub stayed busy past the statement timeout: raise the pool's size, or see what holds them (pg_stat_activity)")
            }
        }
    }

    private func giveBack(_ link: PostgresLink) {
        let keep = condition.withLock {
            defer { condition.signal() }
            guard !closed, !link.isClosed else {
                open -= 1
                return false
            }
            idle.append(link)
            return true
        }
        if !keep { link.close() }
    }
}
