import BegawiCore
import BegawiRules
import BegawiSite
import Foundation

/// The schema `site init` makes the replica with: the hub's current one. A schema file at the site is
/// optional: when there is none, the hub's is written where `schema` in site.toml points (the site's
/// own checks read it); when there is one, it must be the hub's.
enum SiteSchema {
    static func fetch(_ c: SiteConfiguration) async throws -> SchemaDocument {
        let local = FileManager.default.fileExists(atPath: c.schemaPath) ? try SchemaDocument.load(path: c.schemaPath) : nil
        // No replica exists yet: the request names a new id, which this read does not claim.
        var ids = UUIDv7Generator()
        let client = HubClient(transport: try SiteCommand.transport(c), replicaID: ids.next())
        let bytes: [UInt8]
        do {
            bytes = try await client.schema(version: nil)
        } catch where local != nil && SiteSchema.mayUseFile(error) {
            // Offline, or a hub from before versions, with a file: the file is taken, and the first
            // session checks the versions.
            FileHandle.standardError.write(Data("begawi: could not check \(c.schemaPath) against the hub's schema; the replica is made with the file, and its first sync migrates it to the hub's schema if that is newer (\(error))\n".utf8))
            return local!
        }
        let hub: SchemaDocument
        do {
            hub = try SchemaDocument.parse(Data(bytes))
        } catch {
            throw BegawiError(.network, "the hub's schema could not be read; check that hub_url names this programme's Begawi hub", cause: "\(error)")
        }
        guard let local else {
            do {
                try Data(bytes).write(to: URL(fileURLWithPath: c.schemaPath))
            } catch {
                throw BegawiError(.configuration, "cannot write the hub's schema to \(c.schemaPath); make its folder writable, or point `schema` in site.toml at a writable place", cause: "\(error)")
            }
            return hub
        }
        guard local.digest == hub.digest else {
            throw BegawiError(.configuration, "the schema file \(c.schemaPath) (version \(local.version)) differs from the hub's current schema (version \(hub.version)); delete the file and run `begawi site init` again to take the hub's, or replace it with the hub's (`begawi hub schema show` at the hub)")
        }
        return hub
    }

    /// Whether init may go on with the site's own file: the hub cannot be reached, or does not serve
    /// schemas (404). A refused credential or a damaged answer stops it.
    static func mayUseFile(_ error: any Error) -> Bool {
        if let error = error as? BegawiError { return error.code == .network }
        if let refusal = error as? HubRefusal { return refusal.status == 404 }
        return false
    }
}
