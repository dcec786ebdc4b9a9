/// What a column accepts: a bounded size, and text without control characters. Checked by the site
/// before it sends a row and again by the hub, so that no site can pass a value to the others that
/// stalls a page or hides text (a NUL ends a C string; a bare CR or LF starts a new CSV row).
extension ColumnSpec {
    /// The default limit of a text value, in UTF-8 bytes.
    public static let defaultTextBytes = 4096
    /// The default limit of a blob value.
    public static let defaultBlobBytes = 65536
    /// The largest `max_bytes` a schema may declare.
    public static let largestByteLimit = 16 << 20

    /// The most bytes a text or blob value of this column may hold.
    public var byteLimit: Int {
        maxBytes ?? (type.uppercased() == "BLOB" ? ColumnSpec.defaultBlobBytes : ColumnSpec.defaultTextBytes)
    }

    /// Why `value` cannot be stored in this column, or nil when it can. The reason names the column,
    /// a size or a code point, never the value (it may be personal data).
    public func problem(with value: SQLValue) -> String? {
        switch value {
        case .null, .integer, .real:
            return nil
        case .blob(let bytes):
            guard bytes.count > byteLimit else { return nil }
            return "'\(name)' holds \(bytes.count) bytes, more than its limit of \(byteLimit) (max_bytes in the schema); store less"
        case .text(let text):
            let size = text.utf8.count
            if size > byteLimit {
                return "'\(name)' holds \(size) bytes of text, more than its limit of \(byteLimit) (max_bytes in the schema); shorten it"
            }
            guard let bad = ColumnSpec.controlCharacter(in: text, multiline: multiline) else { return nil }
            let code = ColumnSpec.codePoint(bad)
            let lines = multiline ? "" : " (set \"multiline\": true in the schema for a column that holds several lines)"
            return "'\(name)' holds the control character \(code), which no text may hold\(lines); remove it"
        }
    }

    /// A scalar as U+XXXX, for messages that must not repeat the text.
    static func codePoint(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// The first control character `text` may not hold: NUL, C0 controls, DEL and C1 controls; a
    /// multiline value may hold tabs, LF, and CR only as part of CR LF. Checked on UTF-8 bytes (every
    /// value of every batch passes here): CR LF is one `Character`, and so is a control followed by
    /// a combining mark, so a check by `Character` would miss both.
    static func controlCharacter(in text: String, multiline: Bool) -> Unicode.Scalar? {
        var afterCR = false, afterC2 = false
        for byte in text.utf8 {
            if afterCR, byte != 0x0A { return "\r" }
            afterCR = false
            // U+0080–U+009F are C2 80 … C2 9F; C2 is never a continuation byte.
            if afterC2, (0x80...0x9F).contains(byte) { return Unicode.Scalar(byte) }
            afterC2 = byte == 0xC2
            switch byte {
            case 0x09, 0x0A:
                if !multiline { return Unicode.Scalar(byte) }
            case 0x0D:
                if !multiline { return "\r" }
                afterCR = true
            case 0x00...0x1F, 0x7F:
                return Unicode.Scalar(byte)
            default:
                break
            }
        }
        return afterCR ? "\r" : nil
    }
}

extension TableSpec {
    /// The most bytes a row key may hold: a UUID has 36, a key derived from a NIK 33.
    public static let maxKeyBytes = 256

    /// Why `key` cannot name a row of this table, or nil when it can (reasons never repeat the key).
    public func keyProblem(_ key: String) -> String? {
        let size = key.utf8.count
        if size > TableSpec.maxKeyBytes {
            return "a key of '\(name)' has \(size) bytes, more than \(TableSpec.maxKeyBytes); use a UUIDv7 or a key derived from a natural identifier"
        }
        if let bad = ColumnSpec.controlCharacter(in: key, multiline: false) {
            return "a key of '\(name)' holds the control character \(ColumnSpec.codePoint(bad)); use a UUIDv7 or a key derived from a natural identifier"
        }
        return nil
    }
}

extension Schema {
    /// The column as this schema declares it, with its limits, or `installed` when the schema does
    /// not name it: limits come from the schema file in force, not only from when a table was made.
    public func declared(_ installed: ColumnSpec, of table: String) -> ColumnSpec {
        self.table(named: table)?.columns.first { $0.name == installed.name } ?? installed
    }
}
