import BegawiCore
import Hummingbird
import HTTPTypes

/// Which site daemons the hub serves: those that speak the current protocol or the one before, and
/// are not older than `min_site_version`. Checked on every request of a site, so that a daemon
/// refused at its session is refused at a push or pull too (the minimum may rise at a reload).
extension HubRoutes {
    /// What a request says of the daemon that sent it.
    struct Versions {
        /// The protocol it speaks; 1 when it names none (a daemon made before versions).
        var protocolVersion: Int
        /// Its release, from `Begawi-Daemon-Version` or else its `User-Agent`; nil when neither names one.
        var daemon: DaemonVersion?
        /// The schema version its replica holds, when it names one (one that names none holds version 1).
        var schema: Int?
    }

    /// The versions a request names. A value that is present but malformed is refused, never guessed.
    static func versions(_ request: Request) throws -> Versions {
        let proto = try number(request, .begawiProtocol, upTo: Int64(Int32.max)).map { Int($0) } ?? 1
        var daemon: DaemonVersion?
        if let text = request.headers[.begawiDaemonVersion] {
            guard let version = DaemonVersion(text) else {
                throw HubRefusal(.badRequest, .badRequest, "the \(WireHeader.daemonVersion) header must be a release such as \(DaemonVersion.current) (three whole numbers)")
            }
            daemon = version
        } else {
            daemon = request.headers[.userAgent].flatMap { DaemonVersion(userAgent: $0) }
        }
        let schema = try number(request, .begawiSchemaVersion, upTo: Int64(Int32.max)).map { Int($0) }
        return Versions(protocolVersion: proto, daemon: daemon, schema: schema)
    }

    /// The request's versions, or a `too-old` refusal (426) naming the version to upgrade to. 426
    /// rather than 409: the site cannot recover by itself (as it does from `out-of-order` or
    /// `epoch-changed`), only an upgrade of its package helps.
    func admit(_ request: Request, site: String) throws -> Versions {
        let versions = try HubRoutes.versions(request)
        let minimum = settings.configuration.minSiteVersion
        let keep = "its unsent changes stay in its replica and are sent once it is upgraded"
        if versions.protocolVersion < Wire.oldestProtocolServed {
            refused(site, versions, minimum)
            throw HubRefusal(.upgradeRequired, .tooOld, "this site's daemon speaks protocol \(versions.protocolVersion), older than the hub serves (\(Wire.oldestProtocolServed)–\(Wire.protocolVersion)); upgrade the begawi package at the site to \(max(DaemonVersion.current, minimum ?? DaemonVersion.current)) or later; \(keep)")
        }
        if let minimum {
            guard let daemon = versions.daemon else {
                refused(site, versions, minimum)
                throw HubRefusal(.upgradeRequired, .tooOld, "this request names no daemon version (\(WireHeader.daemonVersion)), and the hub serves begawi \(minimum) or later (min_site_version); upgrade the begawi package at the site; \(keep)")
            }
            if daemon < minimum {
                refused(site, versions, minimum)
                throw HubRefusal(.upgradeRequired, .tooOld, "this site runs begawi \(daemon), older than the minimum version \(minimum) the hub serves (min_site_version); upgrade the begawi package at the site to \(minimum) or later; \(keep)")
            }
        }
        return versions
    }

    private func refused(_ site: String, _ versions: Versions, _ minimum: DaemonVersion?) {
        logger.warning("refused a site daemon that is too old; it must be upgraded", metadata: [
            "site.id": "\(site)", "site.protocol": "\(versions.protocolVersion)", "site.version": "\(versions.daemon.map { "\($0)" } ?? "unknown")",
            "min_site_version": "\(minimum.map { "\($0)" } ?? "none")"])
    }
}
