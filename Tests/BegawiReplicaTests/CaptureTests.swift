import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Foundation
import Testing

/// Writes made by another program (the real `sqlite3` shell, in its own process) are captured by the
/// triggers in the writer's own transaction, whether the replica is open or not.
@Suite(.blocking) struct CaptureTests {
    static let site = "lpk-1"

    func makeReplica(_ folder: TemporaryFolder, _ name: String = "site.sqlite", site: String = CaptureTests.site) throws -> Replica {
        try Replica.create(at: folder.file(name), siteID: site, schema: testSchema, clock: ManualClock())
    }

    func values(_ change: RowChange) -> [SQLValue?] { change.state.columns.map { $0?.value } }

    @Test func shellInsertWhileOpenIsCapturedAndExported() throws {
        let folder = TemporaryFolder("capture")
        let replica = try makeReplica(folder)
        defer { try? replica.close() }

        try SQLiteShell.run(replica.path, "INSERT INTO t(id, a, b, c) VALUES ('k1', 'alpha', 'beta', NULL)")
        #expect(try replica.pendingCaptureCount() == 1)

        let batch = try replica.export(after: .start)
        #expect(batch.complete)
        #expect(batch.rows.map(\.key) == ["k1"])
        let row = try #require(batch.rows.first)
        #expect(values(row) == [.text("alpha"), .text("beta"), .null])
        #expect(row.state.deleted?.value == RowState.liveMarker)
        #expect(row.state.vector == VersionVector([(Self.site, UInt64(1))]))
        #expect(stamps(of: row.state).allSatisfy { $0.site == Self.site && $0.counter == 1 })
        // Export stamped the write in its own transaction: nothing is left waiting.
        #expect(try replica.pendingCaptureCount() == 0)
        #expect(try replica.rows(of: "t") == ["k1": [.text("alpha"), .text("beta"), .null]])
    }

    @Test func shellWritesWhileClosedAreCapturedAfterReopen() throws {
        let folder = TemporaryFolder("capture")
        let path = folder.file("site.sqlite")
        try makeReplica(folder).close()

        // No Begawi process has the file open: the triggers alone record these.
        try SQLiteShell.run(path, "INSERT INTO t(id, a, b, c) VALUES ('k1', 'a1', 'b1', 'c1'), ('k2', 'a2', 'b2', 'c2')")
        try SQLiteShell.run(path, "UPDATE t SET b = 'b1-new' WHERE id = 'k1'")
        try SQLiteShell.run(path, "DELETE FROM t WHERE id = 'k2'")

        let replica = try Replica.open(at: path, clock: ManualClock())
        defer { try? replica.close() }
        #expect(try replica.pendingCaptureCount() == 4)

        let batch = try replica.export(after: .start)
        let byKey = Dictionary(uniqueKeysWithValues: batch.rows.map { ($0.key, $0) })
        #expect(Set(byKey.keys) == ["k1", "k2"])
        let k1 = try #require(byKey["k1"])
        #expect(values(k1) == [.text("a1"), .text("b1-new"), .text("c1")])
        #expect(k1.state.deleted?.value == RowState.liveMarker)
        // The update is the third write of the site; the insert's registers keep the first.
        #expect(k1.state.columns.map { $0?.stamp.counter } == [1, 3, 1])
        let k2 = try #require(byKey["k2"])
        #expect(k2.state.deleted?.value == RowState.deletedMarker)
        #expect(k2.state.deleted?.stamp.counter == 4)
        #expect(try replica.rows(of: "t") == ["k1": [.text("a1"), .text("b1-new"), .text("c1")]])
        #expect(try replica.rowStates(of: "t")["k2"]?.isLive == false)
    }

