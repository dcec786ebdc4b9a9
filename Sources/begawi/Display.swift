import BegawiCore

/// How values are shown to a person at a terminal.
enum Display {
    static func value(_ v: SQLValue) -> String {
        switch v {
        case .null: "NULL"
        case .integer(let x): String(x)
        case .real(let x): String(x)
        case .text(let s): "'\(s)'"
        case .blob(let b): "<\(b.count) bytes>"
        }
    }
}
