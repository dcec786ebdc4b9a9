public import BegawiCore
import Foundation
public import BegawiRules

/// How a site daemon runs: its replica, its hub, and its timing.
public struct SiteConfiguration: Sendable, Equatable {
    /// The replica file that the site's applications use.
    public var replicaPath: String
    /// The hub's base URL (https only).
    public var hubURL: String
    /// The CA certificate (PEM) that signed the hub's certificate; the only one trusted.
    public var caFile: String
    /// The file holding this site's credential (from `begawi hub add-site`).
    public var credentialFile: String
    /// The schema file (`begawi site init` installs it).
    public var schemaPath: String
    /// The rules between agencies from the schema file: the site checks derived keys (NIK) before
    /// anything is synced. Nil when the schema declares none.
    public var policy: AccessPolicy?
    /// The schema file's tables: the site checks values against the limits they declare (those the
    /// replica was made with when nil).
    public var declared: Schema?
    /// Where the daemon keeps its status for `begawi site status`.
    public var statusPath: String
    /// How often the daemon looks for local writes, in ms (it syncs within about this long of one).
    public var watchIntervalMilliseconds: UInt64
    /// How often it pulls when nothing happens locally, in ms (when the hub does not hold pulls).
    public var pullIntervalMilliseconds: UInt64
    /// Seconds the hub is asked to hold a pull at the head of its feed until a change arrives
    /// (`wait_seconds`; the hub caps it by its `max_wait_seconds`); 0 never asks, and polls instead.
    public var waitSeconds = 1200
    /// Whether a new replica's first pull asks for the hub's snapshot rather than pages (on; a hub
    /// without snapshots gives pages; `BEGAWI_FIRST_PULL=pages` or `snapshot` in the daemon's
    /// environment overrides it).
    public var firstPullBySnapshot = true
    /// First and longest wait after failures, in ms.
    public var backoffInitialMilliseconds: UInt64
    public var backoffCapMilliseconds: UInt64
    /// Rows per pushed batch at most (below it the round sizes batches to the link), and the batch's value bytes at most.
    public var batchRows: Int
    public var batchBytes: Int
    /// libcurl's connect timeout and stalled-transfer limit.
    public var connectTimeoutMilliseconds: Int
    public var stallSeconds: Int
    /// Days a handled entry of the site's conflict or refusal ledger keeps its values (`ledger_retention_days`).
    public var ledgerRetentionDays = 90
    /// Where the daemon serves Prometheus' `/metrics` (plain HTTP, loopback only); nil: nowhere.
    public var metricsHost: String?
    public var metricsPort: Int?

    /// Makes a configuration with the documented defaults.
    public init(replicaPath: String = "/var/lib/begawi/site.sqlite", hubURL: String = "https://hub.invalid:8443",
                caFile: String = "/etc/begawi/ca.crt", credentialFile: String = "/etc/begawi/credential",
                schemaPath: String = "/etc/begawi/schema.json", statusPath: String? = nil,
                watchIntervalMilliseconds: UInt64 = 250, pullIntervalMilliseconds: UInt64 = 30_000,
                backoffInitialMilliseconds: UInt64 = 1000, backoffCapMilliseconds: UInt64 = 120_000,
                batchRows: Int = 2000, batchBytes: Int = 4 << 20, connectTimeoutMilliseconds: Int = 10_000, stallSeconds: Int = 30) {
        self.replicaPath = replicaPath
        self.hubURL = hubURL
        self.caFile = caFile
        self.credentialFile = credentialFile
        self.schemaPath = schemaPath
        self.statusPath = statusPath ?? replicaPath + ".status.json"
        self.watchIntervalMilliseconds = watchIntervalMilliseconds
        self.pullIntervalMilliseconds = pullIntervalMilliseconds
        self.backoffInitialMilliseconds = backoffInitialMilliseconds
        self.backoffCapMilliseconds = backoffCapMilliseconds
        self.batchRows = batchRows
        self.batchBytes = batchBytes
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.stallSeconds = stallSeconds
    }

    /// Seconds a connection may be silent before TCP probes it: past a held pull's wait and stall
    /// limit, so that a healthy held connection costs no probe bytes (curl's default is 60 s).
    public var keepAliveIdleSeconds: Int { waitSeconds > 0 ? waitSeconds + stallSeconds + 60 : 60 }

    /// Takes the tables and rules of a schema the replica was migrated to, for the site's own checks.
    mutating func adopt(_ document: SchemaDocument) {
        declared = document.schema
        policy = document.policy
    }

    /// Throws a configuration error naming the first unusable value.
    public func validate() throws {
        guard hubURL.lowercased().hasPrefix("https://") else {
            throw BegawiError(.configuration, "hub_url must start with https:// (got \(hubURL)); Begawi never syncs over plain HTTP")
        }
        guard watchIntervalMilliseconds >= 50, pullIntervalMilliseconds >= 1000 else {
            throw BegawiError(.configuration, "watch_interval_ms must be at least 50 and pull_interval_seconds at least 1")
        }
        guard (0...3600).contains(waitSeconds) else {
            throw BegawiError(.configuration, "wait_seconds must be between 0 (never hold a pull: poll every pull_interval_seconds) and 3600")
        }
        guard (1...100_000).contains(batchRows), batchBytes >= 64 << 10 else {
            throw BegawiError(.configuration, "batch_rows must be 1–100000 and batch_bytes at least 65536")
        }
        if let host = metricsHost {
            guard SiteConfiguration.isLoopback(host), let port = metricsPort, (1...65535).contains(port) else {
                throw BegawiError(.configuration, "metrics_listen must be a loopback address with a port, for example \"127.0.0.1:9465\" (metrics are plain HTTP and never leave the machine)")
            }
        }
    }

    /// Whether a host name or address stays on this machine: `localhost`, an IPv4 address in
    /// 127.0.0.0/8, or `::1` (names such as `127.example.org` are not addresses).
    public static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { $0.elementsEqual([UInt8](repeating: 0, count: 15) + [1]) }
        }
        return false
    }
}
