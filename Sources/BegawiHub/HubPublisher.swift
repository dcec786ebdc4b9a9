public import Logging
public import ServiceLifecycle

/// Publishes, every `interval`, the changes that wait for a place in the feed (docs/postgresql.md,
/// "Held pulls across processes"): on PostgreSQL a push whose own publish lost its turn to another
/// process leaves its rows waiting, and without this timer they would wait for the next push or
/// pull. Cheap when nothing waits (the store reads before it locks). Runs in the hub's sync lane,
/// with the requests; a publish that fails is logged once until one succeeds again.
public struct HubPublisher: Service {
    let store: any ServedHubStore
    let lanes: Blocking
    let interval: Duration
    let logger: Logger

    /// Publishes `store`'s waiting changes every `interval`, in the sync lane of `lanes`.
    public init(store: any ServedHubStore, lanes: Blocking, interval: Duration, logger: Logger) {
        self.store = store
        self.lanes = lanes
        self.interval = interval
        self.logger = logger
    }

    /// Publishes every interval until the service group shuts down; the shutdown ends it quietly.
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { [self] in
                var failing = false
                while true {
                    try await Task.sleep(for: interval)
                    do {
                        try await lanes.run { [store] in try store.publishWaiting() }
                        if failing { logger.notice("publishing the feed works again") }
                        failing = false
                    } catch is CancellationError {
                        throw CancellationError()
                    } catch {
                        if !failing {
                            logger.error("publishing the changes that wait for the feed failed; tried again every second (a push or pull publishes them too)",
                                         metadata: ["error": "\(error)"])
                        }
                        failing = true
                    }
                }
            }
        } catch is CancellationError {
        }
    }
}
