public import BegawiCore

/// Chooses, inside an export's read transaction, which rows the receiving replica may have, and adds rows it
/// must receive whole or remove (the hub's view for one site).
public protocol ExportView {
    /// The last sequence number this page may cover, or nil for no bound (keeps extras per page bounded).
    func bound(afterSeq: UInt64, maxRows: Int, context: ReplicaContext) throws -> UInt64?
    /// Whether the receiving replica may have this row.
    func includes(table: String, key: String, context: ReplicaContext) throws -> Bool
    /// The same choice as `includes`, as statements that each read `seq, tbl, key` (`tbl`: the table's
    /// id in `_begawi_tables`) of the rows the receiver may have in change order, after `afterSeq`
    /// through `throughSeq`, from an index (`?` parameters bound to `arguments`): the export merges
    /// them by `seq` and reads nothing else of the sequence.
    func feed(afterSeq: UInt64, throughSeq: UInt64, context: ReplicaContext) throws -> [(sql: String, arguments: [SQLValue])]
    /// Rows to send whole (newly visible) and rows the receiver must remove (no longer visible), for the
    /// part of the sequence the page covers.
    func extras(afterSeq: UInt64, throughSeq: UInt64, context: ReplicaContext) throws -> (whole: [RowKey], evict: [RowKey])
}
