/// What the replica's owner writes in an apply's own transaction, so that its records commit with
/// the merge or not at all (the hub: the claim of the sender's replica, and the sender's health).
public struct ApplyCompanion {
    /// Runs first in the transaction, before any row merges; throwing refuses the batch whole.
    public var before: (ReplicaContext) throws -> Void
    /// Runs last, with the apply's result, before the commit.
    public var after: (ReplicaContext, ApplyResult) throws -> Void

    /// Makes a companion from its two steps.
    public init(before: @escaping (ReplicaContext) throws -> Void = { _ in },
                after: @escaping (ReplicaContext, ApplyResult) throws -> Void = { _, _ in }) {
        self.before = before
        self.after = after
    }
}
