import BegawiHub
import Foundation
import PostgresNIO

/// Wakes this process's held pulls when another hub process publishes to the feed: a session of
/// its own that `LISTEN`s on `begawi_feed`, which every publish that gives positions `NOTIFY`s at
/// its commit. Without it, a pull held by one process would wait for its timeout while another
/// process took the change.
///
/// A listening session the server ended is opened again at the next `ensure()` (each site session
/// calls it); meanwhile held pulls end at their timeout, as with a hub that does not hold pulls:
/// later, never lost.
///
/// `@unchecked Sendable`: `link` and `context` are read and replaced under `lock`.
final class PostgresFeedListener: @unchecked Sendable {
    static let channel = "begawi_feed"

    private let settings: PostgresSettings
    private let feed: FeedNotifier
    private let lock = NSLock()
    private var link: PostgresLink?
    private var context: PostgresListenContext?

    /// Starts listening.
    init(settings: PostgresSettings, feed: FeedNotifier) throws {
        self.settings = settings
        self.feed = feed
        try ensure()
    }

    /// Listens again if the session ended; a failure is the caller's to report or ignore.
    func ensure() throws {
        try lock.withLock {
            if let link, !link.isClosed { return }
            context?.stop()
            let opened = try PostgresLink.connect(settings)
            let feed = self.feed
            let listening = opened.connection.addListener(channel: PostgresFeedListener.channel) { _, _ in feed.committed() }
            do {
                try opened.query("LISTEN begawi_feed")
            } catch {
                listening.stop()
                opened.close()
                throw error
            }
            (link, context) = (opened, listening)
        }
    }

    /// Stops listening and ends the session.
    func close() {
        lock.withLock {
            context?.stop()
            link?.close()
            (link, context) = (nil, nil)
        }
    }
}
