@testable import BegawiCore
import Foundation
import Testing

/// What a column accepts (issue 12, items 6 and 8): a bounded size, by UTF-8 bytes, and no control
/// characters, judged on Unicode scalars (CR LF and a control with a combining mark are one
/// `Character` each).
@Suite struct ColumnValueTests {
    static let line = ColumnSpec(name: "title")
    static let lines = ColumnSpec(name: "notes", multiline: true)

    @Test func textUpToItsLimitInBytes() {
        #expect(Self.line.byteLimit == 4096)
        #expect(Self.line.problem(with: .text(String(repeating: "a", count: 4096))) == nil)
        let over = Self.line.problem(with: .text(String(repeating: "a", count: 4097)))
        #expect(over?.contains("4097") == true && over?.contains("4096") == true, "\(over ?? "")")
        // Bytes, not characters: 1,366 three-byte letters are 4,098 bytes.
        #expect(Self.line.problem(with: .text(String(repeating: "ᬅ", count: 1365))) == nil)
        #expect(Self.line.problem(with: .text(String(repeating: "ᬅ", count: 1366))) != nil)
        #expect(Self.line.problem(with: .text("")) == nil)
        let small = ColumnSpec(name: "code", maxBytes: 3)
        #expect(small.problem(with: .text("abc")) == nil)
        #expect(small.problem(with: .text("abcd")) != nil)
        // Numbers and NULL have no size to judge.
        #expect(small.problem(with: .integer(Int64.max)) == nil && small.problem(with: .real(1e300)) == nil && small.problem(with: .null) == nil)
    }

    @Test func blobsUpToTheirLimit() {
        let blob = ColumnSpec(name: "photo", type: "BLOB")
        #expect(blob.byteLimit == 65536)
        #expect(blob.problem(with: .blob([UInt8](repeating: 0, count: 65536))) == nil)
        #expect(blob.problem(with: .blob([UInt8](repeating: 0, count: 65537))) != nil)
        // A blob in a TEXT column (SQLite allows it) has the column's limit.
        #expect(Self.line.problem(with: .blob([UInt8](repeating: 0, count: 4097))) != nil)
    }

    @Test(arguments: [
        ("NUL", "Pelatihan\u{0}rahasia", false, false, "U+0000"),
        ("bare CR", "Las\r=cmd|' /C calc'!A0", false, false, "U+000D"),
        ("bare LF", "Las\n=cmd|' /C calc'!A0", false, true, "U+000A"),
        ("CR LF", "baris satu\r\nbaris dua", false, true, "U+000D"),
        ("tab", "a\tb", false, true, "U+0009"),
        ("DEL", "a\u{7F}b", false, false, "U+007F"),
        ("C1 NEL", "a\u{85}b", false, false, "U+0085"),
        ("C1 CSI", "a\u{9B}b", false, false, "U+009B"),
        ("ESC", "a\u{1B}[2Jb", false, false, "U+001B"),
        ("CR at the end", "a\r", false, false, "U+000D"),
        ("CR then a combining mark", "a\r\u{301}b", false, false, "U+000D"),
        ("right-to-left override", "Pelatihan \u{202E}fdp.exe", true, true, ""),
        ("bidi isolates and marks", "\u{2066}a\u{2069}\u{200E}\u{200F}", true, true, ""),
        ("a quote with a combining mark", "zz\"\u{301} x", true, true, ""),
        ("plain", "Las listrik dasar", true, true, ""),
    ] as [(String, String, Bool, Bool, String)])
    func controlCharacters(_ what: String, _ text: String, _ singleLineAccepts: Bool, _ multilineAccepts: Bool, _ code: String) {
        let single = Self.line.problem(with: .text(text))
        let multi = Self.lines.problem(with: .text(text))
        #expect((single == nil) == singleLineAccepts, "\(what), single line: \(single ?? "accepted")")
        #expect((multi == nil) == multilineAccepts, "\(what), multiline: \(multi ?? "accepted")")
        if !code.isEmpty, let single { #expect(single.contains(code), "\(what): \(single)") }
        // The reason names the column and the code point, never the value.
        for message in [single, multi].compactMap({ $0 }) {
            #expect(!message.contains("Pelatihan") && !message.contains("calc") && !message.contains("baris"), "\(message)")
        }
    }

    @Test func declaredInTheSchemaFile() throws {
        let json = """
            {"tables": [{"name": "programs", "columns": [
              {"name": "title", "max_bytes": 200}, {"name": "notes", "multiline": true}, {"name": "quota", "type": "INTEGER"}]}]}
            """
        let schema = try JSONDecoder().decode(Schema.self, from: Data(json.utf8))
        try schema.validate()
        let columns = schema.tables[0].columns
        #expect(columns[0].maxBytes == 200 && !columns[0].multiline && columns[0].byteLimit == 200)
        #expect(columns[1].maxBytes == nil && columns[1].multiline && columns[1].byteLimit == 4096)
        // Defaults are not written: a table recorded before limits existed is the same text.
        let plain = String(decoding: try JSONEncoder().encode(ColumnSpec(name: "a")), as: UTF8.self)
        #expect(!plain.contains("max_bytes") && !plain.contains("multiline"), "\(plain)")
        #expect(try JSONDecoder().decode(Schema.self, from: try JSONEncoder().encode(schema)) == schema)
    }

    @Test(arguments: ["0", "-1", "16777217", "9223372036854775807"])
    func unusableLimitsAreRefused(_ limit: String) throws {
        let json = #"{"tables": [{"name": "t", "columns": [{"name": "a", "max_bytes": \#(limit)}]}]}"#
        let error = try #require(throws: BegawiError.self) {
            try JSONDecoder().decode(Schema.self, from: Data(json.utf8)).validate()
        }
        #expect(error.code == .invalidSchema && error.message.contains("max_bytes"), "\(error)")
    }

