import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiRules
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// Under the rules the hub reads which of a batch's rows it holds set-wise, and merges the others
/// as new rows without a lookup each (`EngineTransaction.heldKeys`). A second hub that looks up
/// every row on its own (`Replica.lookUpEveryRow`, the way before) takes the very same batches:
/// the answers and both files (merged rows and their merge state, tombstones, visibility, feed,
/// audit, conflicts) must be the same, for new rows, rows seen before, both in one batch, a row
/// named twice in one batch, rows the rules refuse, a table the site may not write, and a batch
/// sent again.
@Suite(.blocking) struct NewRowPathTests {
    /// The harness's hub (the set-wise way), beside a second hub that looks up every row.
    final class Pair {
        let h: HubHarness
        let slow: SQLiteHubStore
        var slowSites: [String: SiteRecord] = [:]

        init() throws {
            h = try HubHarness()
            let path = h.folder.file("hub-slow.sqlite")
            try SQLiteHubStore.create(at: path, schema: h.document.schema, clock: h.clock)
            slow = try SQLiteHubStore(path: path, clock: h.clock, policy: h.document.policy)
            slow.hubReplica.lookUpEveryRow = true
            for (id, kind) in [("disnaker", SiteKind.office), ("lpk-a", .lpk), ("lpk-b", .lpk)] {
                _ = try h.addSite(id, kind: kind)
                _ = try slow.addSite(id: id, kind: kind, name: "Site \(id)")
                try h.staff("disnaker", "INSERT INTO partners(id, kind, name) VALUES (?, ?, ?)", [id, kind.rawValue, "Partner \(id)"])
            }
            for record in try slow.sites() { slowSites[record.id] = record }
        }

        /// Pushes one batch to both hubs; their answers must agree. Returns the first hub's.
        @discardableResult
        func push(_ id: String, _ batch: ChangeBatch, sourceLocation: SourceLocation = #_sourceLocation) throws -> PushOutcome {
            let site = h.site(id)
            let wire = try BatchCodec.decode(try BatchCodec.encode(batch))
            let fast = try h.store.push(site: site.record, replica: site.replica.replicaID, batch: wire)
            let other = try slow.push(site: try #require(slowSites[id]), replica: site.replica.replicaID, batch: wire)
            #expect(fast.rowsChanged == other.rowsChanged, sourceLocation: sourceLocation)
            #expect(fast.conflicts == other.conflicts, sourceLocation: sourceLocation)
            #expect(fast.cursor == other.cursor, sourceLocation: sourceLocation)
            #expect(fast.refused == other.refused, sourceLocation: sourceLocation)
            return fast
        }

        /// What the site lacks at the hubs, pushed to both (refusals settled as the site daemon
        /// does), then a pull from the first hub to its head.
        @discardableResult
        func sync(_ id: String, batchRows: Int = 500) throws -> [RowRefusal] {
            let site = h.site(id)
            let session = try h.store.session(site: site.record, replica: site.replica.replicaID, configuration: HubConfiguration())
            var cursor = session.pushCursor, refused: [RowRefusal] = []
            while true {
                let batch = try site.replica.export(after: cursor, for: session.hubReplicaID, limits: BatchLimits(maxRows: batchRows))
                if batch.rows.isEmpty && batch.complete && cursor == ExchangeCursor(baseSeq: batch.throughSeq, seq: batch.throughSeq) { break }
                let outcome = try push(id, batch)
                if !outcome.refused.isEmpty {
                    let restore = try outcome.restore.map { try BatchCodec.decode(Array(Data(base64Encoded: $0)!)) }
                    try site.replica.settleRefusals(outcome.refused, restore: restore)
                    refused += outcome.refused
                }
                cursor = outcome.cursor
            }
            var pull = try site.replica.cursor(for: session.hubReplicaID)
            while true {
                let (_, bytes) = try h.store.pull(site: site.record, replica: site.replica.replicaID, after: pull, maxRows: 200)
                let result = try site.replica.apply(try BatchCodec.decode(bytes))
                pull = result.cursor
                if try BatchCodec.decode(bytes).complete { break }
            }
            return refused
        }

        func syncAll() throws {
            for _ in 0..<2 { for id in ["disnaker", "lpk-a", "lpk-b"] { try sync(id) } }
        }

        /// Everything a push writes in a hub file, without the times it was written at.
        func contents(_ path: String) throws -> [String] {
            let queue = try DatabaseQueue(path: path, configuration: { var c = Configuration(); c.readonly = true; return c }())
            defer { try? queue.close() }
            return try queue.read { db in
                var out: [String] = []
                func add(_ sql: String) throws { out += try Row.fetchAll(db, sql: sql).map { "\(sql.prefix(40)): \($0)" } }
                try add("SELECT t.name, r.key, r.seq, hex(r.vector), hex(r.stamps), r.origin FROM _begawi_rows r JOIN _begawi_tables t ON t.id = r.tbl ORDER BY 1, 2")
                for table in h.document.schema.tables {
                    try add("SELECT * FROM \"\(table.name)\" ORDER BY 1")
                    try add("SELECT * FROM \"_begawi_dead_\(table.name)\" ORDER BY 1")
                }
                try add("SELECT site, tbl, key, seq FROM _hub_visibility ORDER BY 1, 2, 3")
                try add("SELECT seq, site, tbl, key, kind FROM _hub_feed ORDER BY 1")
                try add("SELECT site, tbl, key, action, reason FROM _hub_audit ORDER BY id")
                try add("SELECT tbl, key, col, loser_value, winner_value, winner_deleted, loser_site, loser_counter, winner_site, winner_counter FROM _begawi_conflicts ORDER BY 1, 2, 3, 7, 8")
                try add("SELECT source, base, position FROM _begawi_cursors ORDER BY 1")
                return out
            }
        }

        /// Both files hold the same; returns how many lines were compared.
        @discardableResult
        func expectSameFiles(sourceLocation: SourceLocation = #_sourceLocation) throws -> Int {
            let fast = try contents(h.folder.file("hub.sqlite")), other = try contents(h.folder.file("hub-slow.sqlite"))
            let differing = zip(fast, other).filter { $0 != $1 }.prefix(3).map { "\($0.0) | \($0.1)" }
            #expect(fast.count == other.count && differing.isEmpty, "\(fast.count) against \(other.count) lines; first differences \(differing)",
                    sourceLocation: sourceLocation)
            return fast.count
        }
    }

