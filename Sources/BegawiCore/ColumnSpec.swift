/// One column of a synced table.
public struct ColumnSpec: Codable, Hashable, Sendable {
    /// The column's name.
    public var name: String
    /// Its SQLite type: TEXT, INTEGER, REAL, BLOB or NUMERIC.
    public var type: String
    /// Whether NULL is refused. Every write that sets the column comes from a site with the same
    /// declaration, and a row without a write of it holds its default, so a merge never makes a NULL;
    /// a batch that would is refused whole.
    public var notNull: Bool
    /// The most bytes a text (UTF-8) or blob value may hold; nil for the default of its type
    /// (`ColumnSpec.byteLimit`).
    public var maxBytes: Int?
    /// Whether a text value may hold several lines (LF, CR LF) and tabs; other control characters
    /// are refused in every column.
    public var multiline: Bool
    /// The value of the column in a row that has none for it (`"default"`): a row a site inserted
    /// without it, or on a version without the column, or a row stored before the column was added.
    /// Nil: NULL. A constant of the column's type (`defaultProblem`).
    public var defaultValue: SQLValue?

    /// Makes a column.
    public init(name: String, type: String = "TEXT", notNull: Bool = false, maxBytes: Int? = nil, multiline: Bool = false,
                defaultValue: SQLValue? = nil) {
        self.name = name
        self.type = type
        self.notNull = notNull
        self.maxBytes = maxBytes
        self.multiline = multiline
        self.defaultValue = defaultValue
    }

    /// The SQLite types a synced column may have.
    public static let allowedTypes: Set<String> = ["TEXT", "INTEGER", "REAL", "BLOB", "NUMERIC"]

    enum CodingKeys: String, CodingKey { case name, type, notNull = "not_null", maxBytes = "max_bytes", multiline, defaultValue = "default" }

    /// Reads `{"name": ..., "type": "TEXT", "not_null": false, "max_bytes": 4096, "multiline": false, "default": ...}`;
    /// type defaults to TEXT, the limit to its type's.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        type = try c.decodeIfPresent(String.self, forKey: .type) ?? "TEXT"
        notNull = try c.decodeIfPresent(Bool.self, forKey: .notNull) ?? false
        maxBytes = try c.decodeIfPresent(Int.self, forKey: .maxBytes)
        multiline = try c.decodeIfPresent(Bool.self, forKey: .multiline) ?? false
        defaultValue = try ColumnSpec.decodeDefault(c, type: type, column: name)
    }

    /// Writes what was declared; defaults are left out, so that a replica's recorded table is the
    /// same text it was before columns had limits.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(type, forKey: .type)
        try c.encode(notNull, forKey: .notNull)
        try c.encodeIfPresent(maxBytes, forKey: .maxBytes)
        if multiline { try c.encode(multiline, forKey: .multiline) }
        switch defaultValue {
        case .text(let text)?: try c.encode(text, forKey: .defaultValue)
        case .integer(let number)?: try c.encode(number, forKey: .defaultValue)
        case .real(let number)?: try c.encode(number, forKey: .defaultValue)
        case .null?, .blob?, nil: break
        }
    }
}
