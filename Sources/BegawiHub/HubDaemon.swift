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
    let store: SQLiteHubStore
    let logger: Logger
    let databasePath: String
    let clock: any WallClock

    /// Opens the store, starts the lanes and loads the TLS files; nothing listens until `run()`.
    /// Refuses declared tables and rules that are not the published schema's, and a schema without
    /// access rules for a hub that ran with them. `routes` makes the route
    /// groups other libraries mount over the opened store and the hub's lanes (the office's dashboard).
    public init(configuration: HubConfiguration, policy: AccessPolicy?, declared: Schema?, clock: any WallClock = SystemWallClock(),
                logger: Logger, routes: (SQLiteHubStore, Blocking) throws -> [any HubRouteGroup] = { _, _ in [] },
                onReady: (@Sendable (Int) -> Void)? = nil) throws {
        let store = try SQLiteHubStore(path: configuration.databasePath, clock: clock, policy: policy, declared: declared,
                                       erasureLog: configuration.retention.erasureLog(database: configuration.databasePath))
        let lanes = Blocking()
        do {
            try store.requireServing(declared: declared, policy: policy, file: configuration.schemaPath)
            if policy == nil, try store.installedRulesDigest() != nil {
                // Without rules every site would receive every row: never by accident.
                throw BegawiError(.configuration, "this hub ran with access rules, but the schema file \(configuration.schemaPath) declares none; point `schema` in hub.toml at the file with the rules (config/handak-begawi.json)")
            }
            if let granted = store.rulesRecomputed { HubDaemon.logWidening(granted, logger: logger) }
            if let done = store.erasuresReconciled { HubDaemon.logErasures(done, logger: logger) }
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
    static func logWidening(_ granted: [String: Int], logger: Logger) {
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
