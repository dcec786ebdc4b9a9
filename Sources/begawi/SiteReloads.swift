import BegawiCore
import BegawiSite
import Foundation
import Logging

/// SIGHUP for the site daemon: `prepare` (in the reload service's task) re-reads site.toml and checks it
/// whole, making its transport (credential read, CA loaded); a good one waits here until the sync
/// loop takes it at its next turn, a bad one is logged and the settings in force stay. The replica,
/// site id, schema, status file and metrics address change only at a restart. Secrets given as
/// `credential:NAME` are copied by systemd when the service starts: a reload reads the same copy.
final class SiteReloads: @unchecked Sendable {
    let path: String
    let logger: Logger
    let metrics: SiteMetrics
    private let lock = NSLock()
    private var running: SiteConfiguration
    private let siteID: String
    private var ready: (SiteConfiguration, CurlTransport)?

    init(path: String, siteID: String, running: SiteConfiguration, logger: Logger, metrics: SiteMetrics) {
        self.path = path
        self.siteID = siteID
        self.running = running
        self.logger = logger
        self.metrics = metrics
    }

    /// Reads and checks the file; returns the status line for the service manager.
    func prepare() -> String {
        do {
            let (newID, loaded) = try SiteConfigFile.loadWithPolicy(path)
            var next = loaded
            let old = lock.withLock { running }
            var restartOnly: [String] = []
            if newID != siteID { restartOnly.append("site_id") }
            if next.replicaPath != old.replicaPath { restartOnly.append("replica") }
            // The rules inside the file are not compared: the daemon writes the hub's schema there when
            // it migrates and judges by it already, so the file differing from the start's is expected.
            if next.schemaPath != old.schemaPath { restartOnly.append("schema") }
            if next.statusPath != old.statusPath { restartOnly.append("status_file") }
            if next.metricsHost != old.metricsHost || next.metricsPort != old.metricsPort { restartOnly.append("metrics_listen") }
            next.replicaPath = old.replicaPath
            next.schemaPath = old.schemaPath
            next.policy = old.policy
            next.statusPath = old.statusPath
            next.metricsHost = old.metricsHost
            next.metricsPort = old.metricsPort
            // The transport is made (credential read, CA checked) here, so a bad one is refused now.
            let transport = try SiteCommand.transport(next)
            lock.withLock {
                running = next
                ready = (next, transport)
            }
            metrics.reloaded(ok: true)
            if restartOnly.isEmpty {
                logger.notice("configuration reloaded", metadata: ["config": "\(path)"])
            } else {
                logger.warning("configuration reloaded; some changes wait for a restart (systemctl restart begawi-site)",
                               metadata: ["config": "\(path)", "restart.needed_for": "\(restartOnly.joined(separator: ","))"])
            }
            return "configuration reloaded; it applies from the next round"
        } catch {
            metrics.reloaded(ok: false)
            logger.error("configuration not reloaded; the site keeps the one in force", metadata: ["config": "\(path)", "error": "\(error)"])
            return "configuration not reloaded (see the journal); running with the previous one"
        }
    }

    /// The configuration and transport a reload prepared, once; nil when there is none.
    func take() -> (SiteConfiguration, any HubTransport)? {
        lock.withLock { () -> (SiteConfiguration, any HubTransport)? in
            defer { ready = nil }
            return ready
        }
    }
}
