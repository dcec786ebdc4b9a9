import BegawiSystemd
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// The daemons' side of systemd and of signals: one service group per daemon, which finishes what
/// is in hand on SIGTERM or SIGINT (announcing STOPPING first) and reloads on SIGHUP; the daemons
/// send READY once they serve, and watchdog pings, through `notifier`.
enum ServiceManager {
    static let notifier = SystemdNotifier()

    /// Runs a daemon's services in one group with the reload and STOPPING services beside them.
    /// `reload` re-reads the configuration and returns the status line for the service manager.
    static func runGroup(_ services: [ServiceGroupConfiguration.ServiceConfiguration], reload: @escaping @Sendable () -> String,
                         logger: Logger) async throws {
        // Shut down in reverse order: STOPPING goes out first, the daemon's own services stop last.
        let all = services + [.init(service: ReloadOnHangUp(reload: reload), serviceName: "reload"),
                                .init(service: StoppingAnnouncer(), serviceName: "stopping")]
        let group = ServiceGroup(configuration: .init(services: all, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// SIGHUP's default action ends the process: the daemons set it aside first thing, and handle
    /// it once their configuration can be re-read (`ReloadOnHangUp`).
    static func ignoreHangUps() {
        signal(SIGHUP, SIG_IGN)
    }
}

/// Calls `reload` on each SIGHUP, one at a time, telling systemd the service is reloading
/// meanwhile. Runs in and out of systemd: SIGHUP must never kill a daemon.
struct ReloadOnHangUp: Service {
    let reload: @Sendable () -> String

    func run() async throws {
        let notifier = ServiceManager.notifier
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            // Before the first READY the service is still starting: a reload must not announce readiness.
            let started = notifier.isReady
            if started { notifier.reloading() }
            let status = reload()
            if started { notifier.ready(status: status) } else { notifier.status(status) }
        }
    }
}

/// Sends STOPPING=1 once the group begins to shut down (it is the last service, so the first told).
struct StoppingAnnouncer: Service {
    func run() async throws {
        try? await gracefulShutdown()
        ServiceManager.notifier.stopping()
    }
}
