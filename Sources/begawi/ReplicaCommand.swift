import ArgumentParser
import BegawiCore
import BegawiReplica
import Foundation

/// `begawi replica …`: work on one replica file directly (also a way to exchange batches by hand).
struct ReplicaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replica",
        abstract: "Create and inspect a replica file; export and apply batches by hand.",
        subcommands: [Create.self, Status.self, Export.self, Apply.self, Conflicts.self, Compact.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a new replica file with the declared synced tables.")
        @Option(help: "The replica file to create (must not exist).") var file: String
        @Option(help: "This site's id: lowercase letters, digits, '.', '_' or '-'.") var site: String
        @Option(help: "The declared schema (JSON); by default schema.example.json from config/ or the installed share/begawi/.") var schema: String?

        func run() throws {
            let schema = try SchemaFile.path(schema, default: "schema.example.json")
            let replica = try Replica.create(at: file, siteID: site, schema: try SchemaFile.load(schema))
            print("created \(file): site \(replica.siteID), replica \(replica.replicaID), tables \(replica.schema.tables.map(\.name).joined(separator: ", "))")
            try replica.close()
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a replica's state.")
        @Option(help: "The replica file.") var file: String
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let replica = try Replica.open(at: file)
            defer { try? replica.close() }
            let status = try replica.status()
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(status), as: UTF8.self))
                return
            }
            print("replica \(status.replicaID) of site \(status.siteID)")
            print("  pending local writes: \(status.pendingCaptures)")
            print("  change sequence: \(status.seq), clock \(status.clock)")
            print("  conflicts in the ledger: \(status.conflicts)")
            for (table, count) in status.rows.sorted(by: { $0.key < $1.key }) {
                print("  \(table): \(count) rows, \(status.tombstones[table] ?? 0) tombstones")
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the next batch a peer lacks to a file.")
        @Option(help: "The replica file.") var file: String
        @Option(help: "Where to write the batch.") var out: String
        @Option(help: "The peer's cursor as BASE/POSITION (see `apply` output); 0/0 for everything.") var after: String = "0/0"
        @Option(help: "At most this many rows.") var maxRows: Int = 1000

        func run() throws {
            let parts = after.split(separator: "/").compactMap { UInt64($0) }
            guard parts.count == 2 else { throw ValidationError("--after takes BASE/POSITION, such as 0/0 or 120/180") }
            let replica = try Replica.open(at: file)
            defer { try? replica.close() }
            let (batch, bytes) = try replica.exportEncoded(after: ExchangeCursor(baseSeq: parts[0], seq: parts[1]), limits: BatchLimits(maxRows: maxRows))
            try Data(bytes).write(to: URL(fileURLWithPath: out))
            print("wrote \(out): \(batch.rows.count) rows, \(bytes.count) bytes, through \(batch.throughSeq)\(batch.complete ? " (complete)" : " (more to come)")")
        }
    }

    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply a batch file, all of it or nothing.")
        @Option(help: "The replica file.") var file: String
        @Option(name: .customLong("in"), help: "The batch file.") var input: String

        func run() throws {
            guard let data = FileManager.default.contents(atPath: input) else {
                throw BegawiError(.invalidArgument, "cannot read the batch file \(input)")
            }
            let replica = try Replica.open(at: file)
            defer { try? replica.close() }
            let result = try replica.apply(encoded: Array(data))
            print("applied \(input): \(result.rowsChanged) rows changed, \(result.conflicts) conflicts; cursor for its source now \(result.cursor)")
        }
    }

    struct Compact: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rewrite a replica or hub file without its free pages, and set it to give free pages back in steps from then on (files made before Begawi did so at creation). Writers wait meanwhile: run it in a quiet hour.")
        @Option(help: "The replica file, or the hub's database.") var file: String

        func run() throws {
            let replica = try Replica.open(at: file)
            defer { try? replica.close() }
            let (before, after) = try replica.compact()
            print("\(file): \(before.pages * before.pageSize / 1024) KiB (\(before.freePages) free pages) → \(after.pages * after.pageSize / 1024) KiB; free pages are now given back at each housekeeping")
        }
    }

    struct Conflicts: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the conflict ledger.")
        @Option(help: "The replica file.") var file: String
        @Flag(help: "Show the losing and winning values (they may be personal data).") var showValues = false

        func run() throws {
            let replica = try Replica.open(at: file)
            defer { try? replica.close() }
            for c in try replica.conflicts() {
                var line = "\(c.table).\(c.column) row \(c.key): write by \(c.loser.site) lost to \(c.winnerIsDelete ? "a delete" : "a write") by \(c.winner.site)"
                if showValues { line += ": \(Display.value(c.loserValue)) → \(c.winnerIsDelete ? "<deleted>" : Display.value(c.winnerValue))" }
                print(line)
            }
        }
    }
}
