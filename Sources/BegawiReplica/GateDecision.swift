public import BegawiCore

/// What a gate decides for one incoming row.
public enum GateDecision: Sendable, Equatable {
    /// Merge the row.
    case merge
    /// Leave the stored row as it is.
    case refuse(reason: RefusalReason, message: String)
    /// Leave the stored row as it is, and put the incoming values that differ from it in the
    /// conflict ledger as losers.
    case refuseKeepingConflicts(reason: RefusalReason, message: String)
    /// Decide after the rest of the batch has merged (the row references one that comes later).
    case later
    /// Merge this incoming state instead (the incoming one with some registers left out or replaced),
    /// and tell the sender why. The gate is asked once more about the row as it would then merge;
    /// when nothing of the row would change, the row is refused whole.
    case mergeAdjusted(RowState, reason: RefusalReason, message: String)
}
