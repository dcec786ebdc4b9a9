import Logging
public import ServiceLifecycle

/// Feeds the service manager's watchdog through the request path: each ping waits for a probe of
/// the store in the sync lane, so a hub whose requests hang stops pinging and is restarted.
public struct HubWatchdog: Service {
    let store: any HubStore
    let lanes: Blocking
    let interval: Duration
    let onAlive: @Sendable () -> Void
    let logger: Logger

    /// Pings every `interval` until the service group shuts down. A probe that fails ends the
    /// pings (the service manager then restarts the hub); it never stops the hub by itself.
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { [self] in
                while true {
                    try await HubServer.probe(store, in: lanes)
                    onAlive()
                    try await Task.sleep(for: interval)
                }
            }
        } catch is CancellationError {
        } catch {
            logger.error("the watchdog's probe of the store failed; pings stop until the hub restarts", metadata: ["error": "\(error)"])
            try? await gracefulShutdown()
        }
    }
}
