import BegawiCore
import BegawiRules
import Foundation
import Testing

/// The version a schema file declares: absent is 1, a whole number in range is taken, anything else
/// is refused with what to write; the digest ignores layout but not content.
@Suite struct SchemaVersionTests {
    static func file(version: String?, columns: String = #"{"name": "title"}"#) -> Data {
        let field = version.map { "\"version\": \($0), " } ?? ""
        return Data(#"{\#(field)"tables": [{"name": "courses", "columns": [\#(columns)]}]}"#.utf8)
    }

    @Test func aFileWithoutAVersionIsVersionOne() throws {
        #expect(try SchemaDocument.parse(SchemaVersionTests.file(version: nil)).version == 1)
    }

    @Test func aWholeNumberInRangeIsTheVersion() throws {
        #expect(try SchemaDocument.parse(SchemaVersionTests.file(version: "7")).version == 7)
        #expect(try SchemaDocument.parse(SchemaVersionTests.file(version: "2147483647")).version == 2_147_483_647)
    }

    @Test(arguments: ["0", "-1", "1.5", "\"2\"", "true", "null", "2147483648", "1e30", "99999999999999999999999"])
    func otherValuesAreRefusedWithWhatToWrite(_ value: String) throws {
        let data = SchemaVersionTests.file(version: value)
        if value == "null" {
            // JSON null is the same as leaving the field out.
            #expect(try SchemaDocument.parse(data).version == 1)
            return
        }
        let error = try #require(throws: BegawiError.self) { try SchemaDocument.parse(data) }
        #expect(error.code == .invalidSchema)
        #expect(error.message.contains("\"version\" must be a whole number from 1 to 2147483647"), "\(error.message)")
    }

    @Test func theDigestIgnoresLayoutButNotContent() throws {
        let one = try SchemaDocument.parse(SchemaVersionTests.file(version: "2"))
        let spaced = try SchemaDocument.parse(Data("""
            {
              "comment": "the same tables, laid out otherwise",
              "tables": [ {"name": "courses", "columns": [ {"name": "title", "type": "TEXT"} ]} ],
              "version": 2
            }
            """.utf8))
        #expect(one.digest == spaced.digest)
        let other = try SchemaDocument.parse(SchemaVersionTests.file(version: "2", columns: #"{"name": "title"}, {"name": "room"}"#))
        #expect(one.digest != other.digest)
        let bumped = try SchemaDocument.parse(SchemaVersionTests.file(version: "3"))
        #expect(one.digest != bumped.digest)
    }

    @Test func theProjectSchemaIsVersionOne() throws {
        let path = SchemaDocumentTests.repositoryRoot.appendingPathComponent("config/handak-begawi.json").path
        #expect(try SchemaDocument.load(path: path).version == 1)
    }
}
