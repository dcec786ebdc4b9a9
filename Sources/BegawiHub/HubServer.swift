public import BegawiCore
import Foundation
import Hummingbird
import HummingbirdTLS
public import Logging
import NIOCore
import NIOSSL

/// The hub's HTTPS service: TLS 1.2 or newer, the versioned API, and graceful shutdown on SIGTERM.
public struct HubServer: Sendable {
    let store: any HubStore
    let configuration: HubConfiguration
    let clock: any WallClock
    let logger: Logger
    /// Called once the listener is bound (the service manager's READY).
    let onReady: (@Sendable (Int) -> Void)?

    /// Makes the service; nothing listens until `run()`.
    public init(store: any HubStore, configuration: HubConfiguration, clock: any WallClock = SystemWallClock(), logger: Logger,
                onReady: (@Sendable (Int) -> Void)? = nil) {
        self.store = store
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        self.onReady = onReady
    }

    /// Answers once a read of the store has gone through the same queue as the requests: a hub
    /// whose request path hangs stops answering, and the service manager's watchdog restarts it.
    public static func probe(_ store: any HubStore) async throws {
        try await Blocking.run { try store.probe() }
    }

    func tlsConfiguration() throws -> TLSConfiguration {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(configuration.certificateFile).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: configuration.privateKeyFile, format: .pem)
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            tls.minimumTLSVersion = .tlsv12
            return tls
        } catch {
            throw BegawiError(.configuration, "cannot load the hub's TLS certificate \(configuration.certificateFile) or key \(configuration.privateKeyFile); check tls_certificate and tls_key in hub.toml (PEM files, readable by the service)", cause: "\(error)")
        }
    }

    /// Listens and serves until SIGTERM or SIGINT, then finishes the requests in flight.
    public func run() async throws {
        try configuration.validate()
        let router = Router()
        router.add(middleware: HubMiddleware(clock: clock, logger: logger, maxBodyBytes: configuration.maxBodyBytes))
        HubRoutes(store: store, configuration: configuration, clock: clock, logger: logger).register(on: router)
        let portFile = configuration.portFile
        let logger = self.logger
        let onReady = self.onReady
        let app = Application(
            router: router,
            server: try .tls(.http1(), tlsConfiguration: tlsConfiguration()),
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
        try await app.runService()
    }
}
