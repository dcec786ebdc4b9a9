/// One synced table: a TEXT primary key and its other columns.
public struct TableSpec: Codable, Hashable, Sendable {
    /// The table's name in SQLite.
    public var name: String
    /// The primary key column; always TEXT (UUIDv7 or a key derived from a natural identifier).
    public var primaryKey: ColumnSpec
    /// The other columns, in order; their positions index the row's registers.
    public var columns: [ColumnSpec]

    /// The most non-key columns a synced table may have: a row's registers (the deleted flag, its
    /// value, and one per column) are recorded in one 64-bit mask.
    public static let maximumColumns = 62

    /// Makes a table with a TEXT key named `key`.
    public init(name: String, key: String = "id", columns: [ColumnSpec]) {
        self.name = name
        self.primaryKey = ColumnSpec(name: key, type: "TEXT", notNull: true)
        self.columns = columns
    }

    /// Makes a table with an explicit key column (refused by `validate()` unless it is TEXT).
    public init(name: String, primaryKey: ColumnSpec, columns: [ColumnSpec]) {
        self.name = name
        self.primaryKey = primaryKey
        self.columns = columns
    }

    enum CodingKeys: String, CodingKey { case name, key, keyType = "key_type", columns }

    /// Reads `{"name": ..., "key": "id", "key_type": "TEXT", "columns": [...]}`; key defaults to "id", its type to TEXT.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        let key = try c.decodeIfPresent(String.self, forKey: .key) ?? "id"
        let keyType = try c.decodeIfPresent(String.self, forKey: .keyType) ?? "TEXT"
        primaryKey = ColumnSpec(name: key, type: keyType, notNull: true)
        columns = try c.decode([ColumnSpec].self, forKey: .columns)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(primaryKey.name, forKey: .key)
        if primaryKey.type.uppercased() != "TEXT" { try c.encode(primaryKey.type, forKey: .keyType) }
        try c.encode(columns, forKey: .columns)
    }

    /// The position of a non-key column.
    public func position(of column: String) -> Int? { columns.firstIndex { $0.name == column } }

    /// Throws an error naming what cannot be synced.
    public func validate() throws {
        guard Identifier.isValid(name), !name.lowercased().hasPrefix("_begawi"), !name.lowercased().hasPrefix("sqlite_") else {
            throw BegawiError(.invalidSchema, "table name '\(name)' is not allowed: use letters, digits and '_', starting with a letter, and not the prefixes '_begawi' or 'sqlite_'")
        }
        guard primaryKey.type.uppercased() == "TEXT" else {
            throw BegawiError(.invalidSchema, "table '\(name)': primary key '\(primaryKey.name)' is \(primaryKey.type), but a synced table needs a TEXT primary key (a UUIDv7 or a key derived from a natural identifier); integer keys collide when two offline sites number rows")
        }
        guard !columns.isEmpty, columns.count <= TableSpec.maximumColumns else {
            throw BegawiError(.invalidSchema, "table '\(name)' has \(columns.count) non-key columns; a synced table needs between 1 and \(TableSpec.maximumColumns)")
        }
        var seen: Set<String> = []
        for (index, column) in ([primaryKey] + columns).enumerated() {
            guard Identifier.isValid(column.name) else {
                throw BegawiError(.invalidSchema, "table '\(name)': column name '\(column.name)' is not allowed: use letters, digits and '_', starting with a letter")
            }
            guard ColumnSpec.allowedTypes.contains(column.type.uppercased()) else {
                throw BegawiError(.invalidSchema, "table '\(name)': column '\(column.name)' has type '\(column.type)'; use one of \(ColumnSpec.allowedTypes.sorted().joined(separator: ", "))")
            }
            if let limit = column.maxBytes, !(1...ColumnSpec.largestByteLimit).contains(limit) {
                throw BegawiError(.invalidSchema, "table '\(name)': column '\(column.name)' has max_bytes \(limit); use 1 to \(ColumnSpec.largestByteLimit)")
            }
            if let problem = column.defaultProblem {
                throw BegawiError(.invalidSchema, "table '\(name)': column '\(column.name)': \(problem)")
            }
            guard seen.insert(column.name.lowercased()).inserted else {
                throw BegawiError(.invalidSchema, "table '\(name)': column '\(column.name)' is declared twice" + (index > 0 && column.name.lowercased() == primaryKey.name.lowercased() ? " (it is the primary key)" : ""))
            }
        }
    }
}
