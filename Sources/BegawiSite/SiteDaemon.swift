public import BegawiCore
public import Logging
public import ServiceLifecycle

/// The site daemon as a service of the daemon's one service group: it opens the replica on a lane
/// of its own, syncs until the group shuts down (stopping between steps), then closes the replica.
public struct SiteDaemon: Service {
    /// What the daemon tells the service manager.
    public struct Hooks: Sendable {
        /// Whenever the loop or a transfer makes progress (the watchdog).
        public var onAlive: (@Sendable () -> Void)?
        /// After each round, one line of state.
        public var onStatus: (@Sendable (String) -> Void)?
        /// Once the replica is open and the loop starts.
        public var onReady: (@Sendable () -> Void)?
        /// Whenever the daemon settles into a held pull, with nothing to do until a change.
        public var onIdle: (@Sendable () -> Void)?
        /// How often `onAlive` should be called at the least (as often as the watchdog takes pings), or nil.
        public var aliveInterval: Duration?

        /// Hooks that do nothing until set.
        public init(onAlive: (@Sendable () -> Void)? = nil, onStatus: (@Sendable (String) -> Void)? = nil,
                    onReady: (@Sendable () -> Void)? = nil, onIdle: (@Sendable () -> Void)? = nil, aliveInterval: Duration? = nil) {
            self.onAlive = onAlive
            self.onStatus = onStatus
            self.onReady = onReady
            self.onIdle = onIdle
            self.aliveInterval = aliveInterval
        }
    }

    let configuration: SiteConfiguration
    let transport: any HubTransport
    let clock: any WallClock
    let logger: Logger
    let metrics: SiteMetrics?
    let hooks: Hooks
    let reload: (@Sendable () -> (SiteConfiguration, any HubTransport)?)?

    /// Makes the service; nothing opens until `run()`. `reload` hands over a configuration and
    /// transport prepared after SIGHUP, once.
    public init(configuration: SiteConfiguration, transport: any HubTransport, clock: any WallClock = SystemWallClock(), logger: Logger,
                metrics: SiteMetrics? = nil, hooks: Hooks = Hooks(),
                reload: (@Sendable () -> (SiteConfiguration, any HubTransport)?)? = nil) {
        self.configuration = configuration
        self.transport = transport
        self.clock = clock
        self.logger = logger
        self.metrics = metrics
        self.hooks = hooks
        self.reload = reload
    }

    /// Syncs until the service group shuts down.
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { [self] in
                try await ReplicaLane.withReplica(at: configuration.replicaPath, clock: clock) { lane in
                    logger.info("site daemon started", metadata: ["site.id": "\(lane.siteID)", "hub": "\(configuration.hubURL)"])
                    let service = makeService(lane)
                    service.onAlive = hooks.onAlive
                    service.reload = reload
                    service.onStatus = hooks.onStatus
                    service.onIdle = hooks.onIdle
                    service.aliveIntervalMilliseconds = hooks.aliveInterval.map { UInt64(max(1, $0 / .milliseconds(1))) }
                    hooks.onReady?()
                    try await service.run()
                }
            }
        } catch is CancellationError {
        }
        logger.info("site daemon stopped")
    }

    /// One round on its own (`begawi site sync`): its report and the rows this site's checks hold back after it.
    public func syncOnce() async throws -> (RoundReport, heldBack: Int) {
        try await ReplicaLane.withReplica(at: configuration.replicaPath, clock: clock) { lane in
            let report = try await makeService(lane).syncOnce()
            return (report, try await lane.run { try SiteChecks.heldBackCount($0) })
        }
    }

    func makeService(_ lane: ReplicaLane) -> SiteService {
        SiteService(lane: lane, client: HubClient(transport: transport, replicaID: lane.replicaID), configuration: configuration,
                    clock: clock, logger: logger, metrics: metrics)
    }
}
