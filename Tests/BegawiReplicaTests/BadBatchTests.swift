import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Foundation
import Testing

/// A batch that cannot be applied is refused whole, with a reason, and leaves the receiver exactly as
/// it was: rows, merge state, ledger, cursor, clock state, the whole file.
@Suite(.blocking) struct BadBatchTests {
    static let t0: UInt64 = 1_780_000_000_000

    /// Two replicas that have exchanged some rows and hold a conflict, and a next batch from the source
    /// waiting to be sent.
    final class Pair {
        let folder = TemporaryFolder("badbatch")
        let source: Replica
        let receiver: Replica
        let next: ChangeBatch

        init() throws {
            source = try Replica.create(at: folder.file("source.sqlite"), siteID: "lpk-1", schema: testSchema, clock: ManualClock(BadBatchTests.t0))
            receiver = try Replica.create(at: folder.file("receiver.sqlite"), siteID: "disnaker", schema: testSchema, clock: ManualClock(BadBatchTests.t0))
            try SQLiteShell.run(source.path, "INSERT INTO t(id, a, b, c) SELECT 'k' || value, 'a', 'b', 'c' FROM generate_series(1, 5)")
            try source.captureLocalChanges(clock: .wall(BadBatchTests.t0))
            try sync(from: source, to: receiver)
            // Concurrent edits of one column: the receiver's loses and goes to its ledger.
            try SQLiteShell.run(receiver.path, "UPDATE t SET a = 'receiver' WHERE id = 'k1'")
            try receiver.captureLocalChanges(clock: .wall(BadBatchTests.t0 + 10))
            try SQLiteShell.run(source.path, "UPDATE t SET a = 'source' WHERE id = 'k1'")
            try source.captureLocalChanges(clock: .wall(BadBatchTests.t0 + 20))
            try sync(from: source, to: receiver)
            // What the source sends next: new rows, an update and a delete.
            try SQLiteShell.run(source.path, """
                INSERT INTO t(id, a, b, c) SELECT 'n' || value, 'new', hex(randomblob(8)), NULL FROM generate_series(1, 40);
                UPDATE t SET b = 'b2' WHERE id = 'k2';
                DELETE FROM t WHERE id = 'k3';
                """)
            try source.captureLocalChanges(clock: .wall(BadBatchTests.t0 + 30))
            next = try source.export(after: try receiver.cursor(for: source.replicaID))
        }

        func snapshot() throws -> ReplicaSnapshot {
            try ReplicaSnapshot(receiver, sources: [source.replicaID, "peer-by-hand"])
        }

        deinit {
            try? source.close()
            try? receiver.close()
        }
    }

    /// Applies through `body`, expecting a refusal with `code`, and checks the receiver is unchanged.
    func expectRefused(_ pair: Pair, _ code: BegawiError.Code, sourceLocation: SourceLocation = #_sourceLocation,
                       _ body: (Replica) throws -> ApplyResult) throws -> BegawiError {
        let before = try pair.snapshot()
        let error = try #require(throws: BegawiError.self, sourceLocation: sourceLocation) { _ = try body(pair.receiver) }
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        #expect(!error.message.isEmpty, sourceLocation: sourceLocation)
        let after = try pair.snapshot()
        #expect(after.rows == before.rows, sourceLocation: sourceLocation)
        #expect(after.states == before.states, sourceLocation: sourceLocation)
        #expect(after.conflicts == before.conflicts, sourceLocation: sourceLocation)
        #expect(after.cursors == before.cursors, sourceLocation: sourceLocation)
        #expect(after.dump == before.dump, "the file's content changed", sourceLocation: sourceLocation)
        return error
    }

    /// After a refusal, the good batches still apply: both ways, the two end level.
    func expectStillSyncs(_ pair: Pair, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try sync(from: pair.source, to: pair.receiver)
        try sync(from: pair.receiver, to: pair.source)
        #expect(try pair.receiver.rows(of: "t") == pair.source.rows(of: "t"), sourceLocation: sourceLocation)
        #expect(try pair.receiver.rowStates(of: "t") == pair.source.rowStates(of: "t"), sourceLocation: sourceLocation)
    }

