import ArgumentParser
import BegawiDemo

/// `begawi demo`: the options; the story itself is in BegawiDemo.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Show Begawi at work for the labour office: a hub and four sites over HTTPS, offline work, a second registration, a conflict, the report, and agreement.")

    @Option(help: "The declared schema with the rules between agencies (JSON); by default handak-begawi.json from config/ or the installed share/begawi/.") var schema: String?
    @Flag(help: "Keep the temporary folder, and keep the hub running for the office's dashboard until Ctrl-C.") var keep = false

    func run() async throws {
        let schema = try SchemaFile.path(schema, default: "handak-begawi.json")
        let demo = try Demo(schema: schema, policy: try SchemaFile.policy(schema), keep: keep, executable: SchemaFile.executable, show: Display.value)
        guard try await demo.run() else { throw ExitCode(1) }
    }
}
