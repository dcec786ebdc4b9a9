import BegawiCore
import Logging
public import ServiceLifecycle

/// The hub's periodic housekeeping (issue 15: purge below the horizon, retention, space given back),
/// every `housekeeping_interval_seconds`, on the sync lane so that it queues with the pushes for
/// the one writer instead of racing them. A pass that fails is logged and tried again at the next.
public struct HubHousekeeping: Service {
    let store: any ServedHubStore
    let lanes: Blocking
    let settings: HubSettings
    let clock: any WallClock
    let logger: Logger

    /// Runs a pass every interval (the settings' current one) until the service group shuts down.
    /// The shutdown's cancellation ends it quietly: a service that throws makes the group fail, and
    /// the hub would exit non-zero on every `systemctl stop`.
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { [self] in
                while true {
                    let retention = settings.configuration.retention
                    try await Task.sleep(for: .seconds(retention.housekeepingIntervalSeconds))
                    await pass(retention)
                }
            }
        } catch is CancellationError {
        }
    }

    /// One pass: each concern's counts, in one log line.
    func pass(_ retention: HubRetention) async {
        let now = clock.nowMilliseconds()
        do {
            let done = try await lanes.run { [store] in try store.housekeep(now: now, retention: retention) }
            var metadata: Logger.Metadata = [:]
            for (name, count) in done { metadata[name] = "\(count)" }
            logger.info("housekeeping done", metadata: metadata)
        } catch is CancellationError {
        } catch {
            logger.error("housekeeping failed; it is tried again at the next pass", metadata: ["error": "\(error)"])
        }
    }
}
