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
/// On the same session it listens on `begawi_auth` too: the addresses another process refused for
/// too many wrong credentials (`PostgresAuthFailures`), kept in `refused`.
///
/// `@unchecked Sendable`: `link` and `contexts` are read and replaced under `lock`.
final class PostgresFeedListener: @unchecked Sendable {
    static let channel = "begawi_feed"

    private let settings: PostgresSettings
    private let feed: FeedNotifier
    /// The addresses other processes said they refused.
    let refused = RefusedAddresses()
    private let lock = NSLock()
    private var link: PostgresLink?
    private var contexts: [PostgresListenContext] = []

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
            contexts.forEach { $0.stop() }
            let opened = try PostgresLink.connect(settings)
            let (feed, refused) = (self.feed, self.refused)
            let listening = [
                opened.connection.addListener(channel: PostgresFeedListener.channel) { _, _ in feed.committed() },
                opened.connection.addListener(channel: PostgresAuthFailures.channel) { _, note in refused.note(note.payload) },
            ]
            do {
                try opened.query("LISTEN begawi_feed")
                try opened.query("LISTEN begawi_auth")
            } catch {
                listening.forEach { $0.stop() }
                opened.close()
                throw error
            }
            (link, contexts) = (opened, listening)
        }
    }

    /// Stops listening and ends the session.
    func close() {
        lock.withLock {
            contexts.forEach { $0.stop() }
            link?.close()
            (link, contexts) = (nil, [])
        }
    }
}