    @Test func theFixtureHoldsAConflictAndACursor() throws {
        let pair = try Pair()
        #expect(try pair.receiver.conflicts().count == 1)
        #expect(try pair.receiver.cursor(for: pair.source.replicaID) != .start)
        #expect(pair.next.rows.count == 42)
    }

    @Test func aBatchNamingAnUnknownTableIsRefused() throws {
        let pair = try Pair()
        var batch = pair.next
        batch.tables[0].name = "salaries"
        let direct = try expectRefused(pair, .badBatch) { try $0.apply(batch) }
        #expect(direct.message.contains("salaries"), "\(direct.message)")
        let wire = try expectRefused(pair, .badBatch) { try $0.apply(encoded: try BatchCodec.encode(batch)) }
        #expect(wire.message.contains("salaries"), "\(wire.message)")
        try expectStillSyncs(pair)
    }

    @Test func aBatchNamingAnUnknownColumnIsRefused() throws {
        let pair = try Pair()
        var batch = pair.next
        batch.tables[0].columns[1] = "salary"
        let direct = try expectRefused(pair, .badBatch) { try $0.apply(batch) }
        #expect(direct.message.contains("salary"), "\(direct.message)")
        _ = try expectRefused(pair, .badBatch) { try $0.apply(encoded: try BatchCodec.encode(batch)) }
        try expectStillSyncs(pair)
    }

    @Test func truncatedBytesAreRefusedAtEveryLength() throws {
        let pair = try Pair()
        let bytes = try BatchCodec.encode(pair.next)
        try #require(bytes.count > 100)
        let before = try pair.snapshot()
        var accepted: [Int] = []
        var otherErrors: [String] = []
        for length in 0..<bytes.count {
            do {
                _ = try pair.receiver.apply(encoded: Array(bytes.prefix(length)))
                accepted.append(length)
            } catch let error as BegawiError where error.code == .badBatch {
                if error.message.isEmpty { otherErrors.append("\(length): an empty message") }
            } catch {
                otherErrors.append("\(length): \(error)")
            }
        }
        #expect(accepted.isEmpty, "prefixes of these lengths were applied: \(accepted.prefix(10))")
        #expect(otherErrors.isEmpty, "\(otherErrors.prefix(5))")
        let after = try pair.snapshot()
        #expect(after == before)
        try expectStillSyncs(pair)
    }

    @Test func damagedBytesAreRefused() throws {
        let pair = try Pair()
        let bytes = try BatchCodec.encode(pair.next)
        var damaged = bytes
        damaged[bytes.count / 2] ^= 0x5A
        _ = try expectRefused(pair, .badBatch) { try $0.apply(encoded: damaged) }
        _ = try expectRefused(pair, .badBatch) { try $0.apply(encoded: Array("{\"rows\": []}".utf8)) }
        _ = try expectRefused(pair, .badBatch) { try $0.apply(encoded: bytes + [0]) }
        try expectStillSyncs(pair)
    }

    @Test func aStampNotCoveredByItsRowsVectorIsRefused() throws {
        let pair = try Pair()
        let clock = HybridTimestamp(milliseconds: Self.t0 + 40, counter: 0)
        let good = Stamp(clock: clock, site: "peer", counter: 1)
        let uncovered = Stamp(clock: clock, site: "peer", counter: 5)
        func row(_ key: String, _ stamp: Stamp) -> RowChange {
            RowChange(table: 0, key: key, state: RowState(
                vector: VersionVector([("peer", UInt64(1))]),
                deleted: Register(value: RowState.liveMarker, stamp: stamp),
                columns: [Register(value: .text("x"), stamp: stamp), Register(value: .text("y"), stamp: stamp), Register(value: .null, stamp: stamp)]))
        }
        // The first row is sound; the second claims the site's fifth write under a vector that has seen only its first.
        let batch = ChangeBatch(replicaID: "peer-by-hand", baseSeq: 0, afterSeq: 0, throughSeq: 2, complete: true,
                                tables: [BatchTable(name: "t", columns: ["a", "b", "c"])],
                                rows: [row("p1", good), row("p2", uncovered)])
        let error = try expectRefused(pair, .badBatch) { try $0.apply(batch) }
        #expect(error.message.contains("vector"), "\(error.message)")
        try expectStillSyncs(pair)
    }

