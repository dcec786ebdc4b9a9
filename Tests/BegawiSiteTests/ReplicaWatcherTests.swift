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

    /// Within this many seconds a watch must find the write; its fallback look (ten minutes)
    /// cannot explain a find before that, and a loaded test machine (seconds) stays well within.
    static let limit = 60

    /// Waits for a write that the shell makes 0.7 s from now; returns whether one was found before
    /// `limit` and whether inotify watched.
    func watch(inotify: Bool, pollMilliseconds: UInt64) async throws -> (found: Bool, watching: Bool) {
        let folder = TemporaryFolder("begawi-watch")
        let path = folder.file("r.sqlite")
        try Replica.create(at: path, siteID: "lpk-a", schema: SiteValueCheckTests.schema).close()
        let shell = try Shell(path)
        defer { shell.close() }
        let writer = Task {
            try await Task.sleep(for: .milliseconds(700))
            shell.run("INSERT INTO programs(id, title) VALUES ('watch-1', 'Welding');")
        }
        let outcome = try await withThrowingTaskGroup(of: (Bool, Bool)?.self) { group in
            group.addTask {
                let replica = try Replica.open(at: path)
                defer { try? replica.close() }
                let watcher = ReplicaWatcher(path: path, inotify: inotify, fallbackMilliseconds: 600_000, pollMilliseconds: pollMilliseconds)
                let found = try await watcher.waitForWrite(pending: { ((try? replica.pendingCaptureCount()) ?? 0) > 0 }, onLook: { false })
                return (found, watcher.isWatching)
            }
            group.addTask {
                try await Task.sleep(for: .seconds(Self.limit))
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
        try await writer.value
        return outcome.map { (found: $0.0, watching: $0.1) } ?? (found: false, watching: inotify)
    }

    @Test func aCommitByAnotherProcessWakesTheWatchAtOnce() async throws {
        let (found, watching) = try await watch(inotify: true, pollMilliseconds: 250)
        #expect(watching, "inotify is available on Linux")
        #expect(found, "the write was not found within \(Self.limit) s: inotify did not wake the watch")
    }

    @Test func withoutInotifyTheLookEveryIntervalFindsTheWrite() async throws {
        let (found, watching) = try await watch(inotify: false, pollMilliseconds: 100)
        #expect(!watching)
        #expect(found, "the write was not found within \(Self.limit) s by the look every 100 ms")
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
