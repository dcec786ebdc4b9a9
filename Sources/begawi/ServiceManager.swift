import BegawiSystemd
import Dispatch
import Foundation

/// The daemons' side of systemd: READY once serving, STOPPING when SIGTERM or SIGINT arrives (the
/// service group then finishes what is in hand), and watchdog pings.
enum ServiceManager {
    static let notifier = SystemdNotifier()

    /// Sends STOPPING=1 when a stop signal arrives; keep the returned sources alive while running.
    static func announceStopping() -> [any DispatchSourceSignal] {
        guard notifier.isActive else { return [] }
        return [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN) // delivered to the dispatch sources (the service group's too)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { notifier.stopping() }
            source.resume()
            return source
        }
    }

    /// Calls `reload` on SIGHUP (from a serial queue, one reload at a time), telling systemd the
    /// service is reloading meanwhile. Installed in and out of systemd: SIGHUP must never kill a
    /// daemon. Keep the returned source alive while running.
    static func onReload(_ reload: @escaping @Sendable () -> String) -> any DispatchSourceSignal {
        ignoreHangUps()
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "begawi.reload"))
        source.setEventHandler {
            // Before the first READY the service is still starting: a reload must not announce readiness.
            let started = notifier.isReady
            if started { notifier.reloading() }
            let status = reload()
            if started { notifier.ready(status: status) } else { notifier.status(status) }
        }
        source.resume()
        return source
    }

    /// SIGHUP's default action ends the process: the daemons set it aside first thing, and handle
    /// it once their configuration can be re-read (`onReload`).
    static func ignoreHangUps() {
        signal(SIGHUP, SIG_IGN)
    }
}
