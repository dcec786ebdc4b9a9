@testable import BegawiHub
import Testing

/// The wake-up of held pulls: never lost, bounded, released at shutdown.
@Suite struct FeedNotifierTests {
    /// Waits (politely) until `n` pulls are parked.
    func parked(_ feed: FeedNotifier, _ n: Int) async throws {
        for _ in 0..<2000 where feed.held < n { try await Task.sleep(for: .milliseconds(5)) }
        try #require(feed.held == n)
    }

    /// A notifier with one pull parked (an hour's wait) at the generation `seen`.
    func onePulled(limit: Int = 10) async throws -> (feed: FeedNotifier, seen: UInt64, waiter: Task<FeedNotifier.Wake, Never>) {
        let feed = FeedNotifier()
        let seen = feed.generation
        let waiter = Task { await feed.wait(past: seen, timeout: .seconds(3600), limit: limit) }
        try await parked(feed, 1)
        return (feed, seen, waiter)
    }

    /// The race a held pull must survive: the generation is read, the feed looked at (empty), a push
    /// commits, and only then does the pull start to wait. It must see that commit.
    @Test func aCommitBetweenTheLookAndTheWaitIsNotMissed() async {
        let feed = FeedNotifier()
        let seen = feed.generation
        feed.committed()
        let wake = await feed.wait(past: seen, timeout: .seconds(3600), limit: 10)
        #expect(wake == .committed)
        #expect(feed.held == 0)
    }

    @Test func aCommitWakesEveryParkedPull() async throws {
        let feed = FeedNotifier()
        let seen = feed.generation
        let waiters = (0..<3).map { _ in Task { await feed.wait(past: seen, timeout: .seconds(3600), limit: 10) } }
        try await parked(feed, 3)
        feed.committed()
        for waiter in waiters { #expect(await waiter.value == .committed) }
        #expect(feed.held == 0)
    }

    @Test func withoutACommitTheWaitEnds() async {
        let feed = FeedNotifier()
        let wake = await feed.wait(past: feed.generation, timeout: .milliseconds(50), limit: 10)
        #expect(wake == .timedOut)
        #expect(feed.held == 0)
    }

    @Test func closingReleasesHeldPullsAndRefusesToHoldMore() async throws {
        let (feed, seen, waiter) = try await onePulled()
        feed.close()
        #expect(await waiter.value == .closed)
        #expect(await feed.wait(past: seen, timeout: .seconds(3600), limit: 10) == .closed)
        #expect(feed.held == 0)
    }

    @Test func pastTheLimitAPullIsAnsweredAtOnce() async throws {
        let (feed, seen, waiter) = try await onePulled(limit: 1)
        #expect(await feed.wait(past: seen, timeout: .seconds(3600), limit: 1) == .full)
        feed.committed()
        #expect(await waiter.value == .committed)
    }

    /// A client that goes away cancels its request's task: the parked pull leaves at once.
    @Test func aCancelledPullLeaves() async throws {
        let (feed, _, waiter) = try await onePulled()
        waiter.cancel()
        #expect(await waiter.value == .closed)
        #expect(feed.held == 0)
    }
}
