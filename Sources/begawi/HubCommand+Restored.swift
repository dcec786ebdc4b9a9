import ArgumentParser
import BegawiCore
import BegawiHub
import BegawiPostgres
import Foundation

extension HubCommand {
    /// `begawi hub restored`: after a `pg_dump` restored into the same PostgreSQL cluster, a new
    /// epoch before the hub serves (docs/postgresql.md, "Epochs on restore").
    struct Restored: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "After restoring the hub's PostgreSQL database from a pg_dump into the same cluster, run once before the hub serves: the hub gets a new epoch, so sites send again what the restored copy lacks. Not needed on SQLite (hub backup gives the copy a new epoch).")
        @OptionGroup var options: Options

        func run() throws {
            let c = try HubConfigFile.load(options.config)
            guard case .postgres(let settings) = try HubDatabase(c) else {
                print("not needed on SQLite: `begawi hub backup` already gave the copy a new epoch when it wrote it; start the hub on the restored file")
                return
            }
            let store = try PostgresHubStore(settings: settings, poolSize: 1, erasureLog: c.retention.erasureLogPath)
            defer { store.close() }
            // Counts only, never a key: the hub's start erases them again, after the new epoch.
            let lacking = try store.erasuresLacking().count
            let erasures = lacking == 0 ? "" : " The restored database lacks \(lacking) erasures of the erasure log \(c.retention.erasureLogPath ?? ""): the hub erases them again when it starts, before it serves."
            if let change = store.epochChange {
                // The open did it already (a new cluster or timeline): a second one would only cost sites a re-check.
                print("the hub already has a new epoch \(store.hubReplicaID): \(change); nothing more to do.\(erasures)")
                return
            }
            let epochs = try store.restored()
            print("the hub's epoch is now \(epochs.new) (was \(epochs.old)); sites keep what the restored database shares of the old feed and send again what it lacks.\(erasures) Start the hub now (systemctl start begawi-hub)")
        }
    }

    /// `hub init` on PostgreSQL: the store's tables made in the (empty) database, and the schema file
    /// published as its first version; a database that holds a hub already is refused.
    static func createPostgres(_ settings: PostgresSettings, schemaText: Data, file: String) throws {
        let store = try PostgresHubStore(settings: settings, poolSize: 1)
        defer { store.close() }
        if let current = store.currentSchemaVersion {
            throw BegawiError(.configuration, "the PostgreSQL database already holds a hub (schema version \(current) published); to publish a new version run `begawi hub schema publish \(file)`")
        }
        _ = try HubSchemaCommand.naming(file) { try store.publish(schemaText: schemaText) }
    }
}
