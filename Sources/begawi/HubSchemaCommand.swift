import ArgumentParser
import BegawiCore
import BegawiHub
import BegawiPostgres
import BegawiRules
import Foundation

/// `begawi hub schema …`: the schema versions the hub publishes.
struct HubSchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Publish a new version of the schema, and show the published ones.",
        subcommands: [Publish.self, Show.self, History.self])

    /// A schema file's bytes, with an error that names it.
    static func read(_ path: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BegawiError(.invalidArgument, "cannot read the schema file \(path); check the path")
        }
        return data
    }

    /// Runs `body`, naming `path` in a schema error.
    static func naming<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as BegawiError where error.code == .invalidSchema {
            throw BegawiError(error.code, "\(path): \(error.message)")
        }
    }

    struct Publish: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a schema file against the published versions and publish it: the hub's tables are migrated and the version recorded in one transaction. A refused change changes nothing.")
        @OptionGroup var options: HubCommand.Options
        @Argument(help: "The schema file with the new \"version\".") var file: String

        func run() throws {
            let c = try HubConfigFile.load(options.config)
            let text = try HubSchemaCommand.read(file)
            let database = try HubDatabase(c)
            let evolution = try HubSchemaCommand.naming(file) { try HubSchemaCommand.publish(text, to: database) }
            if evolution.isPublished {
                print("version \(evolution.version) is published already; nothing changed")
            } else {
                // A hub made before versions has its installed tables as version 0: nothing to name.
                let was = evolution.current.flatMap { $0 > 0 ? " (was \($0))" : nil } ?? " (the first version recorded)"
                print("published version \(evolution.version)\(was)")
                for change in evolution.changes { print("  \(change)") }
                try HubSchemaCommand.printWidening(database, text)
            }
            print("next: make `schema` in \(options.config) name \(file), then restart the hub (systemctl restart begawi-hub)")
        }
    }

    /// Publishes on the configuration's store: SQLite migrates the file's tables; PostgreSQL makes
    /// or widens the synced tables, publishers of several processes taking turns.
    static func publish(_ text: Data, to database: HubDatabase) throws -> SchemaEvolution {
        switch database {
        case .sqlite(let path): return try SQLiteHubStore.publish(at: path, schemaText: text)
        case .postgres(let settings):
            let store = try PostgresHubStore(settings: settings, poolSize: 1)
            defer { store.close() }
            return try store.publish(schemaText: text)
        }
    }

    /// Prints, when the published rules differ from those the hub runs with, how many rows each site
    /// will newly receive once the hub restarts and recomputes who may see what.
    static func printWidening(_ database: HubDatabase, _ text: Data) throws {
        guard let policy = try SchemaDocument.parse(text).policy,
              let granted = try widening(database, policy: policy) else { return }
        guard !granted.isEmpty else {
            print("the access rules change; no site receives more rows")
            return
        }
        print("the access rules change and widen what sites receive: rows newly granted at the hub's restart")
        for (site, rows) in granted.sorted(by: { $0.key < $1.key }) { print("  \(site)\t\(rows)") }
    }

    /// The rows each site will newly receive under `policy`, on the configuration's store (nil: the
    /// rules do not change, or the hub never ran with rules).
    static func widening(_ database: HubDatabase, policy: AccessPolicy) throws -> [String: Int]? {
        switch database {
        case .sqlite(let path): return try SQLiteHubStore.widening(at: path, policy: policy)
        case .postgres(let settings):
            let store = try PostgresHubStore(settings: settings, poolSize: 1)
            defer { store.close() }
            return try store.widening(policy: policy)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a published schema file: the current version, or the one named.")
        @OptionGroup var options: HubCommand.Options
        @Option(help: "The version to print.") var version: Int?

        func run() throws {
            let c = try HubConfigFile.load(options.config)
            let published = try HubDatabase(c).published()
            guard let latest = published.last else {
                throw BegawiError(.invalidArgument, "this hub has no published schema yet; `begawi hub schema publish FILE` publishes one (a start of `begawi hub run` records the file in force)")
            }
            let wanted: PublishedSchema?
            if let version { wanted = published.first { $0.version == version } } else { wanted = latest }
            guard let wanted else {
                throw BegawiError(.invalidArgument, "version \(version ?? 0) was not published; `begawi hub schema history` lists the versions")
            }
            print(wanted.document, terminator: wanted.document.hasSuffix("\n") ? "" : "\n")
        }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the published versions: version, time, digest and what each changed.")
        @OptionGroup var options: HubCommand.Options

        func run() throws {
            let c = try HubConfigFile.load(options.config)
            let published = try HubDatabase(c).published()
            if published.isEmpty { print("no schema version published yet") }
            var earlier: [SchemaDocument] = []
            print("version\tpublished_at\tdigest\tchanges")
            for entry in published {
                let document = try SchemaDocument.parse(Data(entry.document.utf8))
                let summary = SchemaEvolution(history: earlier, candidate: document).summary
                print("\(entry.version)\t\(HubCommand.time(entry.publishedAt))\t\(entry.digest)\t\(summary)")
                earlier.append(document)
            }
        }
    }
}
