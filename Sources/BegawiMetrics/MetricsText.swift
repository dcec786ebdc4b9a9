/// Writes Prometheus' text exposition format (version 0.0.4): for each metric family a `# HELP`
/// and a `# TYPE` line, then its samples, one per line.
public struct MetricsText: Sendable {
    /// The page so far.
    public private(set) var text = ""

    /// Makes an empty page.
    public init() {}

    /// The kind of a metric family.
    public enum Kind: String, Sendable {
        case counter, gauge, histogram
    }

    /// One sample: a value with its labels; `suffix` extends the family's name (`_bucket`, `_sum`, `_count`).
    public struct Sample: Sendable {
        public var labels: [(String, String)]
        public var value: Double
        public var suffix: String

        /// Makes a sample.
        public init(_ value: Double, labels: [(String, String)] = [], suffix: String = "") {
            self.labels = labels
            self.value = value
            self.suffix = suffix
        }
    }

    /// Appends a family. A family without samples is still described, so that dashboards find it.
    public mutating func add(_ name: String, _ kind: Kind, help: String, _ samples: [Sample]) {
        text += "# HELP \(name) \(MetricsText.escapeHelp(help))\n# TYPE \(name) \(kind.rawValue)\n"
        for sample in samples {
            text += name + sample.suffix
            if !sample.labels.isEmpty {
                text += "{" + sample.labels.map { "\($0.0)=\"\(MetricsText.escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
            }
            text += " " + MetricsText.format(sample.value) + "\n"
        }
    }

    /// Appends a family with one unlabelled sample.
    public mutating func add(_ name: String, _ kind: Kind, help: String, value: Double) {
        add(name, kind, help: help, [Sample(value)])
    }

    /// A value as Prometheus reads it: whole numbers without a fraction, `+Inf`, `-Inf`, `NaN`.
    public static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// A label value as the exposition format reads it: `\`, `"` and line feed escaped, by Unicode
    /// scalars (a `Character` hides a quote under a combining mark, and takes CR LF as one).
    static func escapeLabel(_ text: String) -> String {
        escape(text, quote: true)
    }

    /// HELP text: `\` and line feed escaped.
    static func escapeHelp(_ text: String) -> String {
        escape(text, quote: false)
    }

    static func escape(_ text: String, quote: Bool) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out.append(contentsOf: "\\\\".unicodeScalars)
            case "\"" where quote: out.append(contentsOf: "\\\"".unicodeScalars)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            default: out.append(scalar)
            }
        }
        return String(out)
    }

    /// The content type of the page.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
}
