public import BegawiCore

/// How the hub runs: where it listens, its TLS files, its store, and what it accepts.
public struct HubConfiguration: Sendable, Equatable {
    /// The address to listen on.
    public var host: String
    /// The TCP port; 0 picks a free one (its number is written to `portFile`).
    public var port: Int
    /// PEM file with the hub's certificate chain.
    public var certificateFile: String
    /// PEM file with the hub's private key.
    public var privateKeyFile: String
    /// The hub's database: a SQLite file (a replica made by `begawi hub init`), or a
    /// `postgresql://` (`postgres://`) URL naming a PostgreSQL database, without its password.
    public var databasePath: String
    /// A file holding the PostgreSQL role's password (never in the URL), if the server asks for one.
    public var databasePasswordFile: String?
    /// The schema file the hub was created with.
    public var schemaPath: String
    /// Stamps further than this in the hub's future are refused.
    public var maxClockSkewMilliseconds: Int64
    /// The largest request body accepted, compressed.
    public var maxBodyBytes: Int
    /// The largest batch accepted, uncompressed.
    public var maxBatchBytes: Int
    /// Rows per page of the change feed.
    public var pageRows: Int
    /// Where to write the bound port once listening (for tests and scripts), if anywhere.
    public var portFile: String?
    /// A file holding the token that may read `/metrics`, if any: the only one (no site's credential, the
    /// office's included, reads it); without it `/metrics` is off.
    public var metricsTokenFile: String?
    /// Connections served at once; one more is closed as soon as it is accepted, before its TLS handshake.
    public var maxConnections = 1000
    /// Connections served at once from one address (an IPv6 /64 counts as one address).
    public var maxConnectionsPerAddress = 100
    /// Seconds a new connection has to finish its TLS handshake.
    public var handshakeTimeoutSeconds = 10
    /// Seconds a request's line and headers may take, from its first byte (or, on a new connection, from the handshake).
    public var headerTimeoutSeconds = 10
    /// Seconds a kept-alive connection may wait for its next request.
    public var idleTimeoutSeconds = 60
    /// Seconds a request body may go without a byte while the hub waits for one.
    public var bodyTimeoutSeconds = 60
    /// The longest a pull at the head of the feed is held for a change (`max_wait_seconds`); a site
    /// asking longer is held this long. 0 answers every pull at once.
    public var maxWaitSeconds = 1800
    /// Wrong credentials one address may send in a minute before it is answered 429 `too-many-failures`.
    public var authFailuresPerMinute = 10
    /// The oldest site daemon served (`min_site_version`); an older one is refused `too-old` until
    /// its package is upgraded. Nil serves every daemon that speaks a protocol the hub serves.
    public var minSiteVersion: DaemonVersion?
    /// Seconds between the log's summaries of refused connections and of wrong credentials.
    public var logIntervalSeconds = 60
    /// What is kept how long, and the erasure log (`retention_days` and the keys beside it).
    public var retention = HubRetention()

    /// Makes a configuration with the documented defaults.
    public init(host: String = "0.0.0.0", port: Int = 8443, certificateFile: String = "/etc/begawi/hub.crt",
                privateKeyFile: String = "/etc/begawi/hub.key", databasePath: String = "/var/lib/begawi-hub/hub.sqlite",
                schemaPath: String = "/etc/begawi/schema.json", maxClockSkewMilliseconds: Int64 = 300_000,
                maxBodyBytes: Int = 16 << 20, maxBatchBytes: Int = 64 << 20, pageRows: Int = 2000, portFile: String? = nil,
                metricsTokenFile: String? = nil) {
        self.host = host
        self.port = port
        self.certificateFile = certificateFile
        self.privateKeyFile = privateKeyFile
        self.databasePath = databasePath
        self.schemaPath = schemaPath
        self.maxClockSkewMilliseconds = maxClockSkewMilliseconds
        self.maxBodyBytes = maxBodyBytes
        self.maxBatchBytes = maxBatchBytes
        self.pageRows = pageRows
        self.portFile = portFile
        self.metricsTokenFile = metricsTokenFile
    }

    /// Whether `databasePath` names a PostgreSQL database (`postgresql://` or `postgres://`) rather than a SQLite file.
    public var databaseIsPostgres: Bool {
        let lowered = databasePath.lowercased()
        return lowered.hasPrefix("postgresql://") || lowered.hasPrefix("postgres://")
    }

    /// Throws a configuration error naming the first unusable value.
    public func validate() throws {
        guard (0...65535).contains(port) else {
            throw BegawiError(.configuration, "port \(port) is not a TCP port; use 1–65535 (or 0 for any free port)")
        }
        guard maxClockSkewMilliseconds >= 1000 else {
            throw BegawiError(.configuration, "max_clock_skew_seconds must be at least 1")
        }
        guard maxBodyBytes >= 64 << 10, maxBatchBytes >= maxBodyBytes else {
            throw BegawiError(.configuration, "max_body_bytes must be at least 65536 and max_batch_bytes at least max_body_bytes")
        }
        guard (1...100_000).contains(pageRows) else {
            throw BegawiError(.configuration, "page_rows must be between 1 and 100000")
        }
        if databasePasswordFile != nil, !databaseIsPostgres {
            throw BegawiError(.configuration, "database_password_file is only for a PostgreSQL database (database = \"postgresql://ROLE@HOST/DB\"); remove it for a SQLite file")
        }
        try validateNetwork()
        try retention.validate()
    }
}
