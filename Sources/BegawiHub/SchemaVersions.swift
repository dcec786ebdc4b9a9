package import BegawiCore
package import BegawiRules
import Foundation

/// The schema versions the hub published, read once when the store opens (a published version never
/// changes), to cut the feed down to the version a site holds until it migrates.
package struct SchemaVersions: Sendable {
    /// The latest published version; nil for a hub that recorded none (sites get every column).
    package let current: Int?
    package let schemas: [Int: Schema]
    /// The published records (the files' text and digests), served to sites that migrate.
    package let published: [Int: PublishedSchema]

    package init(_ published: [PublishedSchema], documents: [SchemaDocument]) {
        current = documents.map(\.version).max()
        schemas = Dictionary(documents.map { ($0.version, $0.schema) }, uniquingKeysWith: { a, _ in a })
        self.published = Dictionary(published.map { ($0.version, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// The versions as recorded, parsed (a store's read of its `_hub_schemas`).
    package init(_ published: [PublishedSchema]) throws {
        self.init(published, documents: try SchemaVersions.documents(published))
    }

    /// The published versions as parsed documents; a stored text that no longer parses is a damaged database.
    package static func documents(_ published: [PublishedSchema]) throws -> [SchemaDocument] {
        try published.map { entry in
            do {
                return try SchemaDocument.parse(Data(entry.document.utf8))
            } catch {
                throw BegawiError(.corrupted, "published schema version \(entry.version) in the hub's database cannot be read; restore the database from a backup", cause: "\(error)")
            }
        }
    }

    /// The tables and columns a site at `version` holds, or nil when it holds all the hub's. A site
    /// that does not say (a daemon from before versions) holds the file the hub was made with: the
    /// oldest version, 1 unless that file said otherwise. A version never published is refused: the
    /// site is ahead of this hub, or talks to another programme's.
    package func schema(forSiteAt version: Int?) throws -> Schema? {
        guard let current, let oldest = schemas.keys.min() else { return nil }
        let version = version ?? oldest
        if version == current { return nil }
        guard let schema = schemas[version] else {
            let known = schemas.keys.sorted().map(String.init).joined(separator: ", ")
            throw BegawiError(.invalidArgument, "the site's replica holds schema version \(version), which this hub never published (it published \(known)); check that hub_url names this programme's hub, and if the hub was restored from an old backup, publish the schema again there (begawi hub schema publish)")
        }
        return schema
    }

    /// The tables a site that migrated from `version` held: that version's, or, for a version this hub
    /// did not publish (a replica that recorded none says 1), the latest published before it, else
    /// the oldest.
    package func schema(migratedFrom version: Int) -> Schema? {
        let known = schemas.keys.sorted()
        return (known.last { $0 <= version } ?? known.first).flatMap { schemas[$0] }
    }
}
