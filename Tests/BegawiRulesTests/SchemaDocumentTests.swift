import BegawiCore
import BegawiRules
import Foundation
import Testing

/// Reading the rules beside the tables: the project's schema file, a schema without rules, and a
/// refusal naming the table for each kind of rule that does not fit.
@Suite struct SchemaDocumentTests {
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    @Test func handakBegawiSchemaParsesWithRulesForEveryTable() throws {
        let path = SchemaDocumentTests.repositoryRoot.appendingPathComponent("config/handak-begawi.json").path
        let document = try SchemaDocument.load(path: path)
        let names: Set<String> = ["partners", "participants", "programs", "enrollments", "certifications", "placements", "vacancies"]
        #expect(Set(document.schema.tables.map(\.name)) == names)
        let policy = try #require(document.policy)
        #expect(Set(policy.tables.keys) == names)

        #expect(policy["partners"]?.owner == TableAccess.Owner.none)
        #expect(policy["partners"]?.writers == [])
        #expect(policy.isCatalogue("partners"))
        #expect(policy["participants"]?.owner == .column("registered_by"))
        #expect(policy["participants"]?.writers == [.lpk, .blki, .bplk])
        #expect(policy["participants"]?.officeOnly == ["verified_on"])
        #expect(policy["participants"]?.derivedKey == TableAccess.DerivedKey(column: "nik", check: "nik", salt: "handak-begawi-bontang-v1"))
        #expect(Set(policy["participants"]?.linkedBy.map(\.table) ?? []) == ["enrollments", "placements", "certifications"])
        #expect(policy["programs"]?.owner == .column("provider"))
        #expect(policy.isCatalogue("programs"))
        #expect(policy["enrollments"]?.owner == .via(column: "program_id", table: "programs"))
        #expect(policy["certifications"]?.owner == .column("recorded_by"))
        #expect(policy["placements"]?.writers == [.company])
        #expect(policy["vacancies"]?.writers == [.company])
        #expect(policy.isCatalogue("vacancies"))
        for linked in ["participants", "enrollments", "certifications", "placements"] {
            #expect(!policy.isCatalogue(linked))
        }
        // Parsing the same text twice gives the same rules.
        let again = try SchemaDocument.parse(try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(again.policy?.digest == policy.digest)
    }

    @Test func schemaWithoutAccessHasNoPolicy() throws {
        let text = """
            {"tables": [
              {"name": "people", "columns": [{"name": "nik"}, {"name": "owner"}]},
              {"name": "courses", "columns": [{"name": "provider"}, {"name": "title"}]}
            ]}
            """
        let document = try SchemaDocument.parse(Data(text.utf8))
        #expect(document.policy == nil)
        #expect(document.schema.tables.count == 2)
    }

    // MARK: refusals

    /// Access objects of a small schema that fits: people (key from a NIK), courses (a catalogue),
    /// seats (owned through the course).
    static let fitting: [String: String?] = [
        "people": """
            {"owner": "owner", "writers": ["lpk"], "office_only": ["checked_on"], "receivers": "linked",
             "linked_by": [{"table": "seats", "column": "person_id"}],
             "key_from": {"column": "nik", "check": "nik", "salt": "s"}, "comment": "people"}
            """,
        "courses": """
            {"owner": "provider", "writers": ["lpk", "blki"], "receivers": "all", "values": {"level": ["basic", "advanced"]}}
            """,
        "seats": """
            {"owner": {"via": "course_id", "table": "courses"}, "writers": ["lpk"], "receivers": "linked"}
            """,
    ]

    /// The schema text with some tables' access objects replaced (nil leaves the table without one).
    static func schema(_ changes: [String: String?] = [:]) -> Data {
        let columns = [
            "people": ["nik", "owner", "checked_on"],
            "courses": ["provider", "title", "level"],
            "seats": ["person_id", "course_id"],
        ]
        var tables: [String] = []
        for name in ["people", "courses", "seats"] {
            let access = changes.keys.contains(name) ? changes[name]! : fitting[name]!
            let list = columns[name]!.map { "{\"name\": \"\($0)\", \"type\": \"TEXT\"}" }.joined(separator: ", ")
            tables.append("{\"name\": \"\(name)\", \"columns\": [\(list)]" + (access.map { ", \"access\": \($0)" } ?? "") + "}")
        }
        return Data("{\"tables\": [\(tables.joined(separator: ",\n"))]}".utf8)
    }

    @Test func fittingSchemaParses() throws {
        let policy = try #require(try SchemaDocument.parse(SchemaDocumentTests.schema()).policy)
        #expect(policy.tables.count == 3)
        #expect(policy["seats"]?.owner == .via(column: "course_id", table: "courses"))
        #expect(policy["people"]?.linkedBy == [TableAccess.Link(table: "seats", column: "person_id")])
        #expect(policy["courses"]?.allowedValues["level"] == ["basic", "advanced"])
    }

    /// Each refusal: the table to change, its new access object, the table the message must name,
    /// and a word of the message that says what is wrong.
    static let refusals: [(name: String, table: String, access: String?, named: String, mentions: String)] = [
        ("unknown key", "people", """
            {"owner": "owner", "writers": ["lpk"], "ownr": "owner", "office_only": ["checked_on"],
             "linked_by": [{"table": "seats", "column": "person_id"}], "key_from": {"column": "nik", "check": "nik", "salt": "s"}}
            """, "people", "ownr"),
        ("owner column is not a column", "courses", """
            {"owner": "teacher", "writers": ["lpk"], "receivers": "all"}
            """, "courses", "teacher"),
        ("owner reference to a table that is not declared", "seats", """
            {"owner": {"via": "course_id", "table": "rooms"}, "writers": ["lpk"]}
            """, "seats", "rooms"),
        ("owner reference to itself", "seats", """
            {"owner": {"via": "course_id", "table": "seats"}, "writers": ["lpk"]}
            """, "seats", "owner reference"),
        ("owner reference column is not a column", "seats", """
            {"owner": {"via": "class_id", "table": "courses"}, "writers": ["lpk"]}
            """, "seats", "class_id"),
        ("writers without an owner", "courses", """
            {"writers": ["lpk"], "receivers": "all"}
            """, "courses", "writers"),
        ("unknown writer kind", "courses", """
            {"owner": "provider", "writers": ["lpk", "school"], "receivers": "all"}
            """, "courses", "school"),
        ("office as a writer kind", "courses", """
            {"owner": "provider", "writers": ["office"], "receivers": "all"}
            """, "courses", "office"),
        ("a table without access when others have one", "seats", nil, "seats", "access"),
        ("linked_by names an unknown table", "people", """
            {"owner": "owner", "writers": ["lpk"], "linked_by": [{"table": "rooms", "column": "person_id"}],
             "key_from": {"column": "nik", "check": "nik", "salt": "s"}}
            """, "people", "rooms"),
        ("linked_by names an unknown column", "people", """
            {"owner": "owner", "writers": ["lpk"], "linked_by": [{"table": "seats", "column": "who"}],
             "key_from": {"column": "nik", "check": "nik", "salt": "s"}}
            """, "people", "who"),
        ("key_from with an unknown check", "people", """
            {"owner": "owner", "writers": ["lpk"], "key_from": {"column": "nik", "check": "ssn", "salt": "s"}}
            """, "people", "ssn"),
        ("key_from with an unknown column", "people", """
            {"owner": "owner", "writers": ["lpk"], "key_from": {"column": "ktp", "check": "nik", "salt": "s"}}
            """, "people", "ktp"),
        ("key_from with an empty salt", "people", """
            {"owner": "owner", "writers": ["lpk"], "key_from": {"column": "nik", "check": "nik", "salt": ""}}
            """, "people", "salt"),
        ("office-only column is not a column", "people", """
            {"owner": "owner", "writers": ["lpk"], "office_only": ["approved_on"]}
            """, "people", "approved_on"),
        ("the owner column is office-only", "people", """
            {"owner": "owner", "writers": ["lpk"], "office_only": ["owner"]}
            """, "people", "office-only"),
        ("owner reference to a table owned by reference", "courses", """
            {"owner": {"via": "provider", "table": "people"}, "writers": ["lpk"], "receivers": "all"}
            """, "seats", "reference"),
        ("a catalogue with linked_by", "courses", """
            {"owner": "provider", "writers": ["lpk"], "receivers": "all", "linked_by": [{"table": "seats", "column": "course_id"}]}
            """, "courses", "linked_by"),
        ("access is not an object", "courses", "[]", "courses", "object"),
        ("receivers neither all nor linked", "courses", """
            {"owner": "provider", "writers": ["lpk"], "receivers": "some"}
            """, "courses", "receivers"),
        ("values of a column that does not exist", "courses", """
            {"owner": "provider", "writers": ["lpk"], "receivers": "all", "values": {"grade": ["a"]}}
            """, "courses", "grade"),
    ]

    @Test(arguments: SchemaDocumentTests.refusals.map { $0.name }) func refusesRuleThatDoesNotFit(_ name: String) throws {
        let refusal = SchemaDocumentTests.refusals.first { $0.name == name }!
        let data = SchemaDocumentTests.schema([refusal.table: refusal.access])
        do {
            let document = try SchemaDocument.parse(data)
            Issue.record("\(name): parsed, with \(document.policy?.tables.count ?? 0) tables of rules")
        } catch let error as BegawiError {
            #expect(error.code == .invalidSchema, "\(name)")
            #expect(error.message.contains("'\(refusal.named)'"), "\(name): \(error.message)")
            #expect(error.message.contains(refusal.mentions), "\(name): \(error.message)")
        }
    }
}
