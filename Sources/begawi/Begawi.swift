import ArgumentParser

/// The one executable: `begawi replica …` now; `begawi hub …` and `begawi site …` come with the daemon.
@main
struct Begawi: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "begawi",
        abstract: "Keeps the Handak Begawi partners' SQLite replicas in step.",
        version: "0.1.0",
        subcommands: [ReplicaCommand.self, DemoCommand.self, VersionCommand.self])
}