    @Test func insertUpdateAndDeleteThroughTheShellAreEachCaptured() throws {
        let folder = TemporaryFolder("capture")
        let replica = try makeReplica(folder)
        defer { try? replica.close() }

        try SQLiteShell.run(replica.path, "INSERT INTO t(id, a, b, c) VALUES ('k1', 'a', 'b', 'c'), ('k2', 'x', 'y', 'z')")
        #expect(try replica.pendingCaptureCount() == 2)
        let inserted = try replica.export(after: .start)
        #expect(Set(inserted.rows.map(\.key)) == ["k1", "k2"])
        #expect(inserted.complete)

        try SQLiteShell.run(replica.path, "UPDATE t SET b = 'b2' WHERE id = 'k1'")
        #expect(try replica.pendingCaptureCount() == 1)
        let updated = try replica.export(after: inserted.cursorAfter)
        #expect(updated.rows.map(\.key) == ["k1"])
        let update = try #require(updated.rows.first)
        // Only the changed column travels; the receiver holds the rest up to the cursor's base.
        #expect(values(update) == [nil, .text("b2"), nil])
        #expect(update.state.deleted == nil)
        #expect(update.state.columns[1]?.stamp.counter == 3)
        #expect(update.state.vector == VersionVector([(Self.site, UInt64(3))]))

        try SQLiteShell.run(replica.path, "UPDATE t SET c = 'same-for-all'")
        #expect(try replica.pendingCaptureCount() == 2)
        let both = try replica.export(after: updated.cursorAfter)
        #expect(Set(both.rows.map(\.key)) == ["k1", "k2"])
        #expect(both.rows.allSatisfy { values($0) == [nil, nil, .text("same-for-all")] })

        try SQLiteShell.run(replica.path, "DELETE FROM t WHERE id = 'k1'")
        #expect(try replica.pendingCaptureCount() == 1)
        let deleted = try replica.export(after: both.cursorAfter)
        #expect(deleted.rows.map(\.key) == ["k1"])
        let tombstone = try #require(deleted.rows.first)
        #expect(tombstone.state.deleted?.value == RowState.deletedMarker)
        #expect(tombstone.state.deleted?.stamp.counter == 6)
        #expect(try replica.rows(of: "t").keys.sorted() == ["k2"])
    }

    @Test func anUpdateThatChangesNothingRecordsNothing() throws {
        let folder = TemporaryFolder("capture")
        let replica = try makeReplica(folder)
        defer { try? replica.close() }
        try SQLiteShell.run(replica.path, "INSERT INTO t(id, a, b, c) VALUES ('k1', 'a', 'b', NULL)")
        let first = try replica.export(after: .start)
        let before = try replica.rowStates(of: "t")

        try SQLiteShell.run(replica.path, """
            UPDATE t SET a = a, b = b, c = c;
            UPDATE t SET a = 'a' WHERE id = 'k1';
            UPDATE t SET c = NULL WHERE id = 'k1';
            UPDATE t SET a = 'other' WHERE id = 'no-such-row';
            """)
        #expect(try replica.pendingCaptureCount() == 0)
        #expect(try replica.captureLocalChanges() == 0)
        #expect(try replica.export(after: first.cursorAfter).rows.isEmpty)
        #expect(try replica.rowStates(of: "t") == before)
    }

    @Test func changingThePrimaryKeyIsADeleteOfTheOldKeyAndAnInsertOfTheNew() throws {
        let folder = TemporaryFolder("capture")
        let replica = try makeReplica(folder)
        let peer = try makeReplica(folder, "peer.sqlite", site: "blki")
        defer {
            try? replica.close()
            try? peer.close()
        }
        try SQLiteShell.run(replica.path, "INSERT INTO t(id, a, b, c) VALUES ('old-key', 'a', 'b', 'c')")
        try sync(from: replica, to: peer)
        let cursor = try peer.cursor(for: replica.replicaID)

        try SQLiteShell.run(replica.path, "UPDATE t SET id = 'new-key', b = 'b2' WHERE id = 'old-key'")
        #expect(try replica.pendingCaptureCount() == 2)

        let batch = try replica.export(after: cursor)
        let byKey = Dictionary(uniqueKeysWithValues: batch.rows.map { ($0.key, $0) })
        #expect(Set(byKey.keys) == ["old-key", "new-key"])
        #expect(byKey["old-key"]?.state.deleted?.value == RowState.deletedMarker)
        let inserted = try #require(byKey["new-key"])
        #expect(inserted.state.deleted?.value == RowState.liveMarker)
        #expect(values(inserted) == [.text("a"), .text("b2"), .text("c")])

        _ = try peer.apply(batch)
        let expected: [String: [SQLValue]] = ["new-key": [.text("a"), .text("b2"), .text("c")]]
        #expect(try replica.rows(of: "t") == expected)
        #expect(try peer.rows(of: "t") == expected)
        #expect(try peer.rowStates(of: "t")["old-key"]?.isLive == false)
        #expect(try peer.rowStates(of: "t") == replica.rowStates(of: "t"))
    }

