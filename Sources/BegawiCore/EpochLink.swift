/// One ancestor of a replica made by `Replica.backup`: the backup shares that replica's change
/// feed up to and including `throughSeq`.
public struct EpochLink: Sendable, Codable, Equatable {
    /// The ancestor's replica id (its epoch).
    public var epoch: String
    /// The last change sequence the backup shares with it.
    public var throughSeq: UInt64

    /// Makes a link.
    public init(epoch: String, throughSeq: UInt64) {
        self.epoch = epoch
        self.throughSeq = throughSeq
    }

    // The lineage travels in the session answer and is stored in the replica file under these keys.
    enum CodingKeys: String, CodingKey {
        case epoch
        case throughSeq = "through"
    }
}
