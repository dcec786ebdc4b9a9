public import BegawiCore
import Foundation
import Hummingbird
import HummingbirdCore
public import Logging
import NIOCore
import NIOSSL
public import ServiceLifecycle

/// The hub's HTTPS service: TLS 1.2 or newer, the versioned API, and graceful shutdown with its
/// service group.
public struct HubServer: Service {
    let store: any HubStore
    /// The settings in force; `reload` swaps them while the hub runs.
    public let settings: HubSettings
    /// Figures for `/metrics` kept since the start.
    public let metrics: HubMetrics
    let clock: any WallClock
    let logger: Logger
    /// Called once the listener is bound (the service manager's READY).
    let onReady: (@Sendable (Int) -> Void)?
    /// Routes other libraries add (the office's dashboard).
    let routes: [any HubRouteGroup]
    /// The lanes the requests' blocking work runs in; the server shuts them down when it stops.
    let lanes: Blocking

    /// Makes the service and loads its TLS files; nothing listens until `run()`. `routes` are
    /// mounted beside the API and share its `lanes`, which the server owns from here on.
    public init(store: any HubStore, configuration: HubConfiguration, clock: any WallClock = SystemWallClock(), logger: Logger,
                lanes: Blocking, routes: [any HubRouteGroup] = [], onReady: (@Sendable (Int) -> Void)? = nil) throws {
        self.lanes = lanes
        self.store = store
        self.settings = try HubSettings(configuration)
        self.metrics = HubMetrics(now: Double(clock.nowMilliseconds()) / 1000)
        self.clock = clock
        self.logger = logger
        self.onReady = onReady
        self.routes = routes
    }

    /// Answers once a read of the store has gone through the same lane as the requests: a hub
    /// whose request path hangs stops answering, and the service manager's watchdog restarts it.
    public static func probe(_ store: any HubStore, in lanes: Blocking) async throws {
        try await lanes.run { try store.probe() }
    }

    /// TLS 1.2's suites: only AEAD ones with forward secrecy, as Mozilla's "intermediate" profile
    /// (no CBC, no SHA-1 MAC). TLS 1.3's own suites are all AEAD and stay as they are.
    static let cipherSuites = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")

    /// TLS 1.2 or newer. Each handshake takes the certificate and key in force, so a reload
    /// changes them for new connections.
    func tlsConfiguration() -> TLSConfiguration {
        let (chain, key) = settings.identity
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        tls.cipherSuites = HubServer.cipherSuites
        // When the hub ends a connection (a timeout), it waits this long for the client's
        // close_notify instead of NIOSSL's 5 s: a slot held by a silent client frees sooner.
        tls.shutdownTimeout = .seconds(2)
        let settings = self.settings
        tls.sslContextCallback = { _, promise in
            let (chain, key) = settings.identity
            var change = NIOSSLContextConfigurationOverride()
            change.certificateChain = chain.map { .certificate($0) }
            change.privateKey = .privateKey(key)
            promise.succeed(change)
        }
        return tls
    }

    /// Listens and serves until the service group shuts down, then finishes the requests in flight
    /// and stops the lanes' threads.
    public func run() async throws {
        do {
            try await serve()
        } catch {
            try? await lanes.shutdown()
            throw error
        }
        try await lanes.shutdown()
    }

    func serve() async throws {
        let configuration = settings.configuration
        let router = Router(context: HubRequestContext.self)
        router.add(middleware: HubMiddleware(clock: clock, logger: logger, settings: settings, metrics: metrics, groups: routes.map(\.pathPrefix)))
        let start = ContinuousClock.now
        // Several processes on one database count wrong credentials together (`SharedAuthFailures`).
        let shared = store.sharedAuthFailures().map { AuthFailureMiddleware.Shared(counts: $0, lanes: lanes) }
        let authFailures = AuthFailureMiddleware(settings: settings, logger: logger, signIns: Set(routes.flatMap(\.credentialPaths)),
                                                 shared: shared) {
            let elapsed = ContinuousClock.now - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
        router.add(middleware: authFailures)
        HubRoutes(store: store, settings: settings, metrics: metrics, clock: clock, logger: logger, lanes: lanes).register(on: router)
        for group in routes { group.register(on: router) }
        let portFile = configuration.portFile
        let logger = self.logger
        let onReady = self.onReady
        let (ceiling, fileLimit) = OpenFileLimit.ceiling(for: configuration.maxConnections)
        if ceiling < configuration.maxConnections {
            logger.warning("the open-file limit (\(fileLimit)) allows only \(ceiling) connections, fewer than max_connections (\(configuration.maxConnections)); raise LimitNOFILE= in begawi-hub.service (or ulimit -n) to at least \(configuration.maxConnections + OpenFileLimit.reserve)")
        }
        let gate = ConnectionGate(settings: settings, ceiling: ceiling, logger: logger)
        metrics.watch(gate)
        let tls = try NIOSSLContext(configuration: tlsConfiguration())
        let settings = self.settings
        let app = Application(
            router: router,
            server: HTTPServerBuilder { responder in HubChildChannel(responder: responder, tls: tls, gate: gate, settings: settings) },
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("hub listening", metadata: ["port": "\(port)"])
                if let portFile {
                    let partial = portFile + ".partial"
                    try? "\(port)\n".write(toFile: partial, atomically: false, encoding: .utf8)
                    _ = rename(partial, portFile)
                }
                onReady?(port)
            },
            logger: logger)
        // The log windows' timers are child tasks: they end with the listener.
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await authFailures.summary.run() }
            group.addTask { await gate.refusals.run() }
            try await app.run()
            group.cancelAll()
        }
    }
}
