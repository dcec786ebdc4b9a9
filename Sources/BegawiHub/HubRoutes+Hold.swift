import BegawiCore
import BegawiReplica
import NIOCore
import ServiceLifecycle

extension HubRoutes {
    /// The seconds a pull asks to be held at the head of the feed (`wait`): absent is 0, never held.
    static func waitSeconds(_ text: String?) throws -> Int {
        guard let text else { return 0 }
        guard let seconds = Int(text), (0...HubConfiguration.longestWaitSeconds).contains(seconds) else {
            throw HubRefusal(.badRequest, .badRequest, "wait must be a whole number of seconds from 0 to \(HubConfiguration.longestWaitSeconds) (the hub holds a pull at most max_wait_seconds of hub.toml)")
        }
        return seconds
    }

    /// A page from `pull`; when it is empty and the site is at the head, the pull is held until a
    /// commit gives it something to see, the wait ends (an empty page, as without a wait), or the
    /// hub shuts down. Nothing is held while waiting but a parked continuation: no lane, no transaction.
    func held(for wait: Duration, limit: Int, peerLeft: EventLoopFuture<Void>,
              _ pull: () async throws -> (batch: ChangeBatch, bytes: [UInt8])) async throws -> (batch: ChangeBatch, bytes: [UInt8]) {
        let feed = store.feed
        let deadline = ContinuousClock.now + wait
        while true {
            // Read before the look at the feed: a commit after this is seen by the wait, never lost.
            let seen = feed.generation
            let answer = try await pull()
            let remaining = deadline - ContinuousClock.now
            guard answer.batch.rows.isEmpty, answer.batch.complete, remaining > .zero, !feed.closed else { return answer }
            // A client that left (a site that gave up its pull for a push) ends the wait at once.
            let waiting = Task { await feed.wait(past: seen, timeout: remaining, limit: limit) }
            peerLeft.whenComplete { _ in waiting.cancel() }
            let wake = await withGracefulShutdownHandler {
                await withTaskCancellationHandler { await waiting.value } onCancel: { waiting.cancel() }
            } onGracefulShutdown: {
                feed.close()
            }
            // A commit may hold nothing this site sees: look again and wait out the rest.
            guard wake == .committed else { return answer }
        }
    }
}
