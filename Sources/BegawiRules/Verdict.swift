public import BegawiCore

/// What the hub does with one incoming row change.
public enum Verdict: Sendable, Equatable {
    /// Merge it.
    case accept
    /// Leave the hub's row as it is; the site is told why.
    case refuse(reason: RefusalReason, message: String)
    /// A second registration of a row the hub has (same derived key): the hub's row stays, and the
    /// fields on which the registrations differ go to the conflict ledger.
    case alreadyRegistered
    /// Merge the change without some of its columns: those in `keep` keep the hub's values; in a row
    /// new to the hub, those in `set` take the value given, as the row's insert had to hold it. The
    /// site is told why.
    case acceptPart(keep: Set<String>, set: [String: SQLValue], reason: RefusalReason, message: String)
}
