public import BegawiCore

/// Chooses, inside an export's read transaction, which rows the receiving replica may have, and adds rows it
/// must receive whole or remove (the hub's view for one site).
public protocol ExportView {
    /// The last sequence number this page may cover, or nil for no bound (keeps extras per page bounded).
    func bound(afterSeq: UInt64, maxRows: Int, context: ReplicaContext) throws -> UInt64?
    /// Whether the receiving replica may have this row.
    func includes(table: String, key: String, context: ReplicaContext) throws -> Bool
    /// The same choice as `includes`, as an SQL condition on `name` (the row's table name) and `key`
    /// (`?` parameters bound to `arguments`), so that the export's scan skips excluded rows itself
    /// instead of asking row by row; nil to ask `includes` for each row. `span`: how many changes of
    /// the sequence the scan may cover.
    func condition(name: String, key: String, span: UInt64, context: ReplicaContext) throws -> (sql: String, arguments: [SQLValue])?
    /// Rows to send whole (newly visible) and rows the receiver must remove (no longer visible), for the
    /// part of the sequence the page covers.
    func extras(afterSeq: UInt64, throughSeq: UInt64, context: ReplicaContext) throws -> (whole: [RowKey], evict: [RowKey])
}

extension ExportView {
    /// No condition: the export asks `includes` for each row.
    public func condition(name: String, key: String, span: UInt64, context: ReplicaContext) throws -> (sql: String, arguments: [SQLValue])? { nil }
}
