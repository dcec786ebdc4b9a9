import BegawiTestSupport
import Foundation
import Testing

/// A site silent longer than `retention_days` is expired (past the purge horizon): the dashboard's
/// health page and `hub sites` both say so, and a site in contact is not.
/// SQLite only until retention is built on PostgreSQL (its store's `expiredSites` answers none yet).
@Suite(.blocking) struct OfficeExpiryTests {
    @Test(arguments: ClusterStore.available) func theDashboardAndHubSitesShowASilentSiteAsExpired(store: ClusterStore) async throws {
        let cluster = try Cluster(label: "office-expiry", hubExtra: "retention_days = 1", store: store)
        try cluster.startHub()
        try cluster.addSite("office", kind: "office")
        try cluster.addSite("lpk-a")
        try cluster.addSite("lpk-b")
        try cluster.sync("lpk-a")
        try cluster.sync("lpk-b")
        // lpk-a last called two days ago, as the health ledger would hold it after two silent days.
        let twoDaysAgo = Int64(Date().timeIntervalSince1970 * 1000) - 2 * 86_400_000
        try cluster.hubWrite("UPDATE _hub_site_health SET last_contact = ? WHERE site = 'lpk-a'", [String(twoDaysAgo)])

        let office = try OfficeClient(cluster)
        try await office.signIn(try SiteIdentity.credential(cluster, "office"))
        let page = try await office.get("/office/")
        #expect(page.status == 200, "\(page)")
        let rows = String(decoding: page.body, as: UTF8.self).components(separatedBy: "<tr data-site=")
        let lpkA = try #require(rows.first { $0.hasPrefix("\"lpk-a\"") }, "lpk-a is not on the page")
        let lpkB = try #require(rows.first { $0.hasPrefix("\"lpk-b\"") }, "lpk-b is not on the page")
        #expect(lpkA.contains("(kedaluwarsa)"), "\(lpkA)")
        #expect(!lpkB.contains("(kedaluwarsa)"), "\(lpkB)")

        let sites = try Cluster.run(["hub", "sites", "--config", cluster.hubConfig]).output
        let lines = sites.split(separator: "\n")
        #expect(lines.first { $0.contains("lpk-a") }?.contains("expired") == true, "\(sites)")
        #expect(lines.first { $0.contains("lpk-b") }?.contains("expired") == false, "\(sites)")
    }
}