    @Test(arguments: ["9223372036854775808", "1e400", "\"big\"", "4096.5"])
    func limitsThatAreNotWholeNumbersAreRefusedWithoutATrap(_ limit: String) {
        let json = #"{"tables": [{"name": "t", "columns": [{"name": "a", "max_bytes": \#(limit)}]}]}"#
        #expect(throws: (any Error).self) { try JSONDecoder().decode(Schema.self, from: Data(json.utf8)) }
    }

    @Test func keys() {
        let table = TableSpec(name: "programs", columns: [ColumnSpec(name: "title")])
        #expect(table.keyProblem("0190b0a2-8f3c-7a10-9b2e-4c5d6e7f8091") == nil)
        #expect(table.keyProblem(String(repeating: "k", count: TableSpec.maxKeyBytes)) == nil)
        #expect(table.keyProblem(String(repeating: "k", count: TableSpec.maxKeyBytes + 1)) != nil)
        for bad in ["a\u{0}b", "a\nb", "a\r\nb", "a\tb", "a\u{85}"] { #expect(table.keyProblem(bad) != nil, "\(bad.unicodeScalars.map(\.value))") }
    }

    /// The check runs on UTF-8 bytes for speed; it agrees with a plain one on Unicode scalars.
    @Test func theByteCheckAgreesWithAScalarCheck() {
        func reference(_ text: String, _ multiline: Bool) -> Bool {
            let scalars = Array(text.unicodeScalars)
            for (i, s) in scalars.enumerated() {
                switch s.value {
                case 0x09, 0x0A: if !multiline { return false }
                case 0x0D: if !multiline || i + 1 == scalars.count || scalars[i + 1] != "\n" { return false }
                case 0x00...0x1F, 0x7F...0x9F: return false
                default: break
                }
            }
            return true
        }
        let pool: [Unicode.Scalar] = ["a", "\"", "\u{0}", "\t", "\n", "\r", "\u{1B}", "\u{7F}", "\u{80}", "\u{85}", "\u{9F}", "\u{A0}",
                                      "\u{C2}", "\u{100}", "\u{301}", "\u{202E}", "\u{1B05}", "\u{1F600}"]
        var random = SplitMix64(seed: 0xC0_1E)
        for _ in 0..<20_000 {
            var text = ""
            for _ in 0..<Int.random(in: 0...6, using: &random) { text.unicodeScalars.append(pool.randomElement(using: &random)!) }
            for multiline in [false, true] {
                #expect((ColumnSpec.controlCharacter(in: text, multiline: multiline) == nil) == reference(text, multiline),
                        "\(text.unicodeScalars.map { $0.value }) multiline \(multiline)")
            }
        }
    }
}
