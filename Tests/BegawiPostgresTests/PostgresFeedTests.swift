import BegawiCore
@testable import BegawiPostgres
import BegawiTestSupport
import Foundation
import PostgresNIO
import Testing

/// The fenced feed on a real server: writers on their own sessions commit late and at random,
/// a fenced reader takes every change exactly once, and a naive reader under the same load skips
/// some (the canary: it shows the load can make a reader skip, so the test can fail).
@Suite(.blocking, .enabled(if: TestPostgres.available, TestPostgres.skipped))
struct PostgresFeedTests {
    let feed = PostgresFeed()
    static let writers = 4
    static let changesPerWriter = 8

    private struct Abort: Error {}

    @Test func aFencedReaderTakesEveryChangeOnceWhereANaiveOneSkips() throws {
        // BEGAWI_FEED_SEED=N replays a run's delays and aborts.
        let seed = ProcessInfo.processInfo.environment["BEGAWI_FEED_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 0...UInt64.max)
        try TestPostgres.withDatabase { settings in
            let setup = try PostgresLink.connect(settings)
            defer { setup.close() }
            try feed.install(on: setup)
            let run = FeedRun()
            var jobs: [@Sendable () -> Void] = (0..<Self.writers).map { writer in
                { [feed] in Self.write(writer: writer, seed: seed, settings: settings, feed: feed, run: run) }
            }
            jobs.append { [feed] in Self.readFenced(settings: settings, feed: feed, run: run) }
            jobs.append { Self.readNaively(settings: settings, run: run) }
            concurrently(jobs)

            let failures = run.failures.with { $0 }
            #expect(failures.isEmpty, "seed \(seed): \(failures)")
            let committed = run.committed.with { $0 }
            let fenced = run.fenced.with { $0 }
            #expect(committed.count > Self.writers, "seed \(seed): too few commits to tell anything")
            #expect(fenced.count == Set(fenced.map(\.id)).count, "seed \(seed): a change delivered twice")
            #expect(Set(fenced.map(\.id)) == committed, "seed \(seed): delivered \(fenced.count) of \(committed.count)")
            #expect(zip(fenced, fenced.dropFirst()).allSatisfy { $0.position < $1.position }, "seed \(seed)")
            let naive = run.naive.with { $0 }
            #expect(naive.isSubset(of: committed))
            #expect(naive.count < committed.count,
                    "seed \(seed): the naive reader skipped nothing, so this load cannot show that the fenced one does not skip")
        }
    }

    /// Commits changes with a random delay (0–2 s) between recording and commit, aborting one in six.
    private static func write(writer: Int, seed: UInt64, settings: PostgresSettings, feed: PostgresFeed, run: FeedRun) {
        defer { run.writing.with { $0 -= 1 } }
        var random = SplitMix64(seed: seed &+ UInt64(writer))
        do {
            let link = try PostgresLink.connect(settings)
            defer { link.close() }
            for change in 0..<changesPerWriter {
                let delay = Double(random.next() % 2_001) / 1_000
                let abort = random.next() % 6 == 0
                do {
                    let id = try link.transaction { link in
                        let id = try feed.record(Array("w\(writer)-\(change)".utf8), on: link)
                        try link.query("SELECT pg_sleep(\(delay))")
                        if abort { throw Abort() }
                        return id
                    }
                    run.committed.with { _ = $0.insert(id) }
                } catch is Abort {}
            }
        } catch {
            run.failures.with { $0.append("writer \(writer): \(error)") }
        }
    }

