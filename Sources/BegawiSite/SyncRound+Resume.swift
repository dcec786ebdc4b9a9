import BegawiCore

extension SyncRound {
    /// After a connection lost during a push that followed an acknowledged one: the link worked a
    /// moment ago, so the round reconnects at once instead of failing into the daemon's backoff and
    /// a new round. A reset often comes with a short window in which connecting is refused: it
    /// tries again at short steps for a few seconds, then gives up with the push's own error.
    /// The hub's cursor comes from a new session: the batch in flight may have been committed
    /// before its answer was lost, and what the hub acknowledged is never sent again; the session
    /// also repeats what that batch's push refused (`HubSession.unsettled`).
    func resumePush(after lost: BegawiError, hubReplicaID: String) async throws -> HubSession {
        logger.warning("connection lost during a push; resuming", metadata: ["error": "\(lost)"])
        // The site's clock is reported only when the round opens: a later time here would be read as skew.
        let headers = sessionHeaders.filter { $0.0 != WireHeader.siteTime }
        let lostAt = ContinuousClock.now
        for wait in SyncRound.resumeSteps {
            if wait > 0 { try await pause(wait) }
            // A link that is down rather than reset (each attempt waits for the connect timeout) is the backoff's.
            guard ContinuousClock.now - lostAt < .seconds(8) else { break }
            let session: HubSession
            do {
                session = try await client.session(extraHeaders: headers).0
            } catch let error as BegawiError where error.code == .network {
                continue
            }
            guard session.hubReplicaID == hubReplicaID else {
                throw BegawiError(.network, "the hub's epoch changed during the round; starting a new round")
            }
            return session
        }
        throw lost
    }

    /// The waits before each attempt to resume, in ms: at once, then through a window of a few
    /// seconds in which a link just reset may refuse connections (a refusal costs one round trip).
    static let resumeSteps: [UInt64] = [0, 250, 250, 250, 250, 500, 500, 1000]
}
