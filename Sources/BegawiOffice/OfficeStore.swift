public import BegawiHub
public import BegawiCore

/// What the office's dashboard and report read from the hub's store, and the one write they make:
/// re-applying a conflict's losing value. Both hub stores implement it (SQLite in this target,
/// PostgreSQL in BegawiPostgres).
public protocol OfficeStore: Sendable {
    /// Enrollments by partner × program × status (`begawi hub report`, the dashboard).
    func enrollmentReport(_ filter: ReportFilter) throws -> EnrollmentReport
    /// The conflict ledger, newest first (at most `limit` entries), with what the office did about each.
    func conflictReviews(limit: Int) throws -> [ConflictReview]
    /// Writes a conflict's losing value back as the hub's change; `by` names the office's site.
    func reapply(conflict id: Int64, by: String) throws -> ConflictLedgerEntry
    /// The sites past the purge horizon at `now` (silent longer than the retention, or behind it).
    func expiredSites(now: UInt64, retention: HubRetention) throws -> [String]
    /// Where the dashboard keeps its sessions: in the process unless the store keeps them in its
    /// database (several hub processes on one database must all serve a signed-in office).
    func officeSessions() throws -> any OfficeSessionStore
}

extension OfficeStore {
    /// In the process: sessions end when the hub restarts.
    public func officeSessions() throws -> any OfficeSessionStore { OfficeSessions() }
}
