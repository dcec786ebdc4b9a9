/// A column's default: read from the schema file, checked against the column's type and limits, and
/// written into the DDL as a literal. Every replica gives a row without a value for the column the
/// same default, so replicas that merged the same changes hold the same values.
extension ColumnSpec {
    /// Reads `"default"`: a string or a number (`null` or absent: none). A number is taken as SQLite
    /// stores it in the column (a whole number in a REAL column as a real one, a whole real number in
    /// a NUMERIC column as an integer), so that the value merged and the value SQLite fills agree, and
    /// the declaration reads back the same from a replica's record of it.
    static func decodeDefault(_ c: KeyedDecodingContainer<CodingKeys>, type: String, column: String) throws -> SQLValue? {
        guard c.contains(.defaultValue), try !c.decodeNil(forKey: .defaultValue) else { return nil }
        if let text = try? c.decode(String.self, forKey: .defaultValue) { return .text(text) }
        if let whole = try? c.decode(Int64.self, forKey: .defaultValue) {
            return type.uppercased() == "REAL" ? .real(Double(whole)) : .integer(whole)
        }
        if let number = try? c.decode(Double.self, forKey: .defaultValue), number.isFinite {
            if type.uppercased() == "NUMERIC", let whole = Int64(exactly: number) { return .integer(whole) }
            return .real(number)
        }
        throw BegawiError(.invalidSchema, "column '\(column)': \"default\" must be a string or a number, a constant of the column's type")
    }

    /// Why the declared default cannot be this column's, or nil when it can (or there is none): it must
    /// be of the column's type (text for TEXT, a whole number for INTEGER, a number for REAL and
    /// NUMERIC; a BLOB has none) and fit the column's limits.
    public var defaultProblem: String? {
        guard let value = defaultValue else { return nil }
        let type = self.type.uppercased()
        switch (type, value) {
        case ("INTEGER", .integer(.min)), ("NUMERIC", .integer(.min)):
            // SQLite reads the literal's digits as a real number before the sign.
            return "its default must be \(Int64.min + 1) or more"
        case ("TEXT", .text), ("INTEGER", .integer), ("REAL", .real), ("NUMERIC", .integer), ("NUMERIC", .real):
            guard let problem = problem(with: value) else { return nil }
            return "its default does not fit: \(problem)"
        case ("BLOB", _):
            return "a BLOB column cannot have a default; leave \"default\" out"
        default:
            let wanted = ["TEXT": "a string", "INTEGER": "a whole number"][type] ?? "a number"
            return "its default must be \(wanted), the column being \(type)"
        }
    }

    /// The default as an SQL literal for `DEFAULT`, or nil when there is none: text quoted with each
    /// `'` doubled, numbers as Swift writes them. Only a default `defaultProblem` accepts reaches DDL,
    /// so text holds no control character.
    public var defaultLiteral: String? {
        switch defaultValue {
        case .text(let text)?: "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
        case .integer(let number)?: "\(number)"
        case .real(let number)?: number.isFinite ? "\(number)" : nil
        case .null?, .blob?, nil: nil
        }
    }

    /// The value of the column in a row without a register for it: its default, else NULL.
    public var absentValue: SQLValue { defaultValue ?? .null }
}
