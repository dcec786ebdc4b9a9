/// A bounded set of row changes exported by one replica for another.
///
/// A batch covers the exporter's change sequence from `afterSeq` to `throughSeq`. Each row is sent with every
/// register changed since `baseSeq`, so a receiver that holds everything up to `baseSeq` ends with the row
/// complete, and its version vector never claims a write it does not hold.
public struct ChangeBatch: Hashable, Sendable {
    /// The id of the replica that exported the batch.
    public var replicaID: String
    /// Registers changed after this sequence number are included.
    public var baseSeq: UInt64
    /// Rows whose last change is after this sequence number...
    public var afterSeq: UInt64
    /// ...and at most this one are included.
    public var throughSeq: UInt64
    /// Whether the batch reaches the exporter's newest change.
    public var complete: Bool
    /// The tables the rows refer to.
    public var tables: [BatchTable]
    /// The rows, in the exporter's change order.
    public var rows: [RowChange]
    /// Rows the receiver must remove from its replica without deleting them anywhere else: the
    /// exporter no longer lets it see them. Applied after `rows`.
    public var evictions: [RowEviction]

    /// Makes a batch.
    public init(replicaID: String, baseSeq: UInt64, afterSeq: UInt64, throughSeq: UInt64, complete: Bool, tables: [BatchTable], rows: [RowChange],
                evictions: [RowEviction] = []) {
        self.replicaID = replicaID
        self.baseSeq = baseSeq
        self.afterSeq = afterSeq
        self.throughSeq = throughSeq
        self.complete = complete
        self.tables = tables
        self.rows = rows
        self.evictions = evictions
    }

    /// The cursor a receiver holds after applying this batch in order.
    public var cursorAfter: ExchangeCursor {
        ExchangeCursor(baseSeq: complete ? throughSeq : baseSeq, seq: throughSeq)
    }
}
