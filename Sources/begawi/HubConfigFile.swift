import BegawiCore
import BegawiHub
import BegawiPostgres

/// Maps `hub.toml` (documented by config/hub.example.toml) to a `HubConfiguration`.
enum HubConfigFile {
    static let keys = ["listen", "database", "schema", "tls_certificate", "tls_key", "max_clock_skew_seconds",
                       "max_body_bytes", "max_batch_bytes", "page_rows", "port_file", "metrics_token_file",
                       "max_connections", "max_connections_per_address", "handshake_timeout_seconds", "header_timeout_seconds",
                       "idle_timeout_seconds", "body_timeout_seconds", "auth_failures_per_minute", "log_interval_seconds",
                       "min_site_version", "retention_days", "feed_retention_days", "audit_retention_days",
                       "audit_archive_dir", "ledger_retention_days", "housekeeping_interval_seconds", "erasure_log",
                       "max_wait_seconds", "database_password_file"]

    static func load(_ path: String) throws -> HubConfiguration {
        let file = try ConfigFile.load(path)
        try file.checkKeys(keys)
        var c = HubConfiguration()
        if let (host, port) = try file.hostPort("listen", example: "0.0.0.0:8443") {
            c.host = host
            c.port = port
        }
        if let v = try file.string("database") {
            // A PostgreSQL URL is kept as written (checked below); a file path is resolved from this file's folder.
            c.databasePath = HubDatabase.isURL(v) ? v : try file.path("database") ?? v
        }
        if let v = try file.path("database_password_file") { c.databasePasswordFile = v }
        if let v = try file.path("schema") { c.schemaPath = v }
        if let v = try file.path("tls_certificate") { c.certificateFile = v }
        if let v = try file.path("tls_key") { c.privateKeyFile = v }
        if let v = try file.milliseconds("max_clock_skew_seconds", scale: 1000) { c.maxClockSkewMilliseconds = Int64(clamping: v) }
        if let v = try file.int("max_body_bytes") { c.maxBodyBytes = v }
        if let v = try file.int("max_batch_bytes") { c.maxBatchBytes = v }
        if let v = try file.int("page_rows") { c.pageRows = v }
        if let v = try file.path("port_file") { c.portFile = v }
        if let v = try file.path("metrics_token_file") { c.metricsTokenFile = v }
        if let v = try file.int("max_connections") { c.maxConnections = v }
        if let v = try file.int("max_connections_per_address") { c.maxConnectionsPerAddress = v }
        if let v = try file.int("handshake_timeout_seconds") { c.handshakeTimeoutSeconds = v }
        if let v = try file.int("header_timeout_seconds") { c.headerTimeoutSeconds = v }
        if let v = try file.int("idle_timeout_seconds") { c.idleTimeoutSeconds = v }
        if let v = try file.int("body_timeout_seconds") { c.bodyTimeoutSeconds = v }
        if let v = try file.int("auth_failures_per_minute") { c.authFailuresPerMinute = v }
        if let v = try file.int("log_interval_seconds") { c.logIntervalSeconds = v }
        if let v = try file.int("max_wait_seconds") { c.maxWaitSeconds = v }
        if let v = try file.string("min_site_version") {
            guard let version = DaemonVersion(v) else {
                throw BegawiError(.configuration, "\(path): min_site_version must be a release such as \"\(DaemonVersion.current)\" (three whole numbers)")
            }
            c.minSiteVersion = version
        }
        if let v = try file.int("retention_days") { c.retention.retentionDays = v }
        if let v = try file.int("feed_retention_days") { c.retention.feedRetentionDays = v }
        if let v = try file.int("audit_retention_days") { c.retention.auditRetentionDays = v }
        if let v = try file.path("audit_archive_dir") { c.retention.auditArchiveFolder = v }
        if let v = try file.int("ledger_retention_days") { c.retention.ledgerRetentionDays = v }
        if let v = try file.int("housekeeping_interval_seconds") { c.retention.housekeepingIntervalSeconds = v }
        if let v = try file.path("erasure_log") { c.retention.erasureLogPath = v }
        do {
            try c.validate()
            if c.databaseIsPostgres {
                _ = try HubDatabase.settings(url: c.databasePath)
                // No database file to put the archive beside (SQLite's default is `<database>.audit`).
                if c.retention.auditRetentionDays != nil, c.retention.auditArchiveFolder == nil {
                    throw PostgresHubStore.auditArchiveUnnamed
                }
            }
        } catch let e as BegawiError {
            throw BegawiError(.configuration, "\(path): \(e.message)")
        }
        return c
    }

    /// Loads the configuration for the running hub: its secrets must be readable files.
    static func loadForDaemon(_ path: String) throws -> HubConfiguration {
        let c = try load(path)
        _ = try ConfigFile.secret(c.privateKeyFile, key: "tls_key")
        if let token = c.metricsTokenFile { _ = try ConfigFile.secret(token, key: "metrics_token_file") }
        return c
    }
}