    /// Polls the feed in small pages until it holds every committed change (or 20 s after the last commit).
    private static func readFenced(settings: PostgresSettings, feed: PostgresFeed, run: FeedRun) {
        do {
            let link = try PostgresLink.connect(settings)
            defer { link.close() }
            var cursor: UInt64 = 0
            var deadline: Date?
            while true {
                let finished = run.writing.with { $0 == 0 }
                let page = try feed.next(after: cursor, limit: 5, on: link)
                run.fenced.with { $0 += page }
                cursor = page.last?.position ?? cursor
                guard page.isEmpty else { continue }
                if finished {
                    // Another test's transaction elsewhere on the server may hold the fence a moment.
                    if run.fenced.with({ $0.count }) >= run.committed.with({ $0.count }) { return }
                    deadline = deadline ?? Date().addingTimeInterval(20)
                    if let deadline, Date() > deadline { return }
                }
                Thread.sleep(forTimeInterval: 0.02)
            }
        } catch {
            run.failures.with { $0.append("fenced reader: \(error)") }
        }
    }

    /// Polls by the writers' own numbers (`id > cursor`), as a feed on a plain sequence would.
    private static func readNaively(settings: PostgresSettings, run: FeedRun) {
        do {
            let link = try PostgresLink.connect(settings)
            defer { link.close() }
            var cursor: Int64 = 0
            while true {
                let finished = run.writing.with { $0 == 0 }
                let ids = try link.query("SELECT id FROM _begawi_changes WHERE id > \(cursor) ORDER BY id LIMIT 5")
                    .map { try $0.decode(Int64.self) }
                run.naive.with { $0.formUnion(ids) }
                cursor = ids.last ?? cursor
                if ids.isEmpty {
                    if finished { return }
                    Thread.sleep(forTimeInterval: 0.01)
                }
            }
        } catch {
            run.failures.with { $0.append("naive reader: \(error)") }
        }
    }

    @Test func theLagCountsWhatAnOpenTransactionHoldsBack() throws {
        try TestPostgres.withDatabase { settings in
            let (early, late, reader) = try (PostgresLink.connect(settings), PostgresLink.connect(settings), PostgresLink.connect(settings))
            defer { [early, late, reader].forEach { $0.close() } }
            try feed.install(on: reader)
            #expect(try feed.lag(on: reader) == FenceLag(changes: 0, seconds: 0))
            try early.query("BEGIN")
            try feed.record([1], on: early)
            try late.transaction { try feed.record([2], on: $0) }

            // The late change is committed, but below the early transaction's id nothing is final.
            #expect(try feed.publish(on: reader) == 0)
            #expect(try feed.read(after: 0, limit: 10, on: reader).isEmpty)
            let lag = try feed.lag(on: reader)
            #expect(lag.changes == 1)
            #expect(lag.seconds > 0)

            try early.query("COMMIT")
            var published = 0
            let deadline = Date().addingTimeInterval(10)
            while published < 2, Date() < deadline {
                published += try feed.publish(on: reader)
                if published < 2 { Thread.sleep(forTimeInterval: 0.05) }
            }
            #expect(published == 2)
            #expect(try feed.lag(on: reader) == FenceLag(changes: 0, seconds: 0))
            // In transaction order: the early change first, though it committed last.
            #expect(try feed.read(after: 0, limit: 10, on: reader).map(\.body) == [[1], [2]])
            #expect(try feed.read(after: 1, limit: 10, on: reader).map(\.body) == [[2]])
        }
    }

    @Test func severalProcessesMayInstallAtOnce() throws {
        try TestPostgres.withDatabase { settings in
            let failures = Shared<[String]>([])
            concurrently((0..<3).map { _ in
                { [feed] in
                    do {
                        let link = try PostgresLink.connect(settings)
                        defer { link.close() }
                        try feed.install(on: link)
                    } catch {
                        failures.with { $0.append("\(error)") }
                    }
                }
            })
            #expect(failures.with { $0 }.isEmpty)
        }
    }
}

/// What the writers and readers of one feed test share.
private final class FeedRun: Sendable {
    let writing = Shared(PostgresFeedTests.writers)
    let committed = Shared<Set<Int64>>([])
    let fenced = Shared<[FeedChange]>([])
    let naive = Shared<Set<Int64>>([])
    let failures = Shared<[String]>([])
}
