/// One ancestor of a replica made by `Replica.backup`: the backup shares that replica's change
/// feed up to and including `throughSeq`. A hub's lineage is what the docs call its epochs.
public struct LineageLink: Sendable, Codable, Equatable {
    /// The ancestor's replica id (an earlier epoch of the hub).
    public var replicaID: String
    /// The last change sequence number the backup shares with it.
    public var throughSeq: UInt64

    /// Makes a link.
    public init(replicaID: String, throughSeq: UInt64) {
        self.replicaID = replicaID
        self.throughSeq = throughSeq
    }

    // The lineage travels in the session answer and is stored in the replica file under these keys.
    enum CodingKeys: String, CodingKey {
        case replicaID = "epoch"
        case throughSeq = "through"
    }
}
