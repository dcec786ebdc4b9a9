import BegawiCore
import BegawiReplica
internal import GRDB

extension SQLiteHubStore {
    /// Brings the site registry of an older hub database up to this version: each step adds what a
    /// newer release needs, and runs once.
    static func migrateRegistry(_ db: Database) throws {
        let columns = Set(try Row.fetchAll(db, sql: "SELECT name FROM pragma_table_info('_hub_sites')").map { $0[0] as String })
        if !columns.contains("credential_generation") {
            // Moved by every rotation: a dashboard session or cache taken under another generation has ended.
            try db.execute(sql: "ALTER TABLE _hub_sites ADD COLUMN credential_generation INTEGER NOT NULL DEFAULT 1")
        }
        if !columns.contains("credential_changed_at") {
            try db.execute(sql: "ALTER TABLE _hub_sites ADD COLUMN credential_changed_at INTEGER")
        }
    }

    /// Gives a site a new credential and refuses the old one from the next request on. A revoked
    /// site becomes active again with the new credential; its data and replicas stay.
    public func rotateCredential(id: String) throws -> SiteCredential {
        try SiteID.validate(id)
        let credential = SiteCredential.generate(for: id)
        try replica.ownerWrite { db in
            try db.execute(sql: """
                UPDATE _hub_sites SET secret_sha256 = ?, revoked_at = NULL, credential_generation = credential_generation + 1,
                    credential_changed_at = ? WHERE id = ?
                """, arguments: [credential.secretHash, Int64(clamping: clock.nowMilliseconds()), id])
            if db.changesCount == 0 {
                throw SiteRegistry.unknown(id)
            }
        }
        return credential
    }

    /// The generation of a site's current credential (moved by each rotation); nil when the site is
    /// unknown or revoked.
    public func credentialGeneration(site: String) throws -> Int64? {
        try replica.ownerRead { db in
            try Int64.fetchOne(db, sql: "SELECT credential_generation FROM _hub_sites WHERE id = ? AND revoked_at IS NULL", arguments: [site])
        }
    }
}