    @Test func aStampOfASiteMissingFromTheVectorIsRefused() throws {
        let pair = try Pair()
        let stamp = Stamp(clock: HybridTimestamp(milliseconds: Self.t0 + 40, counter: 0), site: "elsewhere", counter: 1)
        let batch = ChangeBatch(replicaID: "peer-by-hand", baseSeq: 0, afterSeq: 0, throughSeq: 1, complete: true,
                                tables: [BatchTable(name: "t", columns: ["a", "b", "c"])],
                                rows: [RowChange(table: 0, key: "k2", state: RowState(
                                    vector: VersionVector([("peer", UInt64(3))]), deleted: nil,
                                    columns: [Register(value: .text("overwritten"), stamp: stamp), nil, nil]))])
        _ = try expectRefused(pair, .badBatch) { try $0.apply(batch) }
    }

    @Test func aBatchWhoseBaseIsPastTheCursorIsRefusedAsOutOfOrder() throws {
        let pair = try Pair()
        let cursor = try pair.receiver.cursor(for: pair.source.replicaID)
        // Made for a peer that already holds `next`: its rows lack registers this receiver does not have.
        let ahead = pair.next.cursorAfter
        try SQLiteShell.run(pair.source.path, "UPDATE t SET c = 'later' WHERE id = 'n1'")
        let batch = try pair.source.export(after: ahead)
        try #require(batch.baseSeq > cursor.baseSeq)
        let error = try expectRefused(pair, .outOfOrder) { try $0.apply(batch) }
        #expect(error.message.contains("base"), "\(error.message)")
        _ = try expectRefused(pair, .outOfOrder) { try $0.apply(encoded: try BatchCodec.encode(batch)) }
        try expectStillSyncs(pair)
    }

    @Test func aBatchThatFailsHalfwayLeavesNothingApplied() throws {
        let folder = TemporaryFolder("badbatch")
        let strict = Schema(tables: [TableSpec(name: "enrollment", columns: [
            ColumnSpec(name: "nik", notNull: true), ColumnSpec(name: "course", notNull: true), ColumnSpec(name: "note"),
        ])])
        let receiver = try Replica.create(at: folder.file("receiver.sqlite"), siteID: "disnaker", schema: strict, clock: ManualClock(Self.t0))
        defer { try? receiver.close() }
        let table = [BatchTable(name: "enrollment", columns: ["nik", "course", "note"])]
        func stamp(_ counter: UInt64) -> Stamp {
            Stamp(clock: HybridTimestamp(milliseconds: Self.t0 + counter, counter: 0), site: "lpk-1", counter: counter)
        }
        func row(_ key: String, _ values: [SQLValue], _ counter: UInt64) -> RowChange {
            RowChange(table: 0, key: key, state: RowState(
                vector: VersionVector([("lpk-1", counter)]),
                deleted: Register(value: RowState.liveMarker, stamp: stamp(counter)),
                columns: values.map { Register(value: $0, stamp: stamp(counter)) }))
        }
        let first = ChangeBatch(replicaID: "lpk-1-replica", baseSeq: 0, afterSeq: 0, throughSeq: 1, complete: true, tables: table,
                                rows: [row("e0", [.text("6371010101900001"), .text("welding"), .null], 1)])
        #expect(try receiver.apply(first).rowsChanged == 1)

        // An update of e0, a new row, then a row whose NOT NULL column is null: SQLite refuses the third.
        var update = RowState(columnCount: 3)
        update.vector = VersionVector([("lpk-1", 2)])
        update.columns[1] = Register(value: .text("tailoring"), stamp: stamp(2))
        let failing = ChangeBatch(replicaID: "lpk-1-replica", baseSeq: 1, afterSeq: 1, throughSeq: 4, complete: true, tables: table, rows: [
            RowChange(table: 0, key: "e0", state: update),
            row("e1", [.text("6371010101900002"), .text("welding"), .text("ok")], 3),
            row("e2", [.text("6371010101900003"), .null, .null], 4),
        ])
        let before = try ReplicaSnapshot(receiver, sources: ["lpk-1-replica"])
        let error = try #require(throws: BegawiError.self) { try receiver.apply(failing) }
        #expect([BegawiError.Code.badBatch, .storage].contains(error.code), "\(error)")
        let after = try ReplicaSnapshot(receiver, sources: ["lpk-1-replica"])
        #expect(after.rows == before.rows)
        #expect(after.states == before.states)
        #expect(after.cursors == before.cursors)
        #expect(after.dump == before.dump, "the file's content changed")
        #expect(try receiver.rows(of: "enrollment") == ["e0": [.text("6371010101900001"), .text("welding"), .null]])

        // Without its faulty row, the same batch applies whole.
        var fixed = failing
        fixed.rows.removeLast()
        fixed.throughSeq = 3
        let result = try receiver.apply(fixed)
        #expect(result.rowsChanged == 2)
        #expect(try receiver.rows(of: "enrollment")["e0"] == [.text("6371010101900001"), .text("tailoring"), .null])
        #expect(try receiver.cursor(for: "lpk-1-replica") == ExchangeCursor(baseSeq: 3, seq: 3))
    }
}