    @Test func theEnginesOwnWritesWhileApplyingAreNotCapturedAgain() throws {
        let folder = TemporaryFolder("capture")
        let origin = try makeReplica(folder, "origin.sqlite", site: "lpk-1")
        let receiver = try makeReplica(folder, "receiver.sqlite", site: "disnaker")
        defer {
            try? origin.close()
            try? receiver.close()
        }
        try SQLiteShell.run(origin.path, """
            INSERT INTO t(id, a, b, c) VALUES ('k1', 'a1', 'b1', 'c1'), ('k2', 'a2', 'b2', 'c2'), ('k3', 'a3', 'b3', 'c3');
            UPDATE t SET a = 'a1-new' WHERE id = 'k1';
            DELETE FROM t WHERE id = 'k3';
            """)
        try sync(from: origin, to: receiver)

        #expect(try receiver.pendingCaptureCount() == 0)
        let received = try receiver.rowStates(of: "t")
        #expect(received.count == 3)
        // Nothing carries the receiver's own site: it stamped none of what it applied.
        #expect(received.values.allSatisfy { $0.vector["disnaker"] == 0 && stamps(of: $0).allSatisfy { $0.site == "lpk-1" } })

        let originBefore = try ReplicaSnapshot(origin)
        let back = try receiver.export(after: try origin.cursor(for: receiver.replicaID))
        let result = try origin.apply(back)
        #expect(result.rowsChanged == 0)
        #expect(result.conflicts == 0)
        #expect(try origin.pendingCaptureCount() == 0)
        #expect(try origin.rowStates(of: "t") == originBefore.states["t"])
        #expect(try origin.rows(of: "t") == originBefore.rows["t"])

        // Capture was suspended only during the engine's transaction: the next outside write is captured.
        try SQLiteShell.run(receiver.path, "UPDATE t SET b = 'from-receiver' WHERE id = 'k2'")
        #expect(try receiver.pendingCaptureCount() == 1)
    }

    @Test func aTransactionThatRollsBackLeavesNoTrace() throws {
        let folder = TemporaryFolder("capture")
        let replica = try makeReplica(folder)
        defer { try? replica.close() }

        try SQLiteShell.run(replica.path, """
            BEGIN;
            INSERT INTO t(id, a, b, c) VALUES ('k1', 'a', 'b', 'c');
            UPDATE t SET a = 'changed' WHERE id = 'k1';
            DELETE FROM t WHERE id = 'k1';
            INSERT INTO t(id, a, b, c) VALUES ('k2', 'a', 'b', 'c');
            ROLLBACK;
            """)
        #expect(try replica.pendingCaptureCount() == 0)
        #expect(try replica.export(after: .start).rows.isEmpty)

        // A savepoint rolled back inside a committed transaction: only the rest is captured.
        try SQLiteShell.run(replica.path, """
            BEGIN;
            INSERT INTO t(id, a, b, c) VALUES ('kept', 'a', 'b', 'c');
            SAVEPOINT s;
            INSERT INTO t(id, a, b, c) VALUES ('dropped', 'a', 'b', 'c');
            UPDATE t SET a = 'changed' WHERE id = 'kept';
            ROLLBACK TO s;
            RELEASE s;
            COMMIT;
            """)
        #expect(try replica.pendingCaptureCount() == 1)
        let batch = try replica.export(after: .start)
        #expect(batch.rows.map(\.key) == ["kept"])
        #expect(batch.rows.first.map(values) == [.text("a"), .text("b"), .text("c")])

        // A statement that fails ends the shell (-bail) with its transaction open: it never commits.
        #expect(throws: SQLiteShell.Failure.self) {
            try SQLiteShell.run(replica.path, """
                BEGIN;
                INSERT INTO t(id, a, b, c) VALUES ('k3', 'a', 'b', 'c');
                INSERT INTO t(id, a, b, c) VALUES ('kept', 'duplicate', 'key', 'fails');
                COMMIT;
                """)
        }
        #expect(try replica.pendingCaptureCount() == 0)
        #expect(try replica.rows(of: "t").keys.sorted() == ["kept"])
    }

    @Test func aShellKilledInTheMiddleOfATransactionLeavesNoTrace() throws {
        let folder = TemporaryFolder("capture")
        let replica = try makeReplica(folder)
        defer { try? replica.close() }

        let shell = try ShellSession(path: replica.path)
        shell.send("BEGIN;")
        shell.send("INSERT INTO t(id, a, b, c) VALUES ('k1', 'a', 'b', 'c');")
        shell.send("INSERT INTO t(id, a, b, c) SELECT 'bulk-' || value, 'a', 'b', 'c' FROM generate_series(1, 500);")
        let holding = try waitForWriteLock(on: replica.path)
        #expect(try replica.pendingCaptureCount() == 0) // not committed: invisible to other connections
        shell.kill()
        try #require(holding, "the shell never began writing")

        #expect(try replica.pendingCaptureCount() == 0)
        #expect(try replica.export(after: .start).rows.isEmpty)
        #expect(try replica.rows(of: "t").isEmpty)
        // The file is not stuck: the next program's write is captured as usual.
        try SQLiteShell.run(replica.path, "INSERT INTO t(id, a, b, c) VALUES ('k2', 'a', 'b', 'c')")
        #expect(try replica.export(after: .start).rows.map(\.key) == ["k2"])
    }
}
