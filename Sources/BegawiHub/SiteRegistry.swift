package import BegawiCore
package import BegawiRules
import BegawiReplica
import Foundation

/// The rules of the site registry that every hub store keeps alike: which ids and names a new site
/// may have, the refusals that say what to do, and how a stored credential is compared.
package enum SiteRegistry {
    /// Refuses an id or name a new site may not have (the hub's own id among them).
    package static func validateNew(id: String, name: String) throws {
        try SiteID.validate(id)
        guard id != SQLiteHubStore.hubSiteID else {
            throw BegawiError(.invalidArgument, "'\(id)' is the hub's own id; choose another site id")
        }
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty, name.utf8.count <= 200 else {
            throw BegawiError(.invalidArgument, "a site needs a name of 1–200 characters")
        }
    }

    /// Refuses a malformed site id before a credential is rotated.
    package static func validate(id: String) throws { try SiteID.validate(id) }

    /// The refusal of a new site whose id is taken.
    package static func exists(_ id: String) -> BegawiError {
        BegawiError(.invalidArgument, "site '\(id)' already exists; for a new credential run `begawi hub rotate-credential --id \(id)`, or choose another id")
    }

    /// The refusal of a rotation for a site never added.
    package static func unknown(_ id: String) -> BegawiError {
        BegawiError(.invalidArgument, "no site '\(id)'; `begawi hub sites` lists them, `begawi hub add-site` adds a new one")
    }

    /// The refusal of a revocation for a site never added or revoked already.
    package static func notActive(_ id: String) -> BegawiError {
        BegawiError(.invalidArgument, "no active site '\(id)'; `begawi hub sites` lists them")
    }

    /// A stored kind as a `SiteKind`. One that no version of Begawi writes means the database was
    /// altered by hand or damaged: guessing one would give the site another's rights.
    package static func kind(_ stored: String?, site id: String) throws -> SiteKind {
        guard let kind = stored.flatMap(SiteKind.init(rawValue:)) else {
            throw BegawiError(.corrupted, "site '\(id)' in the hub's database has a kind Begawi does not know (_hub_sites.kind); restore the database from a backup, or set the site's kind back to one of \(SiteKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return kind
    }

    /// Whether a stored secret hash is the presented one, in time that does not depend on where they differ.
    package static func matches(stored: String, presented: String) -> Bool {
        ConstantTime.equal(Array(stored.utf8), Array(presented.utf8))
    }
}
