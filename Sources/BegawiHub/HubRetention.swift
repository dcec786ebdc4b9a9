import BegawiCore

/// How long the hub keeps what would otherwise grow without bound (`hub.toml`'s retention keys): the
/// purge horizon's cap, the feed, the audit and the handled ledger entries, and where erasures are
/// logged outside the database.
public struct HubRetention: Sendable, Equatable {
    /// The horizon's cap in days (`retention_days`): a site silent for longer is expired, and what it
    /// would still need is purged anyway; it is re-baselined when it returns.
    public var retentionDays = 180
    /// Days `_hub_feed`'s events (who was granted or denied sight of a row, which `hub trace` shows)
    /// are kept at least (`feed_retention_days`): an event goes once it is that old AND below the
    /// horizon (every active site has it).
    public var feedRetentionDays = 180
    /// Days `_hub_audit` is kept (`audit_retention_days`); nil (the default) keeps it all. Before entries
    /// are pruned they are written to monthly archive files in `auditArchiveFolder`.
    public var auditRetentionDays: Int?
    /// Where the audit's monthly archives go (`audit_archive_dir`); nil: `<database>.audit/`.
    public var auditArchiveFolder: String?
    /// Days a handled entry of the conflict or refusal ledger keeps its values (`ledger_retention_days`).
    public var ledgerRetentionDays = 90
    /// Seconds between housekeeping passes (`housekeeping_interval_seconds`): purge, retention, vacuum.
    public var housekeepingIntervalSeconds = 3600
    /// The append-only log of erasures, outside the database (`erasure_log`); nil: `<database>.erasures`.
    public var erasureLogPath: String?

    /// Makes the documented defaults.
    public init() {}

    /// The erasure log's path for a hub whose database is `databasePath`.
    public func erasureLog(database databasePath: String) -> String { erasureLogPath ?? databasePath + ".erasures" }

    /// The audit archive's folder for a hub whose database is `databasePath`.
    public func auditArchive(database databasePath: String) -> String { auditArchiveFolder ?? databasePath + ".audit" }

    /// Throws a configuration error naming the first unusable value.
    public func validate() throws {
        let days = 1...36_500
        guard days.contains(retentionDays) else {
            throw BegawiError(.configuration, "retention_days must be between 1 and 36500")
        }
        guard days.contains(feedRetentionDays) else {
            throw BegawiError(.configuration, "feed_retention_days must be between 1 and 36500")
        }
        if let audit = auditRetentionDays, !days.contains(audit) {
            throw BegawiError(.configuration, "audit_retention_days must be between 1 and 36500 (leave it out to keep the audit)")
        }
        guard days.contains(ledgerRetentionDays) else {
            throw BegawiError(.configuration, "ledger_retention_days must be between 1 and 36500")
        }
        guard (10...86_400).contains(housekeepingIntervalSeconds) else {
            throw BegawiError(.configuration, "housekeeping_interval_seconds must be between 10 and 86400")
        }
    }
}
