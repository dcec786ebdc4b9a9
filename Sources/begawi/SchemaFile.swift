import BegawiCore
import Foundation

/// Reads a declared schema (`config/schema.example.json`) with errors that name the file.
enum SchemaFile {
    static func load(_ path: String) throws -> Schema {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BegawiError(.invalidArgument, "cannot read the schema file \(path); check the path")
        }
        let schema: Schema
        do {
            schema = try JSONDecoder().decode(Schema.self, from: data)
        } catch let DecodingError.dataCorrupted(context) {
            throw BegawiError(.invalidSchema, "\(path) is not valid JSON: \(context.debugDescription)")
        } catch let DecodingError.keyNotFound(key, context) {
            throw BegawiError(.invalidSchema, "\(path): '\(key.stringValue)' is missing at \(context.codingPath.map(\.stringValue).joined(separator: "."))")
        } catch {
            throw BegawiError(.invalidSchema, "\(path) is not a Begawi schema: \(error)")
        }
        try schema.validate()
        return schema
    }
}
