public import Logging

extension HubDaemon {
    /// Says what the open did to bring the database and the erasure log into agreement: counts and
    /// line numbers only, never a key.
    public static func logErasures(_ done: ErasureReconciliation, logger: Logger) {
        if !done.skippedLines.isEmpty {
            logger.warning("the erasure log has torn or damaged lines, skipped (the database's erasures are logged again)",
                           metadata: ["lines": "\(done.skippedLines.map(String.init).joined(separator: ","))"])
        }
        if done.recreated {
            logger.warning("the erasure log was missing; written anew from the database's erasures", metadata: ["erasures": "\(done.appended)"])
        } else if done.appended > 0 {
            logger.notice("erasures the log lacked were appended from the database", metadata: ["erasures": "\(done.appended)"])
        }
        if done.reapplied > 0 {
            logger.notice("the database lacked erasures of the erasure log (restored from a backup?); erased again before serving",
                          metadata: ["erasures": "\(done.reapplied)"])
        }
    }
}
