import BegawiCore
import BegawiHub
import BegawiPostgres
import BegawiRules

/// What the administrative `begawi hub` commands do with either store: the registry and
/// credentials, and the sites' health (published schemas: `HubDatabase.published`).
protocol HubAdminStore {
    /// Registers a site; its credential, shown once.
    func addSite(id: String, kind: SiteKind, name: String) throws -> SiteCredential
    /// Refuses the site's credential from now on; its data stays.
    func revokeSite(id: String) throws
    /// A new credential for the site, the old one refused from now on.
    func rotateCredential(id: String) throws -> SiteCredential
    /// Every registered site.
    func sites() throws -> [SiteRecord]
    /// Every site's last contact, report and totals.
    func health() throws -> [SiteHealth]
    /// Sites silent longer than the retention allows (they re-baseline when they return).
    func expiredSites(now: UInt64, retention: HubRetention) throws -> [String]
    /// Ends the store's use.
    func close() throws
}

extension SQLiteHubStore: HubAdminStore {}

extension PostgresHubStore: HubAdminStore {}
