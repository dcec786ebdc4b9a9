public import Logging
import NIOCore
import NIOPosix
public import PostgresNIO

/// One PostgreSQL session, used synchronously: each call blocks its thread until the server answers.
///
/// The hub's store is synchronous (`HubStore` is called from the hub's blocking lane, threads of
/// a `NIOThreadPool`), so the bridge to postgres-nio is its `EventLoopFuture` interface and
/// `wait()`, which parks the calling thread while the connection's event loop does the I/O. That
/// is safe off an event loop and nowhere else: never call this from an event loop's thread, nor
/// from Swift's cooperative pool (which would stall every other task on one of its few threads).
/// A blocking wait needs no task, no continuation and no second thread per call, and an error
/// surfaces at the call that caused it.
///
/// A session runs one statement at a time; share one across threads only if the callers take
/// turns (the store will hand each request a session of its own).
public final class PostgresLink: Sendable {
    let connection: PostgresConnection
    let logger: Logger
    /// How long a statement's answer may take: the statement timeout and a grace for the server to
    /// cancel and say so; nil without a statement timeout.
    let answerDeadline: TimeAmount?

    private init(connection: PostgresConnection, logger: Logger, settings: PostgresSettings) {
        self.connection = connection
        self.logger = logger
        answerDeadline = settings.statementTimeoutMilliseconds == 0 ? nil
            : .milliseconds(Int64(settings.statementTimeoutMilliseconds) + Int64(settings.connectTimeoutMilliseconds))
    }

    /// Opens a session with the settings' timeouts in force; `logger` receives postgres-nio's own lines.
    public static func connect(_ settings: PostgresSettings,
                               logger: Logger = Logger(label: "begawi.postgres", factory: { _ in SwiftLogNoOpLogHandler() }))
    throws -> PostgresLink {
        let configuration = try settings.connectionConfiguration()
        let eventLoop = MultiThreadedEventLoopGroup.singleton.any()
        do {
            let connection = try PostgresConnection.connect(on: eventLoop, configuration: configuration, id: 0, logger: logger).wait()
            return PostgresLink(connection: connection, logger: logger, settings: settings)
        } catch {
            throw PostgresFailure.error(error, doing: "connecting to \(settings)")
        }
    }

    /// Runs one statement and returns all its rows; the values travel as bound parameters.
    @discardableResult
    public func query(_ query: PostgresQuery) throws -> [PostgresRow] {
        try run(query).rows
    }

    private func run(_ query: PostgresQuery) throws -> PostgresQueryResult {
        guard !connection.isClosed else { throw PostgresFailure.ended(doing: query.sql) }
        // postgres-nio loses a statement written to a session the server has just ended (its answer
        // never comes), and a dead network answers nothing either: past the server's own timeout
        // and a grace, the session is given up.
        let answer = connection.eventLoop.makePromise(of: PostgresQueryResult.self)
        connection.query(query, logger: logger).cascade(to: answer)
        let deadline = answerDeadline.map { limit in
            connection.eventLoop.scheduleTask(in: limit) { answer.fail(NoAnswer()) }
        }
        defer { deadline?.cancel() }
        do {
            return try answer.futureResult.wait()
        } catch is NoAnswer {
            close()
            throw PostgresFailure.ended(doing: query.sql)
        } catch {
            throw PostgresFailure.error(error, doing: query.sql)
        }
    }

    private struct NoAnswer: Error {}

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    @discardableResult
    public func transaction<T>(_ body: (PostgresLink) throws -> T) throws -> T {
        try query("BEGIN")
        let result: T
        do {
            result = try body(self)
        } catch {
            // The session may be gone (the idle timeout ended it); the first error is the one to report.
            _ = try? query("ROLLBACK")
            throw error
        }
        // COMMIT of a transaction an earlier statement failed answers ROLLBACK, not an error.
        guard try run("COMMIT").metadata.command == "COMMIT" else {
            throw PostgresFailure.rolledBack()
        }
        return result
    }

    /// Whether the session has ended (closed here, or by the server).
    public var isClosed: Bool { connection.isClosed }

    /// Ends the session and waits for the server to see it go.
    public func close() {
        guard !connection.isClosed else { return }
        _ = try? connection.close().wait()
    }

    deinit {
        if !connection.isClosed { connection.close().whenComplete { _ in } }
    }
}
