import Mustache

/// The dashboard's templates (`OfficeTemplates`), parsed once, each behind the pragma that makes
/// `{{value}}` escape by `OfficeEscaping`.
struct OfficePages: Sendable {
    let library: MustacheLibrary

    /// The pragma every template starts with: Mustache's own HTML escaping goes by `Character`.
    static let pragma = "{{% CONTENT_TYPE: \(OfficeEscaping.name)}}"

    /// Mustache's table of content types is the process's: filled once, before the first parse.
    static let escaping: Void = MustacheContentTypes.register(OfficeEscaping(), named: OfficeEscaping.name)

    /// Parses the templates; throws only when one of them is not valid Mustache (a test parses them all).
    init() throws {
        _ = OfficePages.escaping
        var library = MustacheLibrary()
        for (name, text) in OfficeTemplates.all {
            try library.register(OfficePages.pragma + text, named: name)
        }
        self.library = library
    }

    /// A page: the template of this name over the view's values.
    func render(_ name: String, _ view: Any) -> String {
        library.render(view, withTemplate: name) ?? ""
    }

    /// A template given as text, with the dashboard's escaping and partials (for tests).
    func render(template text: String, _ view: Any) throws -> String {
        try MustacheTemplate(string: OfficePages.pragma + text).render(view, library: library)
    }
}
