@testable import BegawiSite
import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Foundation
import Testing

/// The site's own value checks, on a real replica file: a row with a value its column does not
/// accept is held back as `bad-value` and not sent; the schema file's limits are those in force;
/// once the value is corrected, or the limit raised, the row is released and sent whole.
@Suite(.blocking) struct SiteValueCheckTests {
    static let schema = Schema(tables: [TableSpec(name: "programs", columns: [
        ColumnSpec(name: "title", notNull: true, maxBytes: 16), ColumnSpec(name: "sector"), ColumnSpec(name: "notes", multiline: true),
    ])])

    /// A write through the sqlite3 shell, as staff make them.
    static func sqlite(_ file: String, _ sql: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [file, sql]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    func folder() throws -> String {
        let path = NSTemporaryDirectory() + "begawi-sitecheck-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func screen(_ replica: Replica, declared: Schema?) throws -> (sent: [String], held: [RowRefusal]) {
        _ = try SiteChecks.releaseCorrected(replica, declared: declared)
        let batch = try replica.export(after: .start, for: "hub")
        let (screened, notices, inserts) = SiteChecks.screen(batch, site: replica.siteID, schema: declared ?? replica.schema, policy: nil,
                                                             held: try SiteChecks.heldRows(replica),
                                                             heldInserts: try replica.heldInserts())
        try replica.holdBack(notices, inserts: inserts)
        return (screened.rows.map(\.key), notices)
    }

    @Test func heldUntilCorrectedOrAllowed() throws {
        let path = try folder()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let replica = try Replica.create(at: path + "/r.sqlite", siteID: "lpk-a", schema: Self.schema)
        defer { try? replica.close() }
        try Self.sqlite(path + "/r.sqlite", """
            INSERT INTO programs(id, title) VALUES ('ok', 'Las');
            INSERT INTO programs(id, title, sector) VALUES ('long', 'Las listrik tingkat dasar', 'energi');
            INSERT INTO programs(id, title, sector) VALUES ('lf', 'Las', 'a' || char(10) || 'b');
            INSERT INTO programs(id, title, notes) VALUES ('notes', 'Las', 'a' || char(13, 10) || 'b');
            """)
        var (sent, held) = try screen(replica, declared: nil)
        #expect(Set(sent) == ["ok", "notes"])
        #expect(Set(held.map(\.key)) == ["long", "lf"] && held.allSatisfy { $0.reason == "bad-value" }, "\(held)")
        #expect(held.first { $0.key == "long" }?.message.contains("16") == true)

        // Still held on the next round; corrected, 'lf' goes whole (its title and sector too).
        (sent, _) = try screen(replica, declared: nil)
        #expect(!sent.contains("long") && !sent.contains("lf"))
        try Self.sqlite(path + "/r.sqlite", "UPDATE programs SET sector = 'ab' WHERE id = 'lf'")
        (sent, held) = try screen(replica, declared: nil)
        #expect(sent.contains("lf") && !sent.contains("long"), "\(sent)")

        // The schema file raises the title's limit: 'long' is allowed now, and released.
        var raised = Self.schema
        raised.tables[0].columns[0].maxBytes = 64
        (sent, held) = try screen(replica, declared: raised)
        #expect(sent.contains("long") && held.isEmpty, "\(sent) \(held)")
    }

    /// A row the hub refused as `bad-value` (its allowed list, say) and restored is not held here, and
    /// its ledger entry, with the values refused, stays.
    @Test func aHubRefusalIsNotAHold() throws {
        let path = try folder()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let replica = try Replica.create(at: path + "/r.sqlite", siteID: "lpk-a", schema: Self.schema)
        defer { try? replica.close() }
        try Self.sqlite(path + "/r.sqlite", """
            INSERT INTO programs(id, title, sector) VALUES ('restored', 'Las', 'hub');
            INSERT INTO _begawi_refusals(at, tbl, key, reason, message, vals) VALUES (1, 'programs', 'restored', 'bad-value', 'by the hub', '{}');
            """)
        let (sent, held) = try screen(replica, declared: nil)
        #expect(sent == ["restored"] && held.isEmpty, "\(sent) \(held)")
        #expect(try replica.refusals().map(\.message) == ["by the hub"])
        // Nor is it counted as held back (`site sync` would exit 3 for it, and `site status` list it).
        #expect(try SiteChecks.heldBackCount(replica) == 0)
        // Asked without `heldHereOnly`, every refusal counts, the hub's too.
        #expect(try replica.heldRows(reasons: [SiteChecks.valueReason]) == [RowKey(table: "programs", key: "restored")])
    }
}
