@testable import BegawiSite
import BegawiReplica
import BegawiTestSupport
import Foundation
import Testing

/// The idle daemon's watch for local writes: a commit by a staff application (another process,
/// its connection left open) wakes it at once, and without inotify the look every
/// `watch_interval_ms` still finds it.
@Suite struct ReplicaWatcherTests {
    /// A sqlite3 shell kept open on the replica, as a staff application keeps its connection.
    // @unchecked: its process and pipe are set in init and only used after; writes to a pipe are atomic.
    final class Shell: @unchecked Sendable {
        let process = Process()
        let input = Pipe()

        init(_ path: String) throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
            process.arguments = [path]
            process.standardInput = input
            process.standardOutput = FileHandle.nullDevice
            try process.run()
        }

        func run(_ sql: String) { input.fileHandleForWriting.write(Data((sql + "\n").utf8)) }

        func close() {
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
        }
    }

    /// Waits for a write that the shell makes `after` seconds from now; returns whether one was
    /// found and the seconds the watch took.
    func watch(inotify: Bool, pollMilliseconds: UInt64) async throws -> (Bool, Double, watching: Bool) {
        let folder = TemporaryFolder("begawi-watch")
        let path = folder.file("r.sqlite")
        try Replica.create(at: path, siteID: "lpk-a", schema: SiteValueCheckTests.schema).close()
        let replica = try Replica.open(at: path)
        defer { try? replica.close() }
        let shell = try Shell(path)
        defer { shell.close() }
        // The fallback look (a minute) cannot explain a find within seconds.
        let watcher = ReplicaWatcher(path: path, inotify: inotify, fallbackMilliseconds: 60_000, pollMilliseconds: pollMilliseconds)
        let writer = Task {
            try await Task.sleep(for: .milliseconds(700))
            shell.run("INSERT INTO programs(id, title) VALUES ('watch-1', 'Welding');")
        }
        let started = ContinuousClock.now
        let found = try await watcher.waitForWrite(pending: { ((try? replica.pendingCaptureCount()) ?? 0) > 0 }, onLook: { false })
        try await writer.value
        return (found, (ContinuousClock.now - started) / .seconds(1), watcher.isWatching)
    }

    @Test func aCommitByAnotherProcessWakesTheWatchAtOnce() async throws {
        let (found, seconds, watching) = try await watch(inotify: true, pollMilliseconds: 250)
        #expect(watching, "inotify is available on Linux")
        #expect(found)
        #expect(seconds < 5, "the write was found after \(seconds) s: by the fallback look, not by inotify")
    }

    @Test func withoutInotifyTheLookEveryIntervalFindsTheWrite() async throws {
        let (found, seconds, watching) = try await watch(inotify: false, pollMilliseconds: 100)
        #expect(!watching)
        #expect(found)
        #expect(seconds < 5, "the write was found after \(seconds) s")
    }

    @Test func aLookThatAsksToStopEndsTheWatch() async throws {
        let folder = TemporaryFolder("begawi-watch")
        let path = folder.file("r.sqlite")
        try Replica.create(at: path, siteID: "lpk-a", schema: SiteValueCheckTests.schema).close()
        let watcher = ReplicaWatcher(path: path, fallbackMilliseconds: 60_000, pollMilliseconds: 50)
        let found = try await watcher.waitForWrite(pending: { Issue.record("asked the outbox after the stop"); return true }, onLook: { true })
        #expect(!found)
    }
}
