public import BegawiCore
public import BegawiRules
import Foundation
public import Logging
public import ServiceLifecycle

/// The hub daemon as a service of the daemon's one service group: the store opened on the
/// configuration's database, and the server over it. The store closes once the server has
/// finished the requests in flight.
public struct HubDaemon: Service {
    /// The server; its `settings` take a reload.
    public let server: HubServer
    let store: any ServedHubStore
    let logger: Logger
    /// The configuration's database: a file path, or a PostgreSQL URL (which holds no password).
    let databasePath: String
    let clock: any WallClock

    /// Opens the store, starts the lanes and loads the TLS files; nothing listens until `run()`.
    /// `open` opens the store the configuration names (the `begawi` binary chooses SQLite or
    /// PostgreSQL); nil opens the SQLite file at `databasePath`. The store's start checks refuse
    /// declared tables and rules that are not the published schema's, and (SQLite) a schema without
    /// access rules for a hub that ran with them. `routes` makes the route groups other libraries
    /// mount over the opened store and the hub's lanes (the office's dashboard).
    public init(configuration: HubConfiguration, policy: AccessPolicy?, declared: Schema?, clock: any WallClock = SystemWallClock(),
                logger: Logger, open: ((any WallClock) throws -> any ServedHubStore)? = nil,
                routes: (any ServedHubStore, Blocking) throws -> [any HubRouteGroup] = { _, _ in [] },
                onReady: (@Sendable (Int) -> Void)? = nil) throws {
        let store = try open?(clock)
            ?? SQLiteHubStore(path: configuration.databasePath, clock: clock, policy: policy, declared: declared,
                              erasureLog: configuration.retention.erasureLog(database: configuration.databasePath))
        let lanes = Blocking()
        do {
            try store.prepareToServe(declared: declared, policy: policy, schemaFile: configuration.schemaPath, logger: logger)
            server = try HubServer(store: store, configuration: configuration, clock: clock, logger: logger,
                                   lanes: lanes, routes: try routes(store, lanes), onReady: onReady)
        } catch {
            lanes.abandon()
            try? store.close()
            throw error
        }
        self.store = store
        self.logger = logger
        databasePath = configuration.databasePath
        self.clock = clock
    }

    /// Says that the access rules changed and, per site, how many rows they newly let it receive:
    /// a widening sends data to more people, so it is never silent.
    package static func logWidening(_ granted: [String: Int], logger: Logger) {
        let total = granted.values.reduce(0, +)
        logger.notice("the access rules changed; who may see what was recomputed",
                      metadata: ["rows.granted": "\(total)", "sites.widened": "\(granted.count)"])
        for (site, rows) in granted.sorted(by: { $0.key < $1.key }) {
            logger.notice("the new access rules widen what a site receives", metadata: ["site.id": "\(site)", "rows.granted": "\(rows)"])
        }
    }

    /// The watchdog, pinging every `interval`: each ping waits for a probe through the requests' path.
    public func watchdog(every interval: Duration, onAlive: @escaping @Sendable () -> Void) -> HubWatchdog {
        HubWatchdog(store: store, lanes: server.lanes, interval: interval, onAlive: onAlive, logger: logger)
    }

    /// The periodic housekeeping over the store (purge, retention, space), at the settings' interval.
    public func housekeeping() -> HubHousekeeping {
        HubHousekeeping(store: store, lanes: server.lanes, settings: server.settings, clock: clock, logger: logger)
    }

    /// The timer that publishes the changes waiting for a place in the feed, when the store has
    /// any (PostgreSQL: a push whose publish lost its turn); nil when every push publishes its own.
    public func publisher() -> HubPublisher? {
        store.publishInterval.map { HubPublisher(store: store, lanes: server.lanes, interval: $0, logger: logger) }
    }

    /// Serves until the service group shuts down, then closes the store (the server has stopped
    /// the lanes by then).
    public func run() async throws {
        logger.info("hub starting", metadata: ["hub.epoch": "\(store.hubReplicaID)", "database": "\(databasePath)"])
        do {
            try await server.run()
        } catch {
            try? store.close()
            throw error
        }
        try store.close()
        logger.info("hub stopped")
    }
}