/// Batches built in memory skip the wire decoder's checks: `apply(_:)` must refuse their malformed
/// shapes itself, with an error, never by stopping the process. Each runs in a child process, one
/// at a time: each test's cleanup removes every child's folder, a sibling's in flight too.
@Suite(.blocking, .serialized) struct MalformedBatchTests {
    /// The folder label of a child process; a child that crashes cannot remove its folder, its parent does.
    static func label(parent: pid_t) -> String { "malformed-\(parent)" }

    static func refuses(_ rows: [RowChange], columns: [String] = ["a", "b", "c"]) -> Bool {
        let folder = TemporaryFolder(label(parent: getppid()))
        guard let receiver = try? Replica.create(at: folder.file("receiver.sqlite"), siteID: "disnaker", schema: testSchema) else { return false }
        defer { try? receiver.close() }
        let batch = ChangeBatch(replicaID: "peer-by-hand", baseSeq: 0, afterSeq: 0, throughSeq: 1, complete: true,
                                tables: [BatchTable(name: "t", columns: columns)], rows: rows)
        do {
            _ = try receiver.apply(batch)
            return false
        } catch let error as BegawiError {
            return error.code == .badBatch && (try? receiver.rowStates(of: "t").isEmpty) == true
        } catch {
            return false
        }
    }

    static func row(table: Int, registers: Int) -> RowChange {
        let stamp = Stamp(clock: HybridTimestamp(milliseconds: 1_780_000_000_000, counter: 0), site: "peer", counter: 1)
        return RowChange(table: table, key: "k1", state: RowState(
            vector: VersionVector([("peer", UInt64(1))]), deleted: Register(value: RowState.liveMarker, stamp: stamp),
            columns: Array(repeating: Register(value: .text("v"), stamp: stamp), count: registers)))
    }

    static func removeChildFolders() {
        let root = "/dev/shm"
        let prefix = label(parent: getpid()) + "-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] where name.hasPrefix(prefix) {
            try? FileManager.default.removeItem(atPath: root + "/" + name)
        }
    }

    @Test func aRowOfATableTheBatchDoesNotNameIsRefused() async {
        defer { Self.removeChildFolders() }
        await #expect(processExitsWith: .success) {
            guard MalformedBatchTests.refuses([MalformedBatchTests.row(table: 3, registers: 3)]) else { exit(1) }
        }
    }

    @Test func aRowWithFewerRegistersThanItsTableHasColumnsIsRefused() async {
        defer { Self.removeChildFolders() }
        await #expect(processExitsWith: .success) {
            guard MalformedBatchTests.refuses([MalformedBatchTests.row(table: 0, registers: 1)], columns: ["c", "b", "a"]) else { exit(1) }
        }
    }
}
