import BegawiCore

/// Who owns, writes and receives the rows of one table: declared beside the table in the schema file.
public struct TableAccess: Hashable, Sendable {
    /// How a row names the site that owns it.
    public enum Owner: Hashable, Sendable {
        /// No site owns the rows: only the office writes them.
        case none
        /// A column of the row holds the owning site's id.
        case column(String)
        /// The row belongs to whoever owns the row its `column` references in `table`.
        case via(column: String, table: String)
    }

    /// Which sites receive a row, besides the office (which receives everything).
    public enum Receivers: String, Hashable, Sendable {
        /// Every site: a catalogue table.
        case all
        /// The owner and the sites linked through `linkedBy`.
        case linked
    }

    /// A table whose rows give their owner sight of the row they reference.
    public struct Link: Hashable, Sendable {
        /// The referencing table.
        public var table: String
        /// Its column holding this table's key.
        public var column: String
        /// Makes a link.
        public init(table: String, column: String) {
            self.table = table
            self.column = column
        }
    }

    /// A key derived from a natural identifier, checked before anything is synced.
    public struct DerivedKey: Hashable, Sendable {
        /// The column holding the identifier.
        public var column: String
        /// The check applied to it ("nik").
        public var check: String
        /// The programme's salt for the key derivation.
        public var salt: String
        /// Makes a derived key rule.
        public init(column: String, check: String, salt: String) {
            self.column = column
            self.check = check
            self.salt = salt
        }
    }

    /// The table's name.
    public var table: String
    /// How a row names its owner.
    public var owner: Owner
    /// Site kinds that may insert, update and delete the rows they own (the office always may).
    public var writers: Set<SiteKind>
    /// Columns only the office may set.
    public var officeOnly: Set<String>
    /// Who receives the rows.
    public var receivers: Receivers
    /// Tables whose rows link their owners to a row of this one.
    public var linkedBy: [Link]
    /// Allowed values per column (NULL is always allowed unless the column is NOT NULL).
    public var allowedValues: [String: Set<String>]
    /// The derived key, if the table's key comes from a natural identifier.
    public var derivedKey: DerivedKey?
    /// Columns that, alike (ignoring case and spaces) with identifiers a few digits apart, mark two
    /// rows as likely one person registered twice (`begawi hub duplicates`); empty when not declared.
    public var duplicateColumns: [String]

    /// Makes the rules of a table.
    public init(table: String, owner: Owner, writers: Set<SiteKind>, officeOnly: Set<String> = [], receivers: Receivers,
                linkedBy: [Link] = [], allowedValues: [String: Set<String>] = [:], derivedKey: DerivedKey? = nil,
                duplicateColumns: [String] = []) {
        self.table = table
        self.owner = owner
        self.writers = writers
        self.officeOnly = officeOnly
        self.receivers = receivers
        self.linkedBy = linkedBy
        self.allowedValues = allowedValues
        self.derivedKey = derivedKey
        self.duplicateColumns = duplicateColumns
    }

    /// The column that names the owner directly, if there is one.
    public var ownerColumn: String? {
        if case .column(let c) = owner { return c }
        return nil
    }
}
