/// One ancestor of a replica made by `Replica.backup`: the backup shares that replica's change
/// feed up to and including `through`.
public struct EpochLink: Sendable, Codable, Equatable {
    /// The ancestor's replica id (its epoch).
    public var epoch: String
    /// The last change sequence the backup shares with it.
    public var through: UInt64

    /// Makes a link.
    public init(epoch: String, through: UInt64) {
        self.epoch = epoch
        self.through = through
    }
}
