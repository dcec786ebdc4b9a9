import BegawiCore
import BegawiSite

/// Maps `site.toml` (documented by config/site.example.toml) to a `SiteConfiguration`.
enum SiteConfigFile {
    static let keys = ["site_id", "replica", "hub_url", "ca_file", "credential_file", "schema", "status_file",
                       "watch_interval_ms", "pull_interval_seconds", "backoff_initial_ms", "backoff_max_seconds",
                       "batch_rows", "batch_bytes", "connect_timeout_ms", "stall_seconds", "metrics_listen",
                       "ledger_retention_days", "wait_seconds"]

    static func load(_ path: String) throws -> (siteID: String, configuration: SiteConfiguration) {
        let file = try ConfigFile.load(path)
        try file.checkKeys(keys)
        guard let siteID = try file.string("site_id") else {
            throw BegawiError(.configuration, "\(path): site_id is missing; set it to the id the office registered (begawi hub add-site --id)")
        }
        var c = SiteConfiguration()
        if let v = try file.path("replica") { c.replicaPath = v; c.statusPath = v + ".status.json" }
        if let v = try file.string("hub_url") { c.hubURL = v }
        if let v = try file.path("ca_file") { c.caFile = v }
        if let v = try file.path("credential_file") { c.credentialFile = v }
        if let v = try file.path("schema") { c.schemaPath = v }
        if let v = try file.path("status_file") { c.statusPath = v }
        if let v = try file.milliseconds("watch_interval_ms", scale: 1) { c.watchIntervalMilliseconds = v }
        if let v = try file.milliseconds("pull_interval_seconds", scale: 1000) { c.pullIntervalMilliseconds = v }
        if let v = try file.milliseconds("backoff_initial_ms", scale: 1) { c.backoffInitialMilliseconds = v }
        if let v = try file.milliseconds("backoff_max_seconds", scale: 1000) { c.backoffCapMilliseconds = v }
        if let v = try file.int("wait_seconds", in: 0...3600, unit: " s") { c.waitSeconds = v }
        if let v = try file.int("batch_rows") { c.batchRows = v }
        if let v = try file.int("batch_bytes") { c.batchBytes = v }
        if let v = try file.int("connect_timeout_ms", in: 1...3_600_000, unit: " ms") { c.connectTimeoutMilliseconds = v }
        if let v = try file.int("stall_seconds", in: 1...86_400, unit: " s") { c.stallSeconds = v }
        if let v = try file.int("ledger_retention_days", in: 1...36_500, unit: " days") { c.ledgerRetentionDays = v }
        if let (host, port) = try file.hostPort("metrics_listen", example: "127.0.0.1:9465") {
            c.metricsHost = host
            c.metricsPort = port
        }
        do { try c.validate() } catch let e as BegawiError { throw BegawiError(.configuration, "\(path): \(e.message)") }
        return (siteID, c)
    }

    /// Loads the configuration and the rules of the schema file it names (for the site's own checks).
    static func loadWithPolicy(_ path: String) throws -> (siteID: String, configuration: SiteConfiguration) {
        var (siteID, c) = try load(path)
        let document = try SchemaFile.document(c.schemaPath)
        c.policy = document.policy
        c.declared = document.schema
        return (siteID, c)
    }
}