    func enroll(_ h: HubHarness, _ site: String, _ id: String, _ person: String, _ program: String) throws {
        try h.staff(site, "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES (?, ?, ?, 'registered')", [id, person, program])
    }

    @Test func bothWaysLeaveTheSameHub() throws {
        let p = try Pair(), h = p.h
        // New rows: programs, 40 people and their enrollments (more than one chunk of keys, 64).
        try h.staff("lpk-a", "INSERT INTO programs(id, provider, title) VALUES ('prog-a', 'lpk-a', 'Las')")
        try h.staff("lpk-b", "INSERT INTO programs(id, provider, title) VALUES ('prog-b', 'lpk-b', 'Forklift')")
        let people = try (1...40).map { try h.register("lpk-a", Person.make($0)) }
        for (i, person) in people.enumerated() { try enroll(h, "lpk-a", "enr-a-\(i)", person, "prog-a") }
        try p.syncAll()
        #expect(try p.expectSameFiles() > 150)

        // Rows seen before beside new ones in one batch: people changed, enrollments ended, new people.
        for person in people[0..<6] { try h.staff("lpk-a", "UPDATE participants SET kecamatan = 'Bontang Selatan' WHERE id = ?", [person]) }
        try h.staff("lpk-a", "DELETE FROM enrollments WHERE id IN ('enr-a-7', 'enr-a-8')")
        let more = try (41...50).map { try h.register("lpk-a", Person.make($0)) }
        for (i, person) in more.enumerated() { try enroll(h, "lpk-a", "enr-a-\(40 + i)", person, "prog-a") }
        try p.sync("lpk-a")
        try p.expectSameFiles()

        // B enrolls A's people (rows the hub holds, linked anew); the office writes a column A may not.
        for i in 0..<5 { try enroll(h, "lpk-b", "enr-b-\(i)", people[20 + i], "prog-b") }
        try p.sync("lpk-b")
        try h.staff("disnaker", "UPDATE participants SET verified_on = '2026-03-01' WHERE id = ?", [people[1]])
        try p.sync("disnaker")
        try p.expectSameFiles()

        // Refused rows beside accepted ones: a person registered in A's name by B, its enrollment, a
        // partner row an LPK may not write, and a change to A's person that B may not make.
        let good = try h.register("lpk-b", Person.make(60))
        let forged = Person.make(61), forgedKey = forged.key(h.policy)
        try h.staff("lpk-b", "INSERT INTO participants(id, nik, full_name, registered_by) VALUES (?, ?, ?, 'lpk-a')", [forgedKey, forged.nik, forged.name])
        try enroll(h, "lpk-b", "enr-b-good", good, "prog-b")
        try enroll(h, "lpk-b", "enr-b-forged", forgedKey, "prog-b")
        try h.staff("lpk-b", "INSERT INTO partners(id, kind, name) VALUES ('lpk-z', 'lpk', 'Made up')")
        try h.staff("lpk-b", "UPDATE participants SET kecamatan = 'Bontang Barat' WHERE id = ?", [people[20]])
        let refused = try p.sync("lpk-b")
        #expect(Set(refused.map(\.key)).isSuperset(of: [forgedKey, "enr-b-forged", "lpk-z", people[20]]))
        #expect(Set(refused.map(\.reason)).isSuperset(of: [.notWriter, .notOwner]))
        try p.expectSameFiles()

        // The same key twice in one batch (two exports pushed as one), a new row and a row seen before,
        // then the same batch again (nothing changes the second time).
        let a = h.site("lpk-a")
        let session = try h.store.session(site: a.record, replica: a.replica.replicaID, configuration: HubConfiguration())
        try enroll(h, "lpk-a", "enr-twice", people[30], "prog-a")
        try h.staff("lpk-a", "UPDATE enrollments SET status = 'active' WHERE id = 'enr-a-0'")
        let first = try a.replica.export(after: session.pushCursor, for: session.hubReplicaID)
        try h.staff("lpk-a", "UPDATE enrollments SET participant_id = ? WHERE id = 'enr-twice'", [people[31]])
        try h.staff("lpk-a", "UPDATE enrollments SET status = 'completed' WHERE id = 'enr-a-0'")
        let second = try a.replica.export(after: ExchangeCursor(baseSeq: first.throughSeq, seq: first.throughSeq), for: session.hubReplicaID)
        try #require(first.tables == second.tables && first.rows.count == 2 && second.rows.count == 2)
        let both = ChangeBatch(replicaID: first.replicaID, baseSeq: first.baseSeq, afterSeq: first.afterSeq, throughSeq: second.throughSeq,
                               complete: second.complete, tables: first.tables, rows: first.rows + second.rows, evictions: [])
        #expect(try p.push("lpk-a", both).rowsChanged == 4)
        #expect(try p.push("lpk-a", both).rowsChanged == 0)
        #expect(try h.hubRows("enrollments")["enr-twice"]?.first == .text(people[31]))
        try p.syncAll()
        try p.expectSameFiles()
    }
}
